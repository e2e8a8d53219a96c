// Public per-backend knobs: getDeviceProperties, setBackendOptions('wasm', {
// threads }) (checked by the split the WASM matmul actually makes), and
// testing.loseDevice (in a child process, with recovery off: a lost device stays lost).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as lp from '../src/index.js';
import { getBackend } from '../src/backends/registry.js';
import { devices } from './helpers/backends.js';
import { testRng } from './helpers/random.js';

const { tensor, matmul, setBackendOptions, getDeviceProperties, LeptonError } = lp;
const rng = testRng('backend-options');
const ROOT = new URL('..', import.meta.url).pathname;

function expectError(f: () => unknown, re: RegExp) {
  try { f(); } catch (e) { assert.instance(e, LeptonError); assert.match((e as Error).message, re); return; }
  assert.unreachable(`no error, expected ${re}`);
}

test('getDeviceProperties: what each started backend is', () => {
  const w = getDeviceProperties('wasm');
  assert.is(w.device, 'wasm');
  assert.is(w.description, lp.describeDevice('wasm'));
  assert.ok(w.simd === 'relaxed' || w.simd === 'simd');
  assert.ok(w.description.includes('relaxed') === (w.simd === 'relaxed'));
  assert.ok(Number.isInteger(w.maxThreads) && w.maxThreads >= 1 && w.threads === w.maxThreads, JSON.stringify(w));
  if (devices.includes('webgpu')) {
    const g = getDeviceProperties('webgpu');
    assert.is(g.device, 'webgpu');
    assert.is(g.fallbackAdapter, lp.describeDevice('webgpu').endsWith('(fallback adapter)'));
  }
});

test("setBackendOptions('wasm', { threads }): caps the threads a product is split over, and back", async () => {
  const max = getDeviceProperties('wasm').maxThreads;
  // Watch the split the backend makes: its thread pool is told how many slots each product uses
  // (a job in one part runs on the calling thread without the pool).
  const pool = (getBackend('wasm') as unknown as { pool: { run: (k: number, d: number, parts: number, slots: number) => void } | null }).pool;
  const slots: number[] = [];
  if (pool) {
    const run = pool.run.bind(pool);
    pool.run = (k, d, parts, s) => { slots.push(s); run(k, d, parts, s); };
  }
  const n = 192, A = rng.array(n * n), B = rng.array(n * n);
  const a = tensor(A, [n, n], { device: 'wasm' }), b = tensor(B, [n, n], { device: 'wasm' });   // 14 MFLOP: worth splitting
  const product = async () => { slots.length = 0; const c = matmul(a, b); const v = await c.data(); c.dispose(); return v; };
  const all = await product();
  if (max > 1) assert.equal(slots, [max], `all ${max} threads by default`);
  assert.equal(setBackendOptions('wasm', { threads: 1 }).threads, 1);
  const one = await product();
  if (pool) assert.equal(slots, [], 'one thread: the pool stays idle');
  assert.equal([...one], [...all], 'the same numbers on one thread');
  assert.equal(setBackendOptions('wasm', { threads: max + 5 }).threads, max, 'capped at the threads started');
  assert.equal(setBackendOptions('wasm', { threads: 1 }).threads, 1);
  assert.equal(setBackendOptions('wasm', { threads: 'auto' }).threads, max);
  assert.equal(setBackendOptions('wasm', {}).threads, max, 'no option: nothing changes');
  await product();
  if (max > 1) assert.equal(slots, [max], 'all threads again');
  lp.dispose(a, b);
  expectError(() => setBackendOptions('wasm', { threads: 0 }), /setBackendOptions: option 'threads' must be 'auto' or a positive integer, got 0/);
  expectError(() => setBackendOptions('wasm', { threads: 1.5 }), /got 1.5/);
  expectError(() => setBackendOptions('wasm', { thread: 1 } as unknown as lp.WasmRuntimeOptions), /unknown option 'thread' \(did you mean 'threads'\?\); the options are: threads/);
  expectError(() => setBackendOptions('webgpu' as 'wasm', { threads: 1 }), /the WebGPU backend has no options to change while it runs/);
  expectError(() => setBackendOptions('cuda' as 'wasm', {}), /argument 'device' must be 'wasm', got "cuda"/);
  assert.equal(getDeviceProperties('wasm').threads, max, 'a refused call changed nothing');
});

test('testing.loseDevice with recovery off: a real device loss; reads reject and new work throws on WebGPU; WASM carries on', async () => {
  try { await lp.testing.loseDevice('wasm'); assert.unreachable('no error'); } catch (e) {
    assert.instance(e, LeptonError);
    assert.match((e as Error).message, /testing.loseDevice: only the WebGPU backend has a device to lose, got "wasm"/);
  }
  if (!devices.includes('webgpu')) return;
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--import', './tools/node-setup.mjs', 'test/fixtures/lose-device.ts'],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  assert.is(r.status, 0, `${r.stderr}\n${r.stdout}`);
  const out = JSON.parse(line);
  assert.equal(out.before, [2, 4, 6]);
  assert.is(out.lost.ok, true, JSON.stringify(out.lost));
  for (const k of ['read', 'op', 'create']) {
    assert.is(out[k].ok, false, `${k} after the loss: ${JSON.stringify(out[k])}`);
    assert.match(out[k].error, /the GPU device was lost \(destroyed\).*recovery was off/);
  }
  assert.equal(out.wasm, { ok: true, value: [3, 6] });
  assert.is(out.props, 'webgpu', 'the lost backend stays registered');
});

test.run();
