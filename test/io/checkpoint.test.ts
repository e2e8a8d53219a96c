// Resuming training exactly: N steps, a checkpoint, fresh objects loaded from
// it, M more steps must give bit-for-bit the weights of N+M uninterrupted
// steps, on every backend, for each optimizer. Plus optimizer.stateDict /
// loadStateDict on their own, and failed loads that change nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import * as lp from '../../src/index.js';
import type { DeviceName } from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { testRng } from '../helpers/random.js';

const { nn, optim, tensor, scope, LeptonError } = lp;
const rng = testRng('checkpoint');
mkdirSync('test-output/io', { recursive: true });
const SIZES = [3, 8, 6, 4];

type MakeOpt = (p: lp.Tensor[]) => lp.optim.Optimizer;
const OPTIMIZERS: [string, MakeOpt][] = [
  ['Adam', (p) => new optim.Adam(p, { lr: 0.02 })],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.02, weightDecay: 0.1, betas: [0.8, 0.95] })],
  ['SGD momentum nesterov', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
];

/** Fixed batches: step s trains on batches[s]. */
const batches = Array.from({ length: 6 }, () => ({ x: rng.array(5 * 3), y: Array.from({ length: 5 }, () => rng.int(0, 3)) }));

function train(model: lp.nn.Module, opt: lp.optim.Optimizer, from: number, to: number, device: DeviceName) {
  for (let s = from; s < to; s++) {
    const l = scope(() => {
      const loss = nn.crossEntropy(model.forward(tensor(batches[s].x, [5, 3], { device })), batches[s].y);
      opt.zeroGrad(); loss.backward(); opt.step();
      return loss;
    });
    l.dispose();
  }
}
/** Every parameter's float32 bits. */
const bits = async (m: lp.nn.Module) => Promise.all(m.parameters().map(async (p) => [...new Uint32Array((await p.data()).buffer)]));

test('resume from a checkpoint: bit-identical to an uninterrupted run, on every backend and optimizer', async () => {
  for (const device of devices) {
    for (const [name, make] of OPTIMIZERS) {
      const seed = rng.int(1, 1e6);
      const straight = new nn.MLP(SIZES, { device, seed, activation: 'gelu' });
      const o1 = make(straight.parameters());
      train(straight, o1, 0, 6, device);

      const first = new nn.MLP(SIZES, { device, seed, activation: 'gelu' });
      const o2 = make(first.parameters());
      train(first, o2, 0, 3, device);
      const path = `test-output/io/checkpoint-${device}.safetensors`;
      await lp.saveCheckpoint({ model: first, optimizer: o2, metadata: { step: '3' } }, path);
      first.dispose(); o2.dispose();

      // Fresh objects: other initial weights, no optimizer state.
      const resumed = new nn.MLP(SIZES, { device, seed: seed + 1, activation: 'gelu' });
      const o3 = make(resumed.parameters());
      const info = await lp.loadCheckpoint(path, { model: resumed, optimizer: o3 });
      assert.equal(info.metadata, { step: '3' });
      train(resumed, o3, 3, 6, device);
      const [a, b] = [await bits(straight), await bits(resumed)];
      assert.ok(a.every((p, i) => p.every((v, j) => v === b[i][j])), `${device} ${name}: resumed weights differ from the uninterrupted run`);
      console.log(`  resume ${device} ${name}: bit-identical after 3 + 3 steps`);
      for (const x of [straight, resumed]) x.dispose();
      o1.dispose(); o3.dispose();
    }
  }
});

test('the checkpoint stores model weights as PyTorch does, and optimizer moments in their parameter\'s layout', async () => {
  const m = new nn.MLP([2, 3], { seed: 1 });
  const opt = new optim.Adam(m.parameters());
  m.forward(tensor([[1, 2]])).sum().backward(); opt.step();
  const f = await lp.readSafetensors(await lp.saveCheckpoint({ model: m, optimizer: opt }));
  assert.equal(Object.keys(f.tensors).sort(), ['model.layers.0.bias', 'model.layers.0.weight', 'optimizer.state.0.expAvg', 'optimizer.state.0.expAvgSq', 'optimizer.state.1.expAvg', 'optimizer.state.1.expAvgSq']);
  assert.equal(f.tensors['model.layers.0.weight'].shape, [3, 2]);
  assert.equal(f.tensors['optimizer.state.0.expAvg'].shape, [3, 2]);
  // d(sum)/dW[i][o] = x[i]: m = (1 - β1)·x per output, stored [out, in] → rows [1, 2] * 0.1.
  assert.equal([...f.tensors['optimizer.state.0.expAvg'].data], [0.1, 0.2, 0.1, 0.2, 0.1, 0.2].map(Math.fround));
  const meta = JSON.parse(f.metadata!['lepton.optimizer']);
  assert.is(meta.type, 'optim.Adam');
  assert.equal(meta.state['0'].counts, { step: 1 });
  assert.equal(meta.paramGroups, [{ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [0, 1] }]);
  m.dispose(); opt.dispose();
});

async function rejects(p: Promise<unknown> | (() => unknown), re: RegExp) {
  try { await (typeof p === 'function' ? p() : p); } catch (e) {
    assert.instance(e, LeptonError, String(e));
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`no error, expected ${re}`);
}

test('a failed checkpoint load changes neither the model nor the optimizer', async () => {
  for (const device of devices) {
    const m = new nn.MLP([3, 4, 4], { device, seed: 2 });
    const opt = new optim.Adam(m.parameters(), { lr: 0.01 });
    train(m, opt, 0, 1, device);
    const good = await lp.saveCheckpoint({ model: m, optimizer: opt });
    const other = new nn.MLP([3, 5, 4], { device, seed: 3 });
    const otherOpt = new optim.Adam(other.parameters(), { lr: 0.5 });
    const before = await bits(other);
    await rejects(lp.loadCheckpoint(good, { model: other, optimizer: otherOpt }), /loadCheckpoint: key 'layers.0.weight': shape mismatch: the file has \[4, 3\] \(F32\), the model needs \[5, 3\]/);
    // The optimizer alone: its parameters' shapes do not match either.
    await rejects(lp.loadCheckpoint(good, { optimizer: otherOpt }), /loadCheckpoint: key 'optimizer.state.0.expAvg': shape mismatch: the file has \[4, 3\], the optimizer's parameter 0 needs \[5, 3\]/);
    assert.equal(await bits(other), before);
    assert.is(otherOpt.lr, 0.5);
    assert.equal(otherOpt.stateDict().state, {});
    await rejects(lp.loadCheckpoint(good, { model: m, optimizer: new optim.SGD(m.parameters()) }), /the checkpoint's optimizer is optim.Adam; this one is optim.SGD/);
    await rejects(lp.loadCheckpoint(await lp.saveSafetensors(m), { model: m }), /not a lepton checkpoint/);
    await rejects(lp.loadCheckpoint(await lp.saveCheckpoint({ model: m }), { model: m, optimizer: opt }), /the checkpoint holds no optimizer state/);
    await rejects(lp.saveCheckpoint({ model: m, metadata: { 'lepton.x': 'y' } }), /metadata key 'lepton.x' is reserved/);
    await rejects(lp.saveCheckpoint({}), /saveCheckpoint: needs a 'model', an 'optimizer' or both/);
    for (const x of [m, other]) x.dispose();
    opt.dispose(); otherOpt.dispose();
  }
});

test('optimizer.stateDict / loadStateDict: PyTorch\'s structure, a copy into a fresh optimizer, checked before any change', async () => {
  for (const device of devices) {
    const m = new nn.MLP([3, 4, 4], { device, seed: 4 });
    const a = new optim.Adam(m.parameters(), { lr: 0.03, betas: [0.5, 0.6] });
    train(m, a, 0, 2, device);
    const sd = a.stateDict();
    assert.equal(Object.keys(sd.state), ['0', '1', '2', '3']);
    assert.is(sd.state[0].step, 2);
    assert.equal([...(sd.state[0].expAvg as lp.Tensor).shape], [3, 4]);
    assert.equal(sd.paramGroups, [{ lr: 0.03, betas: [0.5, 0.6], eps: 1e-8, weightDecay: 0, params: [0, 1, 2, 3] }]);
    const b = new optim.Adam(m.parameters());
    b.loadStateDict(sd);
    assert.is(b.lr, 0.03);
    assert.is(b.beta1, 0.5);
    const sb = b.stateDict();
    for (const i of [0, 1, 2, 3]) {
      assert.is(sb.state[i].step, 2);
      assert.equal([...await (sb.state[i].expAvgSq as lp.Tensor).data()], [...await (sd.state[i].expAvgSq as lp.Tensor).data()]);
    }
    // A copy, not an alias: stepping a leaves b's moments where they were.
    const kept = [...await (sb.state[0].expAvg as lp.Tensor).data()];
    train(m, a, 2, 3, device);
    assert.equal([...await (sb.state[0].expAvg as lp.Tensor).data()], kept);
    const c = new optim.Adam(m.parameters(), { lr: 0.7 });
    const bad = (over: object) => ({ ...sd, ...over }) as never;
    await rejects(() => c.loadStateDict(bad({ paramGroups: [{ ...sd.paramGroups[0], params: [0, 1] }] })), /optim.Adam.loadStateDict: paramGroups\[0\].params must list 4 distinct integer ids/);
    await rejects(() => c.loadStateDict(bad({ paramGroups: [{ ...sd.paramGroups[0], momentum: 0.9 }] })), /unknown hyperparameter 'momentum'/);
    await rejects(() => c.loadStateDict(bad({ paramGroups: [{ ...sd.paramGroups[0], lr: -1 }] })), /option 'lr' must be a finite number >= 0, got -1/);
    await rejects(() => c.loadStateDict(bad({ state: { ...sd.state, 3: { step: 1.5, expAvg: [0, 0, 0, 0], expAvgSq: [0, 0, 0, 0] } } })), /state\[3\].step must be a non-negative integer, got 1.5/);
    await rejects(() => c.loadStateDict(bad({ state: { ...sd.state, 3: { step: 1, expAvg: [0, 0, 0], expAvgSq: [0, 0, 0, 0] } } })), /key 'state.3.expAvg': shape mismatch: the state dict has 3 values, the module's tensor is \[4\]/);
    await rejects(() => c.loadStateDict(bad({ state: { ...sd.state, 3: { step: 1, expAvg: [0, 0, 0, 0] } } })), /state\[3\] lacks 'expAvgSq'/);
    await rejects(() => c.loadStateDict(bad({ state: { 9: sd.state[0] } })), /state has an entry for parameter id 9/);
    await rejects(() => new optim.SGD(m.parameters(), { momentum: 0.5 }).loadStateDict(sd as never), /unknown hyperparameter 'betas'/);
    assert.is(c.lr, 0.7);
    assert.equal(c.stateDict().state, {});
    lp.dispose(sd, sb);
    m.dispose(); a.dispose(); b.dispose(); c.dispose();
  }
});

test.run();
