// Builds the package: the primitives' declarations -> build/gen/ (WGSL and
// AssemblyScript), AssemblyScript kernels -> build/*.wasm (four modules:
// SIMD128 / relaxed SIMD, private / shared memory; plus the bench's ceiling
// loops), then one ESM bundle (dist/index.js) that embeds every .wgsl file as
// text and every .wasm module as bytes, then the type declarations (dist/types).
//   node tools/build.mjs          everything
//   node tools/build.mjs wasm     only the Wasm modules (tests import them)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
const only = process.argv[2];

mkdirSync(new URL('../build', import.meta.url), { recursive: true });
// The kernels' constants and structs, generated from the primitive declarations (build/gen/).
run(process.execPath, ['--import', 'tsx', 'tools/gen-kernels.ts']);
const targets = Object.keys(JSON.parse(readFileSync(new URL('../asconfig.json', import.meta.url), 'utf8')).targets);
for (const target of targets) run(bin('asc'), ['kernels-as/index.ts', '--config', 'asconfig.json', '--target', target, '--bindings', 'raw']);
// The exports' TypeScript interface, from asc's bindings of the first module (all four export the same).
const firstOut = JSON.parse(readFileSync(new URL('../asconfig.json', import.meta.url), 'utf8')).targets[targets[0]].outFile;
run(process.execPath, ['tools/gen-exports.mjs', firstOut.replace(/\.wasm$/, '.d.ts'), 'src/backends/wasm/kernel-exports.gen.ts']);
// The bench's arithmetic-ceiling loops (bench/ceiling.ts): build/ceiling-{simd,relaxed}.wasm.
for (const target of ['simd', 'relaxed']) run(bin('asc'), ['bench/ceiling.as.ts', '--config', 'bench/ceiling.asconfig.json', '--target', target]);
if (only === 'wasm') process.exit(0);

const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/index.js',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  loader: { '.wgsl': 'text', '.wasm': 'binary' },
  // Dawn's Node addon is loaded at run time and only in Node; browsers never see it.
  external: ['webgpu', 'node:*'],
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
});
run(bin('tsc'), ['-p', 'tsconfig.build.json']);
console.log('built dist/index.js and dist/types');
