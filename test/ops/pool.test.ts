import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, zeros } from '../../src/creation.js';
import { LeptonError } from '../../src/errors.js';
import { avgPool2d, globalAvgPool2d, maxPool2d, type Pool2dOptions } from '../../src/ops/pool.js';
import { Storage } from '../../src/tensor.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import * as C from '../reference/conv.js';
import type { Nd } from '../reference/ops.js';

const r = testRng('ops-pool');

const OPTS: [number[], Pool2dOptions][] = [
  [[2, 6, 6, 3], { kernelSize: 2 }],
  [[1, 7, 5, 2], { kernelSize: 3, stride: 2, padding: 1 }],
  [[2, 5, 8, 1], { kernelSize: [2, 3], stride: [1, 2], padding: [1, 1] }],
  [[1, 4, 4, 5], { kernelSize: 4 }],
  [[3, 5, 5, 2], { kernelSize: 3, stride: 1 }],
  // Ceil mode: last windows past the input (6 rows, 3 at stride 2), past the padding (6 columns, pad 1),
  // and one that would start in the bottom padding and is dropped (5 rows, 2 at stride 2, pad 1: 3 windows, not 4).
  [[1, 6, 7, 2], { kernelSize: 3, stride: 2, ceilMode: true }],
  [[2, 5, 6, 3], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }],
  [[1, 5, 5, 2], { kernelSize: 2, stride: 2, padding: 1, ceilMode: true }],
  // Dilation (max pooling only): with stride pairs, padding, ceil mode.
  [[1, 7, 8, 2], { kernelSize: 2, stride: 1, dilation: 2 }],
  [[2, 9, 6, 3], { kernelSize: 3, stride: [2, 1], padding: 1, dilation: [3, 2] }],
  [[1, 7, 7, 2], { kernelSize: 2, padding: 1, dilation: 3, ceilMode: true }],
];

const nd = (data: Float64Array, shape: number[]): Nd => ({ data, shape });

test('maxPool2d (with dilation) and avgPool2d (both count_include_pad): forward, gradient, finite differences', async () => {
  for (const [xs, o] of OPTS) {
    const g = C.poolGeom(xs, o), ys = [g.N, g.Ho, g.Wo, g.C];
    await checkOp({
      name: `maxPool2d x${JSON.stringify(xs)} ${JSON.stringify(o)}`, inputs: [rnd(r, xs, -2, 2)],
      lib: ([x]) => maxPool2d(x, o),
      ref: ([x]) => nd(C.maxPool(x.data, g).y, ys),
      vjp: ([x], gy) => [nd(C.maxPoolBackward(x.data, gy.data, g), xs)],
    }, r, 'maxPool2d');
    if (o.dilation !== undefined) continue;
    for (const countIncludePad of [true, false]) {
      await checkOp({
        name: `avgPool2d x${JSON.stringify(xs)} ${JSON.stringify(o)} countIncludePad ${countIncludePad}`, inputs: [rnd(r, xs)],
        lib: ([x]) => avgPool2d(x, { ...o, countIncludePad }),
        ref: ([x]) => nd(C.avgPool(x.data, g, countIncludePad), ys),
        vjp: ([, ], gy) => [nd(C.avgPoolBackward(gy.data, g, countIncludePad), xs)],
        scale: ([x]) => nd(C.avgPool(x.data, g, countIncludePad, true), ys),
        gradScale: (_, gy) => [nd(C.avgPoolBackward(gy.data, g, countIncludePad, true), xs)],
      }, r, 'avgPool2d');
    }
  }
});

test('globalAvgPool2d: [N, C] (or keepDims), gradient, finite differences', async () => {
  for (const [xs, keepDims] of [[[2, 3, 4, 5], false], [[1, 7, 1, 3], true], [[3, 1, 1, 2], false]] as [number[], boolean][]) {
    const [N, H, W, Cn] = xs;
    const mean = (x: Nd, abs = false) => {
      const out = new Float64Array(N * Cn);
      x.data.forEach((v, i) => { out[Math.floor(i / (H * W * Cn)) * Cn + (i % Cn)] += (abs ? Math.abs(v) : v) / (H * W); });
      return nd(out, keepDims ? [N, 1, 1, Cn] : [N, Cn]);
    };
    await checkOp({
      name: `globalAvgPool2d x${JSON.stringify(xs)}${keepDims ? ' keepDims' : ''}`, inputs: [rnd(r, xs)],
      lib: ([x]) => globalAvgPool2d(x, { keepDims }),
      ref: ([x]) => mean(x),
      vjp: (_, gy) => [nd(Float64Array.from({ length: N * H * W * Cn }, (__, i) => gy.data[Math.floor(i / (H * W * Cn)) * Cn + (i % Cn)] / (H * W)), xs)],
      scale: ([x]) => mean(x, true),
    }, r, 'globalAvgPool2d');
  }
});

test('PyTorch semantics: max ties send the gradient to the first maximum, NaN propagates, avg counts padding by default', async () => {
  for (const device of devices) {
    // One 2×2 window holding 3, 3, 1, 3: the gradient goes to the first 3 only.
    const x = tensor([3, 3, 1, 3], [1, 2, 2, 1], { device, requiresGrad: true });
    const y = maxPool2d(x, 2);
    y.backward(tensor([1], [1, 1, 1, 1], { device }));
    assert.equal([...await x.grad!.data()], [1, 0, 0, 0], `${device}: tie`);
    const xn = tensor([1, NaN, 5, 2], [1, 2, 2, 1], { device, requiresGrad: true });
    const yn = maxPool2d(xn, 2);
    assert.ok(Number.isNaN((await yn.data())[0]), `${device}: NaN propagates`);
    yn.backward(tensor([1], [1, 1, 1, 1], { device }));
    assert.equal([...await xn.grad!.data()], [0, 1, 0, 0], `${device}: the NaN gets the gradient`);
    // 3×3 windows at stride 1 with padding 1 on a 2×2 image of ones: every window holds 4 ones.
    const ones = tensor([1, 1, 1, 1], [1, 2, 2, 1], { device });
    assert.equal([...await avgPool2d(ones, { kernelSize: 3, stride: 1, padding: 1 }).data()].map((v) => +v.toFixed(6)), [0.444444, 0.444444, 0.444444, 0.444444]);
    assert.equal([...await avgPool2d(ones, { kernelSize: 3, stride: 1, padding: 1, countIncludePad: false }).data()], [1, 1, 1, 1]);
    // Ceil mode on a 4×4 image of ones, 3×3 windows at stride 2, padding 1: 3×3 outputs. With padding counted,
    // each window divides by its part inside the padded 6×6 (the last row and column of windows hang one
    // past it). The values PyTorch 1.13 gives for F.avg_pool2d(ones(1, 1, 4, 4), 3, 2, 1, ceil_mode=True).
    const ones4 = tensor(new Array(16).fill(1), [1, 4, 4, 1], { device });
    const ceil = { kernelSize: 3, stride: 2, padding: 1, ceilMode: true };
    assert.equal([...await avgPool2d(ones4, ceil).data()].map((v) => +v.toFixed(4)), [0.4444, 0.6667, 0.3333, 0.6667, 1, 0.5, 0.3333, 0.5, 0.25]);
    assert.equal([...await avgPool2d(ones4, { ...ceil, countIncludePad: false }).data()], new Array(9).fill(1));
    assert.equal(maxPool2d(ones4, ceil).shape, [1, 3, 3, 1]);
    // Dilation 10 with padding 1 on a 9×9 image: the one window's two taps per side fall on the padding
    // (rows −1 and 9), so it holds no input: PyTorch gives −inf; the gradient reaches no input.
    const x9 = tensor(Array.from({ length: 81 }, (_, i) => i), [1, 9, 9, 1], { device, requiresGrad: true });
    const y9 = maxPool2d(x9, { kernelSize: 2, stride: 1, padding: 1, dilation: 10 });
    assert.equal([...await y9.data()], [-Infinity]);
    y9.backward(tensor([1], [1, 1, 1, 1], { device }));
    assert.equal([...await x9.grad!.data()], new Array(81).fill(0));
    // A 1×1 image under a 2×2 window: floor mode has no window, ceil mode one (PyTorch gives 1 for both).
    const one = tensor([1], [1, 1, 1, 1], { device });
    assert.equal([...await maxPool2d(one, { kernelSize: 2, ceilMode: true }).data(), ...await avgPool2d(one, { kernelSize: 2, ceilMode: true }).data()], [1, 1]);
  }
});

test('pooling errors name the op and the dimension, before any kernel runs', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => maxPool2d(zeros([4, 4, 2]), 2), /maxPool2d: argument 'x' must be 4-D \[N, H, W, C\]/],
    [() => maxPool2d(zeros([1, 4, 4, 2]), { kernelSize: 3, padding: 2 }), /maxPool2d: padding \[2, 2\] must be at most half the kernel size \[3, 3\]/],
    [() => avgPool2d(zeros([1, 2, 4, 2]), 3), /avgPool2d: output height would be 0 .*kernel height 3 is larger than the padded input height 2/],
    [() => maxPool2d(zeros([1, 4, 4, 2]), { kernelSize: 0 }), /maxPool2d: option 'kernelSize' must be a positive integer/],
    [() => avgPool2d(zeros([1, 4, 4, 2]), { kernelSize: 2, stride: [1, 0] as [number, number] }), /avgPool2d: option 'stride' must be a positive integer/],
    [() => globalAvgPool2d(zeros([2, 3])), /globalAvgPool2d: argument 'x' must be 4-D/],
    [() => globalAvgPool2d(zeros([2, 0, 3, 1])), /globalAvgPool2d: needs a non-empty image/],
    // Options lepton does not have are refused, never ignored; PyTorch's spellings get the name to use.
    [() => avgPool2d(zeros([1, 4, 4, 2]), { kernelSize: 2, dilation: 2 } as Pool2dOptions), /avgPool2d: unknown option 'dilation'; the options are: kernelSize, stride, padding, ceilMode, countIncludePad/],
    [() => maxPool2d(zeros([1, 4, 4, 2]), { kernelSize: 2, dilation: 0 }), /maxPool2d: option 'dilation' must be a positive integer/],
    [() => maxPool2d(zeros([1, 4, 4, 2]), { kernelSize: 2, dilation: 4 }), /maxPool2d: output height would be 0 .*effective kernel height 5 is larger than the padded input height 4/],
    [() => avgPool2d(zeros([1, 4, 4, 2]), { kernelSize: 2, ceil_mode: true } as Pool2dOptions), /avgPool2d: unknown option 'ceil_mode' \(did you mean 'ceilMode'\?\)/],
    [() => avgPool2d(zeros([1, 4, 4, 2]), { kernelSize: 2, divisorOverride: 3 } as Pool2dOptions), /avgPool2d: unknown option 'divisorOverride'/],
    [() => maxPool2d(zeros([1, 4, 4, 2]), { kernelSize: 2, ceilMode: 1 as unknown as boolean }), /maxPool2d: option 'ceilMode' must be a boolean/],
    [() => maxPool2d(zeros([1, 4, 4, 2]), { kernelSize: 2, ceilMode: null as unknown as boolean }), /maxPool2d: option 'ceilMode' must be a boolean/],
    [() => maxPool2d(zeros([1, 4, 4, 2]), 'two' as unknown as number), /maxPool2d: needs options \{ kernelSize, stride\?, padding\?, ceilMode\?, dilation\? \} or a kernel size/],
    [() => avgPool2d(zeros([1, 4, 4, 2]), { kernelSize: 2, countIncludePad: 'no' as unknown as boolean }), /avgPool2d: option 'countIncludePad' must be a boolean/],
    [() => maxPool2d(zeros([1, 1, 4, 2]), { kernelSize: 3, stride: 2, ceilMode: true }), /maxPool2d: output height would be 0 \(needs at least 1, ceilMode\)/],
    [() => globalAvgPool2d(zeros([1, 4, 4, 2]), { keepdim: true } as { keepDims?: boolean }), /globalAvgPool2d: unknown option 'keepdim' \(did you mean 'keepDims'\?\)/],
  ];
  for (const [f, re] of cases) {
    const before = Storage.live;
    try {
      f();
      assert.unreachable(`no error for ${re}`);
    } catch (e) {
      assert.instance(e, LeptonError);
      assert.match((e as Error).message, re);
    }
    assert.is(Storage.live - before, 1, `only the input was allocated before the error ${re}`);
  }
});

test.run();
