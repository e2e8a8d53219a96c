// The public API as a user meets it: the README example, errors at the
// boundary, memory ownership, autograd semantics, devices.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../src/index.js';
import { record } from '../src/autograd.js';
import { getBackend } from '../src/backends/registry.js';
import { full, unaryRaw } from '../src/ops/elementwise.js';
import { Storage } from '../src/tensor.js';
import { devices } from './helpers/backends.js';

const { tensor, randn, zeros, matmul, nn, optim, scope, keep, noGrad } = lp;

test('the README example runs as written and its gradient is right', async () => {
  for (const device of devices) {
    await lp.init({ backend: device });
    const x = tensor([[1, 2], [3, 4]]);
    const w = randn([2, 3], { requiresGrad: true, seed: 1 });
    const y = matmul(x, w).relu().sum();
    y.backward();
    const wv = await w.data(), g = await w.grad!.data();
    // d/dw sum(relu(x·w)) = xᵀ · [x·w > 0]
    const xs = [[1, 2], [3, 4]];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      let expect = 0;
      for (let r = 0; r < 2; r++) expect += (xs[r][0] * wv[j] + xs[r][1] * wv[3 + j] > 0 ? 1 : 0) * xs[r][i];
      assert.ok(Math.abs(g[i * 3 + j] - expect) < 1e-6, `${device} grad[${i},${j}] ${g[i * 3 + j]} vs ${expect}`);
    }
    assert.ok(g instanceof Float32Array);
    lp.dispose(x, w, y, w.grad);
  }
  await lp.init({ backend: 'wasm' });
});

test('tensor() validates data and shape', () => {
  assert.throws(() => tensor([[1, 2], [3]]), /tensor: nested arrays are ragged/);
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /data has 3 values but shape \[2, 2\] needs 4/);
  assert.throws(() => tensor(new Float32Array(4), [2, -2]), /size -2 .*non-negative integers/);
  assert.throws(() => tensor(new Float32Array(4), [2, 1.5]), /size 1.5/);
  assert.throws(() => zeros([2, 3.5]), /zeros|full/);
  assert.throws(() => tensor([[1, 'a' as unknown as number]]), /needs a number/);
});

test('shape errors name the op, the argument and both shapes', () => {
  const a = tensor(new Float32Array(6), [2, 3]), b = tensor(new Float32Array(8), [4, 2]);
  assert.throws(() => matmul(a, b), /matmul: inner sizes differ: a is \[2, 3\] \(K = 3\), b is \[4, 2\] \(K = 4\)/);
  assert.throws(() => a.add(b), /add: shapes \[2, 3\] and \[4, 2\] cannot be broadcast/);
  assert.throws(() => a.reshape([4, 2]), /reshape: cannot view shape \[2, 3\] \(6 elements\) as \[4, 2\] \(8 elements\)/);
  assert.throws(() => a.sum(2), /sum: axis 2 is out of range for a tensor of rank 2/);
  assert.throws(() => a.transpose([0, 0]), /transpose: argument 'perm'/);
  assert.throws(() => lp.linear(a, b), /linear: argument 'x' has shape \[2, 3\]; needs \[\.\.\., 4\]/);
  assert.throws(() => lp.mse(a, b), /mse: argument 'target' has shape \[4, 2\]; needs \[2, 3\]/);
  lp.dispose(a, b);
});

test('backward on a non-scalar needs a gradient; a wrong-shaped gradient is refused', () => {
  const w = randn([2, 3], { requiresGrad: true });
  const y = w.mul(2);
  assert.throws(() => y.backward(), /backward: called on a non-scalar tensor of shape \[2, 3\] without a gradient/);
  assert.throws(() => y.backward(tensor([1, 2])), /argument 'grad' has shape \[2\], needs \[2, 3\]/);
  assert.is(w.grad, null, 'a refused backward leaves no gradient');
  const x = tensor([1, 2]);
  assert.throws(() => x.sum().backward(), /does not require a gradient/);
  lp.dispose(w, y, x);
});

test('use after dispose is an error naming the op and argument', () => {
  const a = tensor([1, 2, 3]);
  a.dispose();
  assert.ok(a.isDisposed);
  assert.throws(() => a.exp(), /exp: argument 'x' \(tensor #\d+, shape \[3\]\) was disposed/);
  assert.throws(() => lp.add(tensor([1, 1, 1]), a), /add: argument 'b' .* was disposed/);
  a.dispose(); // twice is fine
});

test('tensors on two devices are an error that names both', async () => {
  if (devices.length < 2) return; // needs both backends; CI always has both
  const a = tensor([1, 2], { device: 'wasm' }), b = tensor([1, 2], { device: 'webgpu' });
  assert.throws(() => a.add(b), /add: tensors are on different devices: 'a' \[2\] is on wasm, 'b' \[2\] is on webgpu/);
  const moved = await b.to('wasm');
  assert.is(moved.device, 'wasm');
  assert.equal([...await a.add(moved).data()], [2, 4]);
  lp.dispose(a, b, moved);
});

test('gradients accumulate across backward calls until zeroGrad', async () => {
  const w = tensor([1, 2, 3], { requiresGrad: true });
  w.mul(w).sum().backward();
  w.mul(3).sum().backward();
  assert.equal([...await w.grad!.data()], [5, 7, 9]);
  const opt = new optim.SGD([w], { lr: 0.1 });
  opt.zeroGrad();
  assert.is(w.grad, null);
  lp.dispose(w);
});

test('a tensor used twice gets the sum of both paths', async () => {
  const x = tensor([0.5, -1], { requiresGrad: true });
  const y = x.mul(x).add(x.exp()).sum(); // d/dx = 2x + e^x
  y.backward();
  const g = await x.grad!.data();
  assert.ok(Math.abs(g[0] - (1 + Math.exp(0.5))) < 1e-6 && Math.abs(g[1] - (-2 + Math.exp(-1))) < 1e-6);
  lp.dispose(x, y);
});

test('noGrad records nothing', () => {
  const w = randn([3], { requiresGrad: true });
  const y = noGrad(() => w.mul(2).sum());
  assert.is(y.requiresGrad, false);
  assert.is(y.gradFn, null);
  lp.dispose(w, y);
});

test('scope frees intermediates and keeps what it returns; using disposes', () => {
  const w = randn([4, 4], { requiresGrad: true });
  let inner: lp.Tensor | null = null;
  const out = scope(() => {
    inner = w.mul(2);
    const y = inner.relu();
    return { y };
  });
  assert.ok(inner!.isDisposed, 'intermediate freed');
  assert.ok(!out.y.isDisposed, 'returned tensor kept');
  assert.ok(!w.isDisposed, 'parameter kept');
  {
    using t = tensor([1, 2]);
    inner = t;
  }
  assert.ok(inner!.isDisposed, 'using disposed it');
  assert.throws(() => scope(() => Promise.resolve(1)), /scope: the function returned a Promise/);
  lp.dispose(w, out);
});

test('a throwing step leaves nothing half-updated', async () => {
  const a = tensor([1, 2, 3], { requiresGrad: true }), b = tensor([1, 2], { requiresGrad: true });
  a.sum().backward();
  b.grad = tensor([1, 2, 3]); // wrong shape, set by hand
  const before = await a.data();
  const opt = new optim.SGD([a, b], { lr: 1 });
  assert.throws(() => opt.step(), /optim.SGD.step: params\[1\].grad has shape \[3\]; needs \[2\]/);
  assert.equal(await a.data(), before, 'the first parameter was not updated');
  lp.dispose(a, b, a.grad, b.grad);
});

test('optimizers validate their options', () => {
  const w = randn([2], { requiresGrad: true });
  assert.throws(() => new optim.SGD([w], { lr: -1 }), /optim.SGD: option 'lr' must be a finite number >= 0, got -1/);
  assert.throws(() => new optim.Adam([w], { betas: [0.9, 1] }), /optim.Adam: option 'betas' must be an array of 2 values \(a number in \[0, 1\), a number in \[0, 1\)\), got \[0.9, 1\]/);
  assert.throws(() => new optim.SGD([tensor([1])]), /does not require a gradient/);
  assert.throws(() => new nn.MLP([2, 0, 3]), /nn.MLP: argument 'sizes'/);
  assert.throws(() => new nn.Linear(2, 3, { activation: 'swish' as lp.Activation }), /option 'activation' must be one of/);
  w.dispose();
});

test('init() rejects unknown backends; dataSync works on WASM only', async () => {
  await assert.not.throws(async () => lp.init({ backend: 'wasm' }));
  try {
    await lp.init({ backend: 'cuda' as lp.DeviceName });
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, /init: option 'backend' must be one of 'auto', 'webgpu', 'wasm', got "cuda"/);
  }
  const t = tensor([1, 2]);
  assert.equal([...t.dataSync()], [1, 2]);
  t.dispose();
  if (devices.includes('webgpu')) {
    const g = tensor([1, 2], { device: 'webgpu' });
    assert.throws(() => g.dataSync(), /dataSync: the webgpu backend reads asynchronously/);
    g.dispose();
  }
});

test('model.prepare(batch) compiles a training step\'s WebGPU products ahead of first use', async () => {
  if (!devices.includes('webgpu')) return; // no adapter: reported loudly by the helper, a failure under CI
  const { getBackend } = await import('../src/backends/registry.js');
  const be = getBackend('webgpu') as unknown as { stats: { pipelines: number } };
  // 48 inputs to the second layer: on a CPU adapter its dZ is formed as a separate pass (linearPlan).
  const model = new nn.MLP([20, 48, 32, 5], { activation: 'relu', seed: 2, device: 'webgpu' });
  const step = (batch: number) => scope(() => {
    const y = model.forward(randn([batch, 20], { device: 'webgpu', seed: batch }));
    y.backward(randn(y.shape as number[], { device: 'webgpu', seed: 1 }));
  });
  step(3); // compiles the non-matmul kernels, which do not depend on the batch size
  model.zeroGrad();
  await model.prepare(300);
  const before = be.stats.pipelines;
  step(300);
  assert.is(be.stats.pipelines, before, 'the first step after prepare() compiled a pipeline');
  await model.prepare(300); // idempotent
  let refused = '';
  await model.layers[0].prepare(0).catch((e: Error) => { refused = e.message; });
  assert.match(refused, /nn.Linear.prepare: argument 'batch' must be a positive integer, got 0/);
  model.dispose();
});

test('seeded models and randn are reproducible', async () => {
  const a = new nn.MLP([3, 5, 2], { seed: 7 }), b = new nn.MLP([3, 5, 2], { seed: 7 });
  const pa = a.parameters(), pb = b.parameters();
  for (let i = 0; i < pa.length; i++) assert.equal(await pa[i].data(), await pb[i].data());
  assert.equal(await randn([5], { seed: 3 }).data(), await randn([5], { seed: 3 }).data());
  a.dispose(); b.dispose();
});

// Storage.live (every backend's storages) is read with no await in between: no finalizer runs meanwhile.

test('backward after the scope that made the graph has exited', async () => {
  for (const device of devices) {
    const model = new nn.MLP([3, 8, 4], { activation: 'gelu', seed: 3, device });
    const x = randn([5, 3], { seed: 4, device }), labels = [0, 3, 1, 2, 3];
    scope(() => nn.crossEntropy(model.forward(x), labels).backward());
    const want = await Promise.all(model.parameters().map((p) => p.grad!.data()));
    model.zeroGrad();
    const before = Storage.live;
    const loss = scope(() => nn.crossEntropy(model.forward(x), labels));
    loss.backward();
    // Left: the loss and one gradient per parameter; the graph freed what it held.
    assert.is(Storage.live - before, 1 + model.parameters().length, `${device}: storage left after backward`);
    const got = await Promise.all(model.parameters().map((p) => p.grad!.data()));
    got.forEach((g, i) => assert.equal(g, want[i], `${device}: gradient ${i} differs from the step run inside one scope`));
    lp.dispose(x, loss);
    model.dispose();
  }
});

test('disposing an intermediate before backward never breaks it', async () => {
  for (const device of devices) {
    const xs = [[1, 2], [3, -4]], ws = [[0.5, -1], [0.25, 0.125]];
    const x = tensor(xs, { device }), w = tensor(ws, { requiresGrad: true, device });
    const h = matmul(x, w), y = h.tanh(), loss = y.sum();
    lp.dispose(x, h, y);
    assert.ok(h.isDisposed);
    assert.throws(() => h.exp(), /exp: argument 'x' \(tensor #\d+, shape \[2, 2\]\) was disposed/);
    loss.backward();
    // d/dw Σ tanh(x·w) = xᵀ · (1 − tanh²(x·w)), in float64
    const g = await w.grad!.data();
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
      let expect = 0;
      for (let r = 0; r < 2; r++) expect += xs[r][i] * (1 - Math.tanh(xs[r][0] * ws[0][j] + xs[r][1] * ws[1][j]) ** 2);
      assert.ok(Math.abs(g[i * 2 + j] - expect) < 1e-6, `${device} grad[${i},${j}] ${g[i * 2 + j]} vs ${expect}`);
    }
    lp.dispose(w, loss);
  }
});

test('a training step without scope leaves nothing allocated once backward ran', () => {
  for (const device of devices) {
    const model = new nn.MLP([4, 16, 16, 3], { activation: 'gelu', seed: 5, device });
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const step = (seed: number) => {
      const x = randn([8, 4], { seed, device });
      const out = model.forward(x);
      const loss = nn.crossEntropy(out, [0, 1, 2, 0, 1, 2, 0, 1]);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      lp.dispose(x, out, loss);
    };
    step(1); // makes the gradients and the momentum buffers
    const mem = (getBackend(device) as unknown as { mem?: { inUse: number } }).mem; // WASM's allocator (test-only)
    const before = Storage.live, bytes = mem?.inUse;
    step(2);
    step(3);
    assert.is(Storage.live, before, `${device}: storages alive after two more steps`);
    if (mem) assert.is(mem.inUse, bytes, 'wasm: bytes in use after two more steps');
    opt.dispose();
    model.dispose();
  }
});

test('a wrong gradient from an op is an internal error naming the op', () => {
  const x = randn([2, 3], { requiresGrad: true });
  const wrongShape = record('wrongop', unaryRaw('copy', x), [x], [], (g) => [full(g.backend, [3, 2], 1)]).sum();
  assert.throws(() => wrongShape.backward(), (e: Error) => e instanceof lp.LeptonError
    && /^backward: internal: gradient of 'wrongop' input 0 has shape \[3, 2\], needs \[2, 3\]/.test(e.message));
  const twoForOne = record('twoforone', unaryRaw('copy', x), [x], [], (g) => [g, g]).sum();
  assert.throws(() => twoForOne.backward(), /backward: internal: the gradient of 'twoforone' returned 2 gradients for 1 inputs/);
  if (devices.includes('webgpu')) {
    const elsewhere = record('elsewhere', unaryRaw('copy', x), [x], [], (g) => [full(getBackend('webgpu'), g.shape, 1)]).sum();
    assert.throws(() => elsewhere.backward(), /backward: internal: gradient of 'elsewhere' input 0 is on webgpu, needs wasm/);
  }
  assert.is(x.grad, null, 'nothing accumulated');
  x.dispose();
});

test('gradient temporaries are freed, and backward frees the graph', () => {
  const x = randn([4, 5], { requiresGrad: true, seed: 6 });
  const base = Storage.live;
  const loss = scope(() => x.softmax().mul(x).exp().sum());
  // Alive: the loss, and the softmax and exp outputs the graph saved (the scope freed the rest).
  assert.is(Storage.live - base, 3);
  loss.backward();
  // Alive: the loss and x.grad. The saved outputs and every temporary of the gradient formulas are gone.
  assert.is(Storage.live - base, 2);
  assert.ok(x.grad && !x.grad.isDisposed);
  lp.dispose(x, x.grad, loss);
});

test('retainGraph keeps the saved tensors for a second backward, which frees them', async () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const base = Storage.live;
  const loss = scope(() => x.exp().sum());
  loss.backward(undefined, { retainGraph: true });
  assert.is(Storage.live - base, 3, 'the loss, the exp output its graph saved, x.grad');
  loss.backward();
  assert.is(Storage.live - base, 2, 'the second backward freed the saved output');
  const g = await x.grad!.data();
  [1, 2, 3].forEach((v, i) => assert.ok(Math.abs(g[i] - 2 * Math.exp(v)) < 1e-5 * Math.exp(v)));
  lp.dispose(x, x.grad, loss);
});

test('a scope or dispose() frees a graph nobody can reach; keep() and a returned tensor keep theirs', async () => {
  const w = randn([3, 3], { requiresGrad: true, seed: 7 }), x = randn([2, 3], { seed: 8 });
  const base = Storage.live;
  scope(() => { matmul(x, w).gelu().sum(); }); // a forward with gradients on, never backpropagated
  assert.is(Storage.live, base, 'a graph nobody can reach kept storage');
  const m = matmul(x, w), h = m.gelu(); // the same without a scope, disposed by hand in any order
  lp.dispose(m, h);
  assert.is(Storage.live, base, 'a graph nobody can reach kept storage after dispose()');
  let kept: lp.Tensor | null = null;
  scope(() => { kept = keep(matmul(x, w).tanh().sum()); });
  assert.is(Storage.live - base, 2, 'the kept loss and the tanh output its graph saved');
  kept!.backward();
  const g = await w.grad!.data();
  assert.ok(g.some((v) => v !== 0));
  lp.dispose(w, x, w.grad, kept);
});

test.run();
