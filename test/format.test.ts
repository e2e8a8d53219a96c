// t.toString() / toStringAsync() / util.inspect print values as PyTorch does
// (expected strings written from torch 2.x's output for the same tensors),
// with lepton's suffixes: the device, requires_grad, and the size where the
// values do not show it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inspect } from 'node:util';
import * as lp from '../src/index.js';
import { devices } from './helpers/backends.js';

const cases: [() => lp.Tensor, string][] = [
  [() => lp.tensor([[1, 2], [3, 4]]), "tensor([[1., 2.],\n        [3., 4.]], device='DEV')"],
  [() => lp.tensor([0.1, 2.5]), "tensor([0.1000, 2.5000], device='DEV')"],
  [() => lp.tensor([1e-5, 1]), "tensor([1.0000e-05, 1.0000e+00], device='DEV')"],
  [() => lp.tensor([-1, 10]), "tensor([-1., 10.], device='DEV')"],
  [() => lp.tensor(3), "tensor(3., device='DEV')"],
  [() => lp.tensor([NaN, 1.5, Infinity, -Infinity]), "tensor([   nan, 1.5000,    inf,   -inf], device='DEV')"],
  [() => lp.tensor([-0, 2]), "tensor([-0.,  2.], device='DEV')"],
  [() => lp.zeros([0, 3]), "tensor([], size=(0, 3), device='DEV')"],
  [() => lp.zeros([0]), "tensor([], device='DEV')"],
  [() => lp.ones([2, 2, 2]), "tensor([[[1., 1.],\n         [1., 1.]],\n\n        [[1., 1.],\n         [1., 1.]]], device='DEV')"],
  [() => lp.arange(2000), "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03], size=(2000,), device='DEV')"],
  [() => lp.arange(1001), "tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.], size=(1001,), device='DEV')"],
  [() => lp.zeros([100, 100]), `tensor([${Array.from({ length: 3 }, () => '[0., 0., 0.,  ..., 0., 0., 0.]').join(',\n        ')},\n        ...,\n        ${Array.from({ length: 3 }, () => '[0., 0., 0.,  ..., 0., 0., 0.]').join(',\n        ')}], size=(100, 100), device='DEV')`],
  // 9 per line: (80 − 7) / (6 + 2) columns, as torch.rand(10) prints.
  [() => lp.linspace(0, 1, 30), `tensor([${[[0, 9], [9, 18], [18, 27], [27, 30]].map(([a, b]) => Array.from({ length: b - a }, (_, i) => Math.fround(i + a < 15 ? (i + a) / 29 : 1 - (29 - i - a) / 29).toFixed(4)).join(', ')).join(',\n        ')}], device='DEV')`],
];

test('toString: numbers, formats, nesting, wrapping and elision as PyTorch', async () => {
  for (const device of devices) {
    for (const [make, want] of cases) {
      const t = lp.tensor(await make().data(), [...make().shape], { device });
      const expect = want.replace('DEV', device);
      assert.is(await t.toStringAsync(), expect);
      if (device === 'wasm') {
        assert.is(t.toString(), expect);
        assert.is(inspect(t), expect);
        assert.is(`${t}`, expect);
      }
    }
  }
});

test('toString: requires_grad, disposed tensors, and WebGPU without a synchronous read', async () => {
  const w = lp.tensor([1.5], { requiresGrad: true });
  assert.is(w.toString(), "tensor([1.5000], device='wasm', requires_grad=True)");
  w.dispose();
  assert.is(w.toString(), 'tensor(<disposed>, size=(1,))');
  if (devices.includes('webgpu')) {
    const g = lp.tensor([[1, 2]], { device: 'webgpu' });
    assert.is(g.toString(), "tensor(<on webgpu: await t.toStringAsync() for the values>, size=(1, 2), device='webgpu')");
    assert.is(await g.toStringAsync(), "tensor([[1., 2.]], device='webgpu')");
  }
});

test.run();
