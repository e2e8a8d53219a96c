// The built package as users get it: `import 'lepton'` from dist/ in plain
// Node (no loader hooks), a browser bundle of it with no Node deps, and the
// packed tarball installed in a fresh project (what it carries, its size,
// the message when a Node user asks for WebGPU without Dawn's package).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DAWN_PACKAGE } from '../src/backends/webgpu/gpu.js';
import { packed, root } from './helpers/packed.js';

test('dist/ exists with types (npm run build)', () => {
  assert.ok(existsSync(`${root}dist/index.js`), 'dist/index.js missing: run npm run build');
  assert.ok(existsSync(`${root}dist/types/index.d.ts`), 'dist/types/index.d.ts missing');
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  assert.is(pkg.exports['.'].default, './dist/index.js');
});

test("import 'lepton' in plain Node trains a tiny model on WASM", () => {
  const script = `
    import { init, tensor, nn, optim, scope, data } from 'lepton';
    const dev = await init({ backend: 'wasm' });
    const set = data.spiral(30, { seed: 3 });
    const model = new nn.MLP([2, 16, 3], { seed: 1 });
    const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
    const losses = [];
    for (let i = 0; i < 60; i++) {
      const l = scope(() => { const l = nn.crossEntropy(model.forward(tensor(set.x, [set.n, 2])), set.y); opt.zeroGrad(); l.backward(); opt.step(); return l; });
      losses.push(await l.item()); l.dispose();
    }
    console.log(JSON.stringify({ dev, first: losses[0], last: losses.at(-1) }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!);
  assert.is(r.dev, 'wasm');
  assert.ok(r.last < r.first * 0.7, `loss should fall: ${r.first} -> ${r.last}`);
});

test('the package bundles for browsers with nothing from Node', async () => {
  const esbuild = await import('esbuild');
  const res = await esbuild.build({
    stdin: { contents: "import { init } from 'lepton'; init();", resolveDir: root },
    bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', metafile: true,
    tsconfigRaw: '{}', // resolve 'lepton' through package.json exports (dist/), not the dev tsconfig paths
  });
  const inputs = Object.keys(res.metafile!.inputs);
  assert.ok(inputs.every((f) => !f.includes('node_modules')), `the browser bundle pulled in ${inputs.filter((f) => f.includes('node_modules'))}`);
  assert.ok(res.outputFiles[0].text.length > 10000);
});

// The budget is part of the package's contract, like its API: 175 KB since the conv, attention,
// norm, embedding and cross-entropy kernel families joined (159 KB measured, 2 WASM modules + WGSL;
// 170 KB with the toolkit's gather family, integer-data rule and printing; 177.7 KB when the
// faster attention kernels, the sequence layers and ONNX sequence export joined, 95.6 KB of it the
// two Wasm modules as base64, which no bundler can shake). 185 KB since; 190 KB since the
// Winograd 3×3 convolution, the depthwise row passes and the WebGPU depthwise kernel joined
// (185.9 KB measured: 2-2.6x faster 1-thread conv forwards for about 2.5 KB).
const BUNDLE_BUDGET_GZIP = 190_000;
const TRAINING_CONSUMER = `import { init, tensor, nn, optim, scope } from 'lepton';
await init();
const model = new nn.MLP([2, 32, 3]);
const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
const x = tensor([[0, 1], [1, 0]]);
for (let i = 0; i < 10; i++) {
  const loss = scope(() => { const l = nn.crossEntropy(model.forward(x), [0, 1]); opt.zeroGrad(); l.backward(); opt.step(); return l; });
  console.log(await loss.item());
  loss.dispose();
}`;

test(`a training consumer's browser bundle is one file under ${BUNDLE_BUDGET_GZIP / 1000} KB gzipped`, async () => {
  const esbuild = await import('esbuild');
  const res = await esbuild.build({
    stdin: { contents: TRAINING_CONSUMER, resolveDir: root }, tsconfigRaw: '{}',
    bundle: true, platform: 'browser', format: 'esm', target: 'es2022', minify: true, write: false, logLevel: 'silent', outdir: 'out',
  });
  assert.equal(res.outputFiles.map((f) => f.path.split('/').pop()), ['stdin.js'], 'the bundle should need no other file');
  const js = res.outputFiles[0];
  const gzip = gzipSync(js.contents).length;
  // The embedded Wasm: base64 strings of the gzipped modules (esbuild's binary loader).
  const wasm = (js.text.match(/"[A-Za-z0-9+/]{4000,}={0,2}"/g) ?? []).reduce((n, s) => n + s.length - 2, 0);
  console.log(`  training consumer, browser bundle: ${(js.contents.length / 1000).toFixed(1)} KB minified, `
    + `${(gzip / 1000).toFixed(1)} KB gzipped (of which ${(wasm / 1000).toFixed(1)} KB base64 Wasm before gzip)`);
  assert.ok(gzip < BUNDLE_BUDGET_GZIP, `the bundle is ${gzip} bytes gzipped; the budget is ${BUNDLE_BUDGET_GZIP}`);
});

test('the tarball carries dist/ (JS, source map, types), README.md and LICENSE, not the sources', () => {
  const { files } = packed();
  for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.js.map', 'dist/types/index.d.ts']) {
    assert.ok(files.includes(f), `${f} is missing from the tarball`);
  }
  const stray = files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(f));
  assert.equal(stray, [], `files outside dist/ in the tarball: ${stray.join(', ')}`);
  const map = JSON.parse(readFileSync(join(root, 'dist/index.js.map'), 'utf8')) as { sourcesContent?: string[] };
  assert.ok(map.sourcesContent?.length, 'the source map should carry the sources the tarball leaves out');
  assert.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /MIT License\s+Copyright \(c\) 2026 the lepton authors/);
});

test('an install is small: no dependencies, Dawn only as an optional peer', () => {
  const { consumer } = packed();
  const pkg = JSON.parse(readFileSync(join(consumer, 'node_modules/lepton/package.json'), 'utf8'));
  assert.is(pkg.dependencies, undefined);
  assert.is(pkg.optionalDependencies, undefined);
  assert.ok(pkg.peerDependenciesMeta?.webgpu?.optional, 'webgpu should be an optional peer dependency');
  assert.ok(!existsSync(join(consumer, 'node_modules/webgpu')), 'npm installed webgpu although it is optional');
  const bytes = (dir: string): number => readdirSync(dir, { withFileTypes: true })
    .reduce((n, e) => n + (e.isDirectory() ? bytes(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
  const installed = bytes(join(consumer, 'node_modules'));
  console.log(`  installed: ${(installed / 1e6).toFixed(2)} MB`);
  assert.ok(installed < 3e6, `npm i lepton installs ${installed} bytes`);
});

test('the tarball names the Dawn release it is tested with, and the peer range admits it', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.is(DAWN_PACKAGE, `webgpu@${pkg.devDependencies.webgpu}`);
  const [major, minor] = pkg.devDependencies.webgpu.split('.');
  assert.is(pkg.peerDependencies.webgpu, `^${pkg.devDependencies.webgpu}`);
  assert.ok(major === '0' && minor !== undefined); // ^0.x.y pins the minor version, as Dawn's releases break at minors
});

test("the tarball's install-time scripts run harmlessly where the sources are absent", () => {
  const dir = join(packed().consumer, 'node_modules/lepton');
  const { scripts } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const hook of ['preinstall', 'install', 'postinstall']) assert.is(scripts[hook], undefined, `${hook} script shipped`);
  // prepare builds a clone (npm ci); in the installed package it must do nothing, successfully.
  const r = spawnSync('npm', ['run', 'prepare', '--silent'], { cwd: dir, encoding: 'utf8' });
  assert.is(r.status, 0, `npm run prepare in the installed package: ${r.stderr}`);
  assert.ok(!existsSync(join(dir, 'build')), 'prepare built something in the installed package');
});

test("init({ backend: 'webgpu' }) in Node without Dawn's package names the install command", () => {
  const { consumer } = packed();
  const script = `
    import { init, LeptonError } from 'lepton';
    try { await init({ backend: 'webgpu' }); console.log('no error'); }
    catch (e) { console.log(JSON.stringify({ lepton: e instanceof LeptonError, message: e.message })); }`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer, encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!);
  assert.ok(r.lepton, `not a LeptonError: ${out}`);
  assert.ok(r.message.includes(`npm i ${DAWN_PACKAGE}`), r.message);
});

test.run();
