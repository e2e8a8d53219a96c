// Builds the package: the primitives' declarations -> build/gen/ (WGSL and
// AssemblyScript consts and structs), AssemblyScript kernels -> build/*.wasm (two modules:
// SIMD128 and relaxed SIMD, each also gzipped to build/*.wasm.gz, which the
// bundle embeds; plus the bench's ceiling loops), then one ESM bundle
// (dist/index.js) that embeds every .wgsl file as minified text and each
// gzipped .wasm module as bytes, then the type declarations (dist/types).
//   node tools/build.mjs          everything
//   node tools/build.mjs wasm     only the Wasm modules (tests import them)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { kernelAssets } from './kernel-assets.mjs';

const bin = (name) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
const only = process.argv[2];

mkdirSync(new URL('../build', import.meta.url), { recursive: true });
// The kernels' constants and structs, generated from the primitive declarations (build/gen/).
run(process.execPath, ['--import', 'tsx', 'tools/gen-kernels.ts']);
const targets = Object.entries(JSON.parse(readFileSync(new URL('../asconfig.json', import.meta.url), 'utf8')).targets);
for (const [target, { outFile }] of targets) {
  run(bin('asc'), ['kernels-as/index.ts', '--config', 'asconfig.json', '--target', target, '--bindings', 'raw']);
  // The bundle embeds the module gzipped (src/backends/wasm/module.ts unpacks it): 55 KB -> 11 KB.
  const wasm = new URL(`../${outFile}`, import.meta.url);
  writeFileSync(new URL(`../${outFile}.gz`, import.meta.url), gzipSync(readFileSync(wasm), { level: 9 }));
}
// The exports' TypeScript interface, from asc's bindings of the first module (both export the same).
run(process.execPath, ['tools/gen-exports.mjs', targets[0][1].outFile.replace(/\.wasm$/, '.d.ts'), 'src/backends/wasm/kernel-exports.gen.ts']);
// The bench's arithmetic-ceiling loops (bench/ceiling.ts): build/ceiling-{simd,relaxed}.wasm.
for (const target of ['simd', 'relaxed']) run(bin('asc'), ['bench/ceiling.as.ts', '--config', 'bench/ceiling.asconfig.json', '--target', target]);
if (only === 'wasm') process.exit(0);

// From scratch: a file removed from src/ must not leave its declarations behind in the tarball.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const esbuild = await import('esbuild');
// exportOnnx imports the protobuf encoder (protobufjs + the ONNX schema) on
// first use, from a file of its own (dist/onnx-proto.js): a bundle that never
// exports leaves it out, and index.js stays one file.
const onnxProto = {
  name: 'onnx-proto',
  setup(b) {
    b.onResolve({ filter: /^\.\/proto\.js$/ }, (a) => a.importer.endsWith('src/io/onnx/export.ts') ? { path: './onnx-proto.js', external: true } : undefined);
  },
};
await esbuild.build({
  entryPoints: { 'onnx-proto': 'src/io/onnx/proto.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'], // protobufjs's packages name only "main"
  target: 'es2022',
  minify: true, // third-party code, no source map: 96 KB
  // The licences of what it bundles travel with it.
  banner: { js: `/*! lepton's ONNX encoder bundles protobufjs ${JSON.parse(readFileSync(new URL('../node_modules/protobufjs/package.json', import.meta.url), 'utf8')).version}:\n\n`
    + `${readFileSync(new URL('../node_modules/protobufjs/LICENSE', import.meta.url), 'utf8').replaceAll('*/', '* /')}\n`
    + 'and the ONNX schema (onnx.proto, onnx 1.12), Copyright (c) ONNX Project Contributors, SPDX-License-Identifier: Apache-2.0. */' },
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
});
await esbuild.build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/index.js',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  ...kernelAssets,
  plugins: [onnxProto, ...kernelAssets.plugins],
  // Dawn's Node addon is loaded at run time and only in Node; browsers never see it.
  external: ['webgpu', 'node:*'],
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: new URL('..', import.meta.url).pathname,
});
// TypeScript 7's compiler by path: the typescript-5.9 alias (consumer type test, typedoc) installs a 'tsc' bin too.
run(process.execPath, [new URL('../node_modules/typescript/bin/tsc', import.meta.url).pathname, '-p', 'tsconfig.build.json']);
console.log('built dist/index.js and dist/types');
