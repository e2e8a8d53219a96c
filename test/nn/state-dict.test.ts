// Module.stateDict / loadStateDict / registerBuffer on every backend: PyTorch's
// names and order, every accepted value form landing in the right tensor
// (checked through a float64 forward of the loaded weights), device copies,
// optimizers that keep working, and all-or-nothing failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { linearForward, nd } from '../reference/ops.js';

const { nn, tensor, zeros, optim, scope, LeptonError } = lp;
const rng = testRng('state-dict');
const SIZES = [3, 5, 4, 2];
const KEYS = ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'layers.2.weight', 'layers.2.bias'];
const SHAPES = [[3, 5], [5], [5, 4], [4], [4, 2], [2]];

/** Host values for every key of the [3, 5, 4, 2] MLP. */
const hostState = () => KEYS.map((_, i) => rng.array(SHAPES[i].reduce((a, b) => a * b, 1)));
const read = async (m: lp.nn.Module) => Promise.all(m.parameters().map(async (p) => [...await p.data()]));
const fround = (a: ArrayLike<number>) => Array.from(a, Math.fround);
const nest = (v: Float32Array, cols: number) => Array.from({ length: v.length / cols }, (_, r) => [...v.subarray(r * cols, (r + 1) * cols)]);

function expectError(f: () => unknown, re: RegExp) {
  try { f(); } catch (e) {
    assert.instance(e, LeptonError, String(e));
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`no error, expected ${re}`);
}

test('stateDict: PyTorch names in registration order; views that share the parameters\' storage', async () => {
  for (const device of devices) {
    const m = new nn.MLP(SIZES, { device, seed: 3 });
    const sd = m.stateDict();
    assert.equal(Object.keys(sd), KEYS, device);
    assert.equal(KEYS.map((k) => [...sd[k].shape]), SHAPES);
    for (const [i, k] of KEYS.entries()) {
      assert.is(sd[k].requiresGrad, false, `${k} is a detached view`);
      assert.equal([...await sd[k].data()], [...await m.parameters()[i].data()]);
    }
    // A training step shows through the views (no copy) ...
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    const x = tensor(rng.array(6), [2, 3], { device });
    const before = [...await sd['layers.0.weight'].data()];
    m.forward(x).sum().backward();
    opt.step();
    assert.not.equal([...await sd['layers.0.weight'].data()], before, 'the view reads the updated weights');
    // ... and disposing them leaves the module whole.
    lp.dispose(sd);
    assert.ok(m.parameters().every((p) => !p.isDisposed));
    await m.forward(x).data();
    assert.equal(Object.keys(new nn.Linear(2, 3, { bias: false, device }).stateDict()), ['weight']);
    lp.dispose(x);
    m.dispose();
  }
});

test('loadStateDict: every host form lands in the right tensor; the forward matches float64', async () => {
  for (const device of devices) {
    const m = new nn.MLP(SIZES, { device, activation: 'tanh' });
    const v = hostState();
    const res = m.loadStateDict({
      'layers.0.weight': v[0],                                // Float32Array
      'layers.0.bias': [...v[1]],                             // number[]
      'layers.1.weight': nest(v[2], 4),                       // nested arrays [5, 4]
      'layers.1.bias': Float64Array.from(v[3]),               // another typed array
      'layers.2.weight': [...v[4]],                           // flat number[] for a 2-D tensor
      'layers.2.bias': tensor(v[5], { device }),              // a tensor on the same device
    });
    assert.equal(res, { missingKeys: [], unexpectedKeys: [] });
    const got = await read(m);
    v.forEach((vals, i) => assert.equal(got[i], fround(vals), `${device} ${KEYS[i]}`));
    const X = rng.array(7 * 3);
    const out = await m.forward(tensor(X, [7, 3], { device })).data();
    let h = nd(X, [7, 3]);
    for (let l = 0; l < 3; l++) h = linearForward(h, nd(v[2 * l], SHAPES[2 * l]), nd(v[2 * l + 1], SHAPES[2 * l + 1]), l < 2 ? 'tanh' : 'none');
    assert.ok(relErr(out, h.data) < 1e-5, `${device}: forward of the loaded weights vs float64: ${relErr(out, h.data)}`);
    m.dispose();
  }
});

test('loadStateDict from another model: a copy (not an alias), across devices where the source reads synchronously', async () => {
  for (const device of devices) {
    const a = new nn.MLP(SIZES, { device, seed: 1 }), b = new nn.MLP(SIZES, { device, seed: 2 });
    b.loadStateDict(a.stateDict());
    assert.equal(await read(b), await read(a));
    // Training a afterwards leaves b as it was loaded.
    const loaded = await read(b);
    const opt = new optim.SGD(a.parameters(), { lr: 0.5 });
    a.forward(tensor(rng.array(6), [2, 3], { device })).sum().backward();
    opt.step();
    assert.equal(await read(b), loaded);
    assert.not.equal(await read(a), loaded);
    // Loading a model's own state is a no-op.
    b.loadStateDict(b.stateDict());
    assert.equal(await read(b), loaded);
    a.dispose(); b.dispose();
  }
  if (devices.includes('webgpu')) {
    const w = new nn.MLP(SIZES, { device: 'wasm', seed: 4 }), g = new nn.MLP(SIZES, { device: 'webgpu', seed: 5 });
    g.loadStateDict(w.stateDict());          // WASM reads synchronously: allowed
    assert.equal(await read(g), await read(w));
    const before = await read(w);
    expectError(() => w.loadStateDict(new nn.MLP(SIZES, { device: 'webgpu' }).stateDict()),
      /loadStateDict: key 'layers.0.weight': the tensor is on webgpu and the module's on wasm; webgpu reads asynchronously: pass `await t.data\(\)` or `await t.to\('wasm'\)`/);
    assert.equal(await read(w), before);
    w.dispose(); g.dispose();
  }
});

test('parameters keep their identity: an optimizer made before the load steps from the loaded values', async () => {
  for (const device of devices) {
    const lin = new nn.Linear(3, 2, { device });
    const params = lin.parameters();
    const opt = new optim.SGD(params, { lr: 0.5 });
    const W = rng.array(6), b = rng.array(2), X = rng.array(4 * 3);
    lin.loadStateDict({ weight: W, bias: b });
    assert.ok(lin.parameters().every((p, i) => p === params[i]));
    // loss = Σ (x·W + b): dW[i][j] = Σ_r x[r][i], db[j] = rows.
    lin.forward(tensor(X, [4, 3], { device })).sum().backward();
    opt.step();
    const colSum = [0, 1, 2].map((i) => [0, 1, 2, 3].reduce((s, r) => s + Math.fround(X[r * 3 + i]), 0));
    const wantW = Array.from(W, (w, k) => Math.fround(w) - 0.5 * colSum[Math.floor(k / 2)]);
    const wantB = Array.from(b, (v) => Math.fround(v) - 0.5 * 4);
    assert.ok(relErr(await lin.weight.data(), wantW) < 1e-6, device);
    assert.ok(relErr(await lin.bias!.data(), wantB) < 1e-6, device);
    lin.dispose();
  }
});

test('a load queued among WebGPU work lands between the forwards before and after it', async () => {
  for (const device of devices) {
    const lin = new nn.Linear(2, 2, { device });
    lin.loadStateDict({ weight: [[1, 0], [0, 1]], bias: [0, 0] });
    const x = tensor([[1, 2]], { device });
    const y1 = lin.forward(x);                             // queued, not read
    lin.loadStateDict({ weight: [[2, 0], [0, 2]], bias: [1, 1] });
    const y2 = lin.forward(x);
    assert.equal([...await y1.data()], [1, 2], device);
    assert.equal([...await y2.data()], [3, 5], device);
    lp.dispose(x, y1, y2);
    lin.dispose();
  }
});

test('a failed load changes nothing and names the key (and both shapes)', async () => {
  for (const device of devices) {
    const m = new nn.MLP(SIZES, { device, seed: 6 });
    const before = await read(m);
    const v = hostState();
    const good = () => Object.fromEntries(KEYS.map((k, i) => [k, v[i]])) as Record<string, lp.nn.StateValue>;
    const dead = tensor(v[5], { device });
    dead.dispose();
    const cases: [Record<string, lp.nn.StateValue> | unknown, RegExp, object?][] = [
      [{ ...good(), 'layers.9.weight': v[0] }, /unexpected key\(s\) 'layers\.9\.weight'\. The module's keys are 'layers\.0\.weight', 'layers\.0\.bias'/],
      [(() => { const g = good(); delete g['layers.1.bias']; return g; })(), /missing key\(s\) 'layers\.1\.bias'/],
      // A bad last entry: a half-load would show in the keys before it.
      [{ ...good(), 'layers.2.bias': tensor([1, 2, 3], { device }) }, /key 'layers\.2\.bias': shape mismatch: the state dict has shape \[3\], the module's tensor is \[2\] \(2 values\)/],
      [{ ...good(), 'layers.2.weight': tensor(new Float32Array(8), [2, 4], { device }) }, /key 'layers\.2\.weight': shape mismatch: the state dict has shape \[2, 4\], the module's tensor is \[4, 2\]/],
      [{ ...good(), 'layers.2.weight': new Float32Array(7) }, /key 'layers\.2\.weight': shape mismatch: the state dict has 7 values, the module's tensor is \[4, 2\] \(8 values\)/],
      [{ ...good(), 'layers.1.weight': nest(v[2], 5) }, /key 'layers\.1\.weight': shape mismatch: the state dict has nested arrays of shape \[4, 5\], the module's tensor is \[5, 4\]/],
      [{ ...good(), 'layers.1.weight': [[1, 2, 3, 4], [1, 2]] }, /key 'layers\.1\.weight': nested arrays are ragged at \[1\]/],
      [{ ...good(), 'layers.2.bias': [1, 'a'] }, /key 'layers\.2\.bias': element \[1\] is string; needs a number|key 'layers\.2\.bias': .*needs a number/],
      [{ ...good(), 'layers.2.bias': null }, /key 'layers\.2\.bias': needs a Tensor, a typed array or \(nested\) number arrays, got null/],
      [{ ...good(), 'layers.2.bias': 'ab' }, /key 'layers\.2\.bias': needs a Tensor/],
      [{ ...good(), 'layers.2.bias': dead }, /key 'layers\.2\.bias': the tensor was disposed/],
      [{ ...good(), 'layers.2.bias': new BigInt64Array(2) }, /key 'layers\.2\.bias': a BigInt64Array is not numeric data/],
      [good(), /option 'strict' must be a boolean/, { strict: 'no' }],
      [good(), /unknown option 'strcit' \(did you mean 'strict'\?\); the options are: strict/, { strcit: false }],
      [null, /argument 'stateDict' must be an object \(or a Map\).*got null/],
      [[v[0]], /argument 'stateDict' must be an object.*got an array/],
    ];
    for (const [sd, re, opts] of cases) {
      expectError(() => m.loadStateDict(sd as lp.nn.StateDictInput, opts as lp.nn.LoadStateDictOptions), re);
      assert.equal(await read(m), before, `${device}: unchanged after ${re}`);
    }
    // Shapes are checked under strict: false too.
    expectError(() => m.loadStateDict({ 'layers.0.bias': [1, 2] }, { strict: false }), /key 'layers\.0\.bias': shape mismatch/);
    assert.equal(await read(m), before);
    m.dispose();
    expectError(() => m.loadStateDict(good()), /key 'layers\.0\.weight': the module's tensor was disposed/);
  }
});

test('strict: false loads a subset and reports what it skipped; a Map works as well', async () => {
  for (const device of devices) {
    const m = new nn.MLP(SIZES, { device, seed: 7 });
    const before = await read(m);
    const res = m.loadStateDict(new Map<string, lp.nn.StateValue>([['layers.1.bias', [1, 2, 3, 4]], ['head.weight', [1]]]), { strict: false });
    assert.equal(res, { missingKeys: ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.2.weight', 'layers.2.bias'], unexpectedKeys: ['head.weight'] });
    const after = await read(m);
    assert.equal(after[3], [1, 2, 3, 4]);
    for (const i of [0, 1, 2, 4, 5]) assert.equal(after[i], before[i]);
    m.dispose();
  }
});

class Stats extends nn.Module {
  readonly weight: lp.Tensor;
  readonly running: lp.Tensor;
  constructor(device: lp.DeviceName) {
    super();
    this.registerBuffer('runningMean', zeros([3], { device }));
    this.weight = this.registerParameter('weight', tensor([1, 1, 1], { requiresGrad: true, device }));
    this.running = this.registerBuffer('runningVar', tensor([1, 1, 1], { device }));
    this.registerBuffer('scratch', zeros([2], { device }), { persistent: false });
    this.registerBuffer('unused', null);
  }
  forward(x: lp.Tensor) { return x.mul(this.weight); }
}
class Outer extends nn.Module {
  readonly inner: Stats;
  constructor(device: lp.DeviceName) {
    super();
    this.registerBuffer('steps', zeros([1], { device }));
    this.inner = this.registerModule('inner', new Stats(device));
    this.registerParameter('scale', tensor([2], { requiresGrad: true, device }));
  }
  forward(x: lp.Tensor) { return this.inner.forward(x); }
}

test('buffers: after each module\'s parameters, saved unless non-persistent, loaded, kept by scopes, freed by dispose', async () => {
  for (const device of devices) {
    const m = scope(() => new Outer(device));     // made inside a scope: the buffers must survive it
    assert.equal(Object.keys(m.stateDict()), ['scale', 'steps', 'inner.weight', 'inner.runningMean', 'inner.runningVar']);
    assert.equal([...m.namedBuffers()].map(([k]) => k), ['steps', 'inner.runningMean', 'inner.runningVar', 'inner.scratch']);
    assert.equal([...m.namedParameters()].map(([k]) => k), ['scale', 'inner.weight'], 'buffers are not parameters');
    assert.ok(m.buffers().every((b) => !b.isDisposed && !b.requiresGrad));
    m.loadStateDict({ scale: [3], steps: [10], 'inner.weight': [1, 2, 3], 'inner.runningMean': [0.5, 0.25, 0], 'inner.runningVar': [4, 5, 6] });
    assert.equal([...await m.inner.running.data()], [4, 5, 6]);
    assert.equal([...await m.buffers()[1].data()], [0.5, 0.25, 0]);
    const bufs = m.buffers();
    m.dispose();
    assert.ok(bufs.every((b) => b.isDisposed));
  }
  const bad = new (class extends nn.Module {
    constructor() { super(); this.registerParameter('w', tensor([1], { requiresGrad: true })); }
    forward(x: lp.Tensor) { return x; }
    tryBuffer(name: string, t: lp.Tensor | null) { return this.registerBuffer(name, t); }
  })();
  expectError(() => bad.tryBuffer('w', zeros([1])), /registerBuffer: 'w' is already registered by registerParameter/);
  expectError(() => bad.tryBuffer('a.b', zeros([1])), /registerBuffer: name must be a non-empty string without '\.'/);
  expectError(() => bad.tryBuffer('g', tensor([1], { requiresGrad: true })), /registerBuffer: buffer 'g' requires a gradient/);
});

test.run();
