// The built package as users get it: `import 'lepton'` from dist/ in plain
// Node (no loader hooks), and a browser bundle of it with no Node deps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

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

test.run();
