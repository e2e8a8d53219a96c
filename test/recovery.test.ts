// Device-loss recovery (src/backends/webgpu/recovery.ts, src/backends/journal.ts):
// a real GPUDevice destroyed (testing.loseDevice) between training steps and
// while reads are pending. Each scenario runs test/fixtures/device-loss-training.ts
// in its own process (a fresh registry and device), which trains the same MLP
// uninterrupted and with the loss; the uninterrupted run is the reference.
// In-process: the journal stays bounded by its checkpoints.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { crossEntropy, init, LeptonError, nn, optim, scope, tensor, type InitOptions } from '../src/index.js';
import { getBackend, useBackend } from '../src/backends/registry.js';
import { createWebGPUBackend, type WebGPUBackend } from '../src/backends/webgpu/backend.js';
import { devices } from './helpers/backends.js';

const ROOT = new URL('..', import.meta.url).pathname;
const webgpu = devices.includes('webgpu');

type Outcome = { ok: boolean; value?: unknown; name?: string; error?: string };
interface Run { losses: number[]; weights: number[][]; pendingWeight: number[]; copied: number[]; device: string; after: Record<string, Outcome & number> }
interface Result {
  reference: Run; lost: Run; checkpoints: number;
  events: { device: string; reason: string; replayedCalls: number; restoredBytes: number; ms: number }[];
  afterInit: Record<string, Outcome & string>;
}

function scenario(checkpointBytes: 'auto' | number, mode: 'inplace' | 'permanent' | 'off'): Result {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--import', './tools/node-setup.mjs',
    'test/fixtures/device-loss-training.ts', String(checkpointBytes), mode], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, `${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const flat = (w: number[][]) => w.flat();
function maxDiff(a: number[], b: number[]): number {
  assert.is(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
const scale = (a: number[]) => Math.max(1, ...a.map(Math.abs));

function assertIdentical(res: Result, what: string) {
  const { reference: ref, lost } = res;
  assert.is(lost.device, 'webgpu', `${what}: still on WebGPU`);
  assert.is(lost.losses.length, ref.losses.length, `${what}: every step ran`);
  // Bit-identical: the same adapter replays the same kernels.
  assert.equal(lost.losses, ref.losses, `${what}: losses`);
  assert.equal(flat(lost.weights), flat(ref.weights), `${what}: final weights`);
  assert.equal(lost.pendingWeight, ref.pendingWeight, `${what}: a read pending at the loss sees the weights before the step queued after it`);
  assert.equal(lost.after.copy.value, ref.copied, `${what}: t.to('wasm') asked for during the recovery`);
  assert.equal(lost.copied, ref.copied, `${what}: t.to('wasm') after the step`);
  assert.is(res.events.length, 2, `${what}: two recoveries`);
  for (const e of res.events) assert.is(e.device, 'webgpu');
  assert.is(res.afterInit.defaultDevice, 'webgpu');
  assert.is(res.afterInit.initAuto.value, 'webgpu', 'init() returns the live, recovered backend');
  assert.is(res.afterInit.initWebgpu.value, 'webgpu');
  assert.equal(res.afterInit.work.value, [2, 4, 6]);
}

test('lost between steps and during pending reads, re-created on the same adapter: bit-identical training (journal from the start)', () => {
  if (!webgpu) return;
  const res = scenario('auto', 'inplace');
  assertIdentical(res, 'journal only');
  assert.is(res.checkpoints, 0, 'a small model stays under the default budget: everything was replayed');
  assert.is(res.events[0].restoredBytes, 0);
  assert.ok(res.events[1].replayedCalls > res.events[0].replayedCalls);
});

test('the same with a checkpoint after every read: restored from the checkpoint, the rest replayed', () => {
  if (!webgpu) return;
  const res = scenario(1, 'inplace');
  assertIdentical(res, 'checkpoints');
  assert.ok(res.checkpoints >= 10, `checkpoints taken: ${res.checkpoints}`);
  for (const e of res.events) {
    assert.ok(e.restoredBytes > 0, 'values came from the checkpoint');
    assert.ok(e.replayedCalls > 0 && e.replayedCalls < 200, `only the calls since the last read were replayed: ${e.replayedCalls}`);
  }
});

test('no GPU comes back: the tensors move to WASM (from a checkpoint plus the journal) and training carries on within float32 noise', () => {
  if (!webgpu) return;
  const res = scenario(1, 'permanent');
  const { reference: ref, lost } = res;
  assert.is(lost.device, 'wasm', 'the parameters now live on WASM');
  assert.is(lost.losses.length, ref.losses.length, 'every step ran');
  const w = maxDiff(flat(lost.weights), flat(ref.weights));
  assert.ok(w <= 1e-5 * scale(flat(ref.weights)), `final weights differ by ${w}`);
  assert.ok(maxDiff(lost.losses, ref.losses) <= 1e-5 * scale(ref.losses), 'losses');
  assert.ok(maxDiff(lost.pendingWeight, ref.pendingWeight) <= 1e-5 * scale(ref.pendingWeight), 'the pending read');
  assert.ok(maxDiff(lost.after.copy.value as number[], ref.copied) <= 1e-5 * scale(ref.copied), "t.to('wasm') during the recovery");
  assert.is(res.events.length, 1);
  assert.is(res.events[0].device, 'wasm');
  assert.ok(res.events[0].restoredBytes > 0);
  const a = res.afterInit;
  assert.is(a.defaultDevice, 'wasm', 'the default backend followed the tensors');
  assert.is(a.webgpuNames.value, 'wasm', "'webgpu' names the backend that took over");
  assert.is(a.initAuto.value, 'wasm', 'init() (auto: no hardware adapter here) gives a live backend');
  assert.is(a.initWebgpu.value, 'webgpu', "init({ backend: 'webgpu' }) starts a new device");
  assert.equal(a.work.value, [2, 4, 6]);
  assert.is(a.props, 'webgpu');
});

test('recovery off: reads, work and copies on the dead device throw a LeptonError saying what to do; init() gives a live backend', () => {
  if (!webgpu) return;
  const { lost, events, afterInit: a } = scenario('auto', 'off');
  assert.is(events.length, 0);
  const dead = /the GPU device was lost \(destroyed\).*recovery was off.*Call init\(\) again for a live backend/;
  for (const k of ['failure', 'pendingRead', 'copy', 'op', 'create'] as const) {
    const o = lost.after[k];
    assert.is(o.ok, false, `${k}: ${JSON.stringify(o)}`);
    assert.is(o.name, 'LeptonError', k);
    assert.match(o.error!, dead, k);
  }
  assert.is(a.webgpuNames.ok, false, 'the dead backend stays registered until init()');
  assert.is(a.initAuto.value, 'wasm');
  assert.is(a.initWebgpu.value, 'webgpu', "init({ backend: 'webgpu' }) replaces the dead backend");
  assert.equal(a.work.value, [2, 4, 6]);
});

test('the journal stays bounded: a checkpoint after a read once it passes checkpointBytes', async () => {
  if (!webgpu) return;
  const shared = getBackend('webgpu');
  const be = (await createWebGPUBackend({ allowFallbackAdapter: true, autotune: false, recovery: { checkpointBytes: 32 << 10 } })) as WebGPUBackend;
  useBackend(be);
  try {
    const model = new nn.MLP([16, 64, 4], { seed: 1, device: 'webgpu' });
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.5 });
    const x = tensor(new Float32Array(32 * 16).map((_, i) => Math.sin(i)), [32, 16], { device: 'webgpu' });
    // An upload no kernel changes (a dataset on the device): its values are known on the host, never read back.
    const table = tensor(new Float32Array(1 << 20).fill(0.5), [1 << 20], { device: 'webgpu' });
    const j = be.recovery!.journal;
    let peak = 0;
    for (let s = 0; s < 30; s++) {
      const l = scope(() => { const o = crossEntropy(model.forward(x), new Int32Array(32).fill(s % 4)); opt.zeroGrad(); o.backward(); opt.step(); return o; });
      await l.item();
      l.dispose();
      if (s >= 2) peak = Math.max(peak, j.bytes); // after the uploads' checkpoint
    }
    await new Promise((r) => setTimeout(r, 50)); // the last checkpoint's map
    assert.ok(j.checkpoints >= 5, `checkpoints: ${j.checkpoints}`);
    // One step journals its outputs (~25 KB here); a checkpoint follows the first read past the budget.
    assert.ok(peak < 2 * (32 << 10) + (64 << 10), `journal peaked at ${peak} bytes`);
    assert.ok(j.baseBytes <= j.liveBytes + 1024, `the checkpoint holds ${j.baseBytes} bytes for ${j.liveBytes} live`);
    const modelBytes = j.liveBytes - table.size * 4;
    assert.ok(j.readBack <= (j.checkpoints + 1) * 2 * modelBytes, `checkpoints read back ${j.readBack} bytes (the upload of ${table.size * 4} never)`);
    model.dispose();
    table.dispose();
    opt.dispose();
    x.dispose();
  } finally {
    useBackend(shared);
    be.destroy();
    await init({ backend: 'wasm' }); // the tests' default
  }
});

test('init({ recovery }): malformed settings are refused before any backend starts', async () => {
  const cases: [unknown, RegExp][] = [
    ['yes', /init: option 'recovery' must be true, false or an object, got string/],
    [{ checkpointBytes: -1 }, /init: option 'recovery.checkpointBytes' must be 'auto' or a non-negative number of bytes, got -1/],
    [{ checkpointBytes: NaN }, /got NaN/],
    [{ checkpointCalls: 0.5 }, /init: option 'recovery.checkpointCalls' must be a positive integer, got 0.5/],
    [{ onRecovered: 1 }, /init: option 'recovery.onRecovered' must be a function, got number/],
    [{ checkpointByte: 1 }, /init: unknown option 'recovery.checkpointByte'; the options are: checkpointBytes, checkpointCalls, onRecovered/],
  ];
  for (const [recovery, re] of cases) {
    try {
      await init({ backend: 'wasm', recovery } as InitOptions);
      assert.unreachable(`accepted ${JSON.stringify(recovery)}`);
    } catch (e) {
      assert.instance(e, LeptonError);
      assert.match((e as Error).message, re);
    }
  }
});

test.run();
