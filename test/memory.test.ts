// Memory as a user sees it: memory()'s figures, emptyCache(), allocation
// failures as LeptonErrors naming the op, the WASM allocator reusing what it
// has, and WebGPU's readback buffers not piling up. (Long runs: long-run.test.ts;
// an allocation at the WebGPU device's limit: test/fixtures/alloc-at-limit.ts.)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../src/index.js';
import { LinearMemory } from '../src/backends/wasm/memory.js';
import { getBackend } from '../src/backends/registry.js';
import { writtenBuffers } from '../src/backends/webgpu/reflect.js';
import { SOURCES } from '../src/backends/webgpu/shaders.js';
import { devices } from './helpers/backends.js';

const { tensor, zeros, randn, memory, scope } = lp;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function expectError(f: () => unknown, op: string, pattern: RegExp) {
  try {
    f();
  } catch (e) {
    assert.instance(e, lp.LeptonError, (e as Error).stack);
    assert.is((e as lp.LeptonError).op, op);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`no error (expected ${pattern})`);
}

test('memory(): live tensors, data buffers, bytes and the peak, per backend', () => {
  for (const device of devices) {
    const m0 = memory(device);
    assert.is(m0.device, device);
    const a = zeros([3, 5], { device });
    const v = a.reshape([15]); // a view: another tensor, the same storage
    const m1 = memory(device);
    assert.is(m1.numTensors - m0.numTensors, 2, `${device}: tensors`);
    assert.is(m1.numDataBuffers - m0.numDataBuffers, 1, `${device}: data buffers`);
    assert.is(m1.numBytes - m0.numBytes, 15 * 4, `${device}: bytes`);
    assert.ok(m1.reservedBytes >= m1.numBytes, `${device}: reserved ${m1.reservedBytes} < live ${m1.numBytes}`);
    lp.resetPeakMemoryStats(device);
    const big = zeros([1000], { device });
    assert.is(memory(device).peakBytes, m1.numBytes + 4000, `${device}: the peak holds the big tensor`);
    big.dispose();
    assert.is(memory(device).peakBytes, m1.numBytes + 4000, `${device}: the peak stays after dispose`);
    a.dispose();
    assert.is(memory(device).numBytes, m1.numBytes, `${device}: the view still holds the storage`);
    v.dispose();
    const m2 = memory(device);
    assert.equal([m2.numTensors, m2.numDataBuffers, m2.numBytes], [m0.numTensors, m0.numDataBuffers, m0.numBytes], `${device}: all freed`);
    lp.resetPeakMemoryStats(device);
    assert.is(memory(device).peakBytes, m2.numBytes);
  }
});

test("memory(): the autograd graph's own references are storage, not tensors", () => {
  const x = randn([4, 4], { requiresGrad: true, seed: 1 });
  const m0 = memory();
  const y = scope(() => x.exp().sum()); // the graph keeps exp's output; the scope freed the tensor
  const m1 = memory();
  assert.is(m1.numTensors - m0.numTensors, 1, 'only y is a tensor the user holds');
  assert.is(m1.numDataBuffers - m0.numDataBuffers, 2, "y's storage and the saved exp output");
  y.backward();
  assert.is(memory().numDataBuffers - m0.numDataBuffers, 2, 'backward freed the saved output; x.grad is new');
  lp.dispose(x, x.grad, y);
});

test('WASM allocator: freed blocks merge, split and are reused before the memory grows', () => {
  const MiB = 2 ** 20;
  // A memory that may grow to 10 MiB at most: what does not fit in it must come from freed blocks.
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4096 });
  const mem = new LinearMemory(memory, 1024, 10 * MiB);
  const blocks = Array.from({ length: 8 }, () => mem.alloc(MiB)!);
  for (const i of [3, 0, 7, 5, 1, 6, 2, 4]) mem.free(blocks[i].ptr, blocks[i].size);
  assert.is(mem.heapTop, 1024, 'freed in any order, everything merged back into the top');
  assert.is(mem.freeBytes, 0);
  // Nine blocks of 1 MiB, every other one freed: 4 MiB free, in four separate holes.
  const nine = Array.from({ length: 9 }, () => mem.alloc(MiB)!);
  for (const i of [0, 2, 4, 6]) mem.free(nine[i].ptr, nine[i].size);
  assert.is(mem.freeBytes, 4 * MiB);
  // 32 blocks of 100 KiB (3.3 MiB): less than 1 MiB is left to grow into, so they must fill the holes.
  const small = Array.from({ length: 32 }, () => mem.alloc(100 * 1024));
  assert.ok(small.every((b) => b && b.ptr < nine[8].ptr), 'every small block went into a hole below the top');
  // Freeing them and their neighbours merges the holes into one span that holds 3 MiB.
  for (const b of small) mem.free(b!.ptr, b!.size);
  for (const i of [1, 3, 5]) mem.free(nine[i].ptr, nine[i].size);
  const three = mem.alloc(3 * MiB);
  assert.ok(three && three.ptr + three.size <= nine[8].ptr, 'the merged free space held 3 MiB');
  assert.ok(memory.buffer.byteLength <= 10 * MiB);
  const before = mem.inUse;
  assert.is(mem.alloc(2 ** 32), null, 'over the maximum: refused');
  assert.match(mem.refusal(2 ** 32), /this shared memory was created with a maximum of 0\.01 GiB/);
  assert.is(mem.inUse, before, 'a refusal changes nothing');
});

test('an allocation the WASM backend cannot make is a LeptonError naming the op, the size and the limit', () => {
  const m0 = memory('wasm');
  expectError(() => zeros([2 ** 30], { device: 'wasm' }), 'zeros',
    /^zeros: cannot allocate 1073741824 f32 \(4294967296 bytes\) in WebAssembly memory: (WebAssembly \(wasm32\) memory is limited to 4 GiB|this shared memory was created with a maximum of [\d.]+ GiB)/);
  const x = randn([2 ** 16, 1], { device: 'wasm' }), y = randn([1, 2 ** 16], { device: 'wasm' });
  expectError(() => x.matmul(y), 'matmul', /^matmul: cannot allocate 4294967296 f32 \(17179869184 bytes\)/);
  lp.dispose(x, y);
  const m1 = memory('wasm');
  assert.equal([m1.numTensors, m1.numBytes], [m0.numTensors, m0.numBytes], 'nothing left allocated');
});

test('an allocation over a WebGPU device limit is a LeptonError naming the op and the limit', () => {
  if (!devices.includes('webgpu')) return;
  const lim = (getBackend('webgpu') as unknown as { device: GPUDevice }).device.limits;
  const n = Math.floor(Math.min(lim.maxBufferSize, lim.maxStorageBufferBindingSize) / 4) + 1;
  expectError(() => tensor(new Float32Array(3), [3], { device: 'webgpu' }).reshape([3, 1]).add(zeros([1, n], { device: 'webgpu' })),
    'zeros', new RegExp(`^zeros: cannot allocate ${n} f32 \\(${n * 4} bytes\\) on WebGPU: the device's max\\w+ is \\d+ bytes`));
});

test('an allocation the WebGPU device refuses is refused at every use, naming the op; no driver dump, nothing pooled', () => {
  if (!devices.includes('webgpu')) return;
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--import', './tools/node-setup.mjs',
    'test/fixtures/alloc-at-limit.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, `${r.stderr}\n${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines.length, 1, `the process printed more than its result:\n${r.stdout}`);
  assert.not.match(r.stderr, /validation|Invalid (Buffer|CommandBuffer)/i, r.stderr);
  const out = JSON.parse(lines[0]);
  const refused = /^zeros: cannot allocate 1073741824 bytes \(1\.00 GiB\) of GPU memory: the device refused \(.+\); the device's maxBufferSize is 1073741824 bytes/;
  assert.match(out.read, refused);
  assert.match(out.use, refused);
  assert.match(out.again, refused);
  assert.match(out.voided, /^zeros: this storage was computed by GPU work recorded after an allocation failed/);
  assert.equal(out.before, [2, 4, 6], 'work submitted before the failure is intact');
  assert.equal(out.after, [3, 6, 9], 'the backend works afterwards');
  assert.is(out.pooledAfterDispose, 0, 'the refused buffer was not pooled');
});

test('WebGPU: the buffers each entry point writes, read from its WGSL (what a failed allocation voids)', () => {
  // Index into the dispatch's buffer list (binding 1 is index 0), from each kernel family's binding order.
  const want: Record<string, Record<string, number[]>> = {
    elementwise: { unary: [1], unary_inplace: [0], fill: [0], binary_contig: [2], binary_contig4: [2], binary_strided: [2] },
    matmul: { matmul_scalar: [3, 5], matmul_vec4: [3, 5] },
    matmulSmall: { matmul_small: [3, 5] },
    matmulRegister: { matmul_reg_vec4: [3, 5], matmul_reg_scalar: [3, 5] },
    matmulSubgroup: { matmul_sg_scalar: [3, 5], matmul_sg_vec4: [3, 5] },
    optim: { sgd: [0], sgd_momentum: [0, 2], adam: [0, 2, 3] },
    softmax: { softmax: [1] },
    reduce: { reduce_rows: [1], reduce_cols: [1] },
    strided: { strided: [1] },
  };
  for (const [file, entries] of Object.entries(want)) {
    for (const [entry, writes] of Object.entries(entries)) {
      assert.equal(writtenBuffers(SOURCES[file as keyof typeof SOURCES], entry), writes, `${file}.${entry}`);
    }
  }
});

test('WebGPU: readback buffers of 200 concurrent reads are not kept; emptyCache() gives pooled buffers back', async () => {
  if (!devices.includes('webgpu')) return;
  const be = getBackend('webgpu') as unknown as { stats: { tensors: { freeBytes: number; liveBytes: number }; readback: { freeBytes: number; freeBuffers: number; liveBytes: number } } };
  const n = 2 ** 18; // 1 MiB
  const ts = Array.from({ length: 200 }, (_, i) => lp.full([n], i, { device: 'webgpu' }));
  const values = await Promise.all(ts.map((t) => t.data()));
  values.forEach((v, i) => assert.ok(v[0] === i && v[n - 1] === i, `read ${i}`));
  const { readback } = be.stats;
  assert.ok(readback.freeBuffers <= 4 && readback.freeBytes <= 4 * 2 ** 20, `${readback.freeBuffers} readback buffers, ${readback.freeBytes} bytes kept`);
  lp.dispose(ts);
  assert.ok(be.stats.tensors.freeBytes >= 200 * 2 ** 20, 'freed tensor buffers are pooled');
  const reserved = memory('webgpu').reservedBytes;
  lp.emptyCache('webgpu');
  assert.is(be.stats.tensors.freeBytes, 0);
  assert.is(be.stats.readback.freeBytes, 0);
  const m = memory('webgpu');
  assert.is(m.reservedBytes, be.stats.tensors.liveBytes + be.stats.readback.liveBytes);
  assert.ok(m.reservedBytes <= reserved - 200 * 2 ** 20, `reserved ${reserved} -> ${m.reservedBytes}`);
  lp.emptyCache('wasm'); // nothing to give back, and no error
});

test.run();
