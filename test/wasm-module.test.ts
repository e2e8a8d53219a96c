// The Wasm kernel modules as src/backends/wasm/module.ts serves them: the
// bundle carries each flavour once, gzipped; threads get a variant whose
// memory import is rewritten to shared. That variant must be exactly what asc
// builds with threads and shared memory (compiled here, both flavours at
// once: 15-60 s, the slowest test in the file) and compute the same in a worker.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { viewsOf, writeStruct } from '../src/backends/primitives/declare.js';
import { JOB } from '../src/backends/primitives/jobs.js';
import { SoftmaxJob } from '../src/backends/primitives/softmax.js';
import { kernelBytes, SHARED_MAXIMUM_PAGES, supports, withSharedMemory, type Flavour } from '../src/backends/wasm/module.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const FLAVOURS: Flavour[] = ['simd', 'relaxed'];

/** Null when equal, else where the two byte strings first differ. */
function firstDifference(a: Uint8Array, b: Uint8Array): string | null {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i === a.length && i === b.length ? null : `lengths ${a.length} / ${b.length}, first difference at byte ${i}`;
}

async function rejects(p: Promise<unknown>, what: string): Promise<void> {
  try { await p; } catch { return; }
  assert.unreachable(`${what} should have been refused`);
}

/** asc's own threads build of `flavour`, as asconfig.json once listed it: the target plus threads and a shared memory. */
async function ascThreadsBuild(flavour: Flavour, dir: string): Promise<Uint8Array<ArrayBuffer>> {
  const outFile = join(dir, `${flavour}-mt.wasm`);
  await promisify(execFile)(join(root, 'node_modules/.bin/asc'), ['kernels-as/index.ts', '--config', 'asconfig.json', '--target', flavour,
    '--enable', 'threads', '--sharedMemory', '--maximumMemory', String(SHARED_MAXIMUM_PAGES), '--outFile', outFile], { cwd: root });
  return new Uint8Array(readFileSync(outFile));
}

test('the embedded modules unpack to the bytes asc built', async () => {
  for (const flavour of FLAVOURS) {
    const built = new Uint8Array(readFileSync(join(root, `build/lepton-${flavour}.wasm`)));
    assert.is(firstDifference(await kernelBytes(flavour), built), null, flavour);
  }
});

test("the feature probes agree with the engine's verdict on the real modules, with and without relaxed SIMD", async () => {
  for (const flavour of FLAVOURS) assert.is(supports(flavour), WebAssembly.validate(await kernelBytes(flavour)), flavour);
  // A Node without --experimental-wasm-relaxed-simd (Node 20): relaxed must be refused, as the module is.
  const script = `import { readFileSync } from 'node:fs';
    import { supports } from './src/backends/wasm/module.ts';
    const real = WebAssembly.validate(readFileSync('build/lepton-relaxed.wasm'));
    console.log(JSON.stringify({ probe: supports('relaxed'), real, simd: supports('simd') }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--import', './tools/node-setup.mjs', '--input-type=module', '-e', script],
    { cwd: root, encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!);
  assert.is(r.probe, r.real);
  assert.ok(r.simd);
});

/** Runs softmax over `x` (rows x cols) with `module` instantiated on a fresh shared memory in a worker thread. */
async function softmaxInWorker(module: WebAssembly.Module, x: Float32Array, rows: number, cols: number): Promise<Float32Array> {
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 256, shared: true });
  const probe = await WebAssembly.instantiate(module, { env: { memory } });
  const base = Math.ceil((probe.exports.heapBase as () => number)() / 16) * 16;
  const xPtr = base, outPtr = base + x.byteLength, desc = outPtr + x.byteLength;
  new Float32Array(memory.buffer, xPtr, x.length).set(x);
  writeStruct(SoftmaxJob, { x: xPtr, out: outPtr, rows, cols, log: 0, parts: 1 }, viewsOf(memory.buffer), desc / 4);
  const worker = new Worker(`
    const { parentPort, workerData: { module, memory, job, desc } } = require('node:worker_threads');
    WebAssembly.instantiate(module, { env: { memory } })
      .then((i) => { i.exports.runPart(job, desc, 0, 0); parentPort.postMessage('done'); });`,
  { eval: true, workerData: { module, memory, job: JOB.codes.softmax, desc } });
  await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  await worker.terminate();
  return new Float32Array(memory.buffer, outPtr, x.length).slice();
}

test("the shared-memory variant is asc's threads build, byte for byte, and computes the same on a worker thread", async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lepton-asc-'));
  const t0 = performance.now();
  const reference = await Promise.all(FLAVOURS.map((f) => ascThreadsBuild(f, tmp))).finally(() => rmSync(tmp, { recursive: true, force: true }));
  console.log(`  asc threads builds (both flavours at once): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const rows = 7, cols = 37;
  const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 12.9898) * 20);
  for (const [i, flavour] of FLAVOURS.entries()) {
    if (!supports(flavour)) continue;
    const patched = withSharedMemory(await kernelBytes(flavour));
    assert.is(firstDifference(patched, reference[i]), null, `${flavour}: the patched module differs from asc's threads build`);
    const [mine, theirs] = await Promise.all([patched, reference[i]].map(async (b) => softmaxInWorker(await WebAssembly.compile(b), x, rows, cols)));
    assert.equal(mine, theirs, flavour);
    for (let r = 0; r < rows; r++) {
      const sum = mine.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `${flavour}: row ${r} sums to ${sum}`);
    }
  }
});

// A module importing a function, a table, a global and then env.memory (min 2, max 10), by hand.
const str = (s: string) => [s.length, ...new TextEncoder().encode(s)];
const imports = [4, ...str('env'), ...str('f'), 0, 0, ...str('env'), ...str('t'), 1, 0x70, 0, 1,
  ...str('env'), ...str('g'), 3, 0x7f, 0, ...str('env'), ...str('memory'), 2, 1, 2, 10];
const HAND_MADE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 2, imports.length, ...imports]);

test('the rewrite walks every kind of import and keeps the minimum', async () => {
  const patched = withSharedMemory(HAND_MADE);
  assert.equal(WebAssembly.Module.imports(new WebAssembly.Module(patched)).map((i) => i.kind), ['function', 'table', 'global', 'memory']);
  const env = {
    f() {}, t: new WebAssembly.Table({ initial: 1, element: 'anyfunc' }), g: new WebAssembly.Global({ value: 'i32' }, 0),
    memory: new WebAssembly.Memory({ initial: 2, maximum: 100, shared: true }),
  };
  await WebAssembly.instantiate(patched, { env }); // links only if the import is shared with a maximum >= 100
  await rejects(WebAssembly.instantiate(HAND_MADE, { env }), 'a shared memory for the unpatched import');
  const small = new WebAssembly.Memory({ initial: 1, maximum: 100, shared: true });
  await rejects(WebAssembly.instantiate(patched, { env: { ...env, memory: small } }), 'a memory below the minimum');
});

test('the rewrite refuses what it cannot handle', () => {
  assert.throws(() => withSharedMemory(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /not a version 1 module/);
  assert.throws(() => withSharedMemory(withSharedMemory(HAND_MADE)), /already/);
  assert.throws(() => withSharedMemory(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), /no import section/);
  assert.throws(() => withSharedMemory(HAND_MADE.subarray(0, HAND_MADE.length - 3)), /truncated/);
});

test.run();
