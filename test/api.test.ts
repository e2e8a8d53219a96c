// The public API as a user meets it: the README example, errors at the
// boundary, memory ownership, autograd semantics, devices.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../src/index.js';
import { devices } from './helpers/backends.js';

const { tensor, randn, zeros, matmul, nn, optim, scope, noGrad } = lp;

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
  assert.throws(() => new optim.SGD([w], { lr: -1 }), /optim.SGD: option 'lr' must be a number in \(0, Infinity\), got -1/);
  assert.throws(() => new optim.Adam([w], { betas: [0.9, 1] }), /optim.Adam: option 'betas\[1\]'/);
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
    assert.match((e as Error).message, /init: option 'backend' must be 'auto', 'webgpu' or 'wasm', got "cuda"/);
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
  // 48 inputs to the second layer: on a CPU adapter its dZ is formed as a separate pass (prologueAsPass).
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

test.run();
