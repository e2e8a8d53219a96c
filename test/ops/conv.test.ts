import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Activation } from '../../src/backends/backend.js';
import { tensor, zeros } from '../../src/creation.js';
import { LeptonError } from '../../src/errors.js';
import { conv2d, type Conv2dOptions } from '../../src/ops/conv.js';
import { Storage } from '../../src/tensor.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import * as C from '../reference/conv.js';

const r = testRng('ops-conv');

interface Case { x: number[]; w: number[]; bias: boolean; o: Conv2dOptions; act: Activation; grads?: boolean[] }

const CASES: Case[] = [
  { x: [2, 5, 6, 3], w: [3, 3, 3, 4], bias: true, o: {}, act: 'none' },
  { x: [1, 7, 5, 2], w: [3, 2, 2, 3], bias: true, o: { padding: 'same' }, act: 'relu' },
  { x: [2, 7, 7, 3], w: [3, 3, 3, 2], bias: false, o: { padding: 'same', stride: 2 }, act: 'tanh' },
  { x: [1, 6, 5, 4], w: [2, 3, 2, 4], bias: true, o: { groups: 2, padding: [1, 2] }, act: 'sigmoid' },
  { x: [2, 5, 5, 3], w: [3, 3, 1, 3], bias: true, o: { groups: 3, padding: 1 }, act: 'gelu' },
  { x: [1, 8, 7, 2], w: [3, 3, 2, 3], bias: true, o: { dilation: 2, padding: [2, 0, 1, 3] }, act: 'relu' },
  { x: [3, 4, 4, 5], w: [1, 1, 5, 3], bias: true, o: {}, act: 'gelu' },
  { x: [1, 3, 4, 2], w: [5, 6, 2, 2], bias: true, o: { padding: [1, 1, 1, 1] }, act: 'tanh' },
  { x: [2, 9, 8, 1], w: [5, 5, 1, 4], bias: true, o: { padding: 'same', stride: [2, 3] }, act: 'none' },
  { x: [1, 6, 6, 3], w: [3, 3, 3, 4], bias: true, o: { padding: 'same' }, act: 'relu', grads: [true, false, true] },
  { x: [1, 6, 6, 3], w: [3, 3, 3, 4], bias: true, o: { padding: 'same' }, act: 'sigmoid', grads: [false, true, false] },
  { x: [1, 5, 5, 2], w: [3, 3, 2, 2], bias: true, o: {}, act: 'tanh', grads: [false, false, true] },
];

test('conv2d (stride, padding, dilation, groups, every activation): forward, gradients, finite differences', async () => {
  for (const c of CASES) {
    const draw = () => [rnd(r, c.x), rnd(r, c.w), ...(c.bias ? [rnd(r, [c.w[3]])] : [])];
    let inputs = draw();
    // relu' flips where float32 and float64 disagree on the sign of a pre-activation ~0: redraw near the kink.
    const nearKink = ([x, w, b]: typeof inputs) => {
      const z = C.conv2dForward(x, w, b ?? null, c.o).data, zs = C.conv2dForward(x, w, b ?? null, c.o, 'none', true).data;
      return z.some((v, i) => Math.abs(v) < 1e-4 * zs[i]);
    };
    while (c.act === 'relu' && nearKink(inputs)) inputs = draw();
    const grads = c.grads ?? inputs.map(() => true);
    await checkOp({
      name: `conv2d x${JSON.stringify(c.x)} w${JSON.stringify(c.w)} ${JSON.stringify(c.o)} ${c.act}${c.bias ? ' +b' : ''}`,
      inputs, grads,
      lib: ([x, w, b]) => conv2d(x, w, b ?? null, { ...c.o, activation: c.act }),
      ref: ([x, w, b]) => C.conv2dForward(x, w, b ?? null, c.o, c.act),
      vjp: ([x, w, b], g) => C.conv2dVjp(x, w, b ?? null, c.o, c.act, g),
      scale: ([x, w, b]) => C.conv2dForward(x, w, b ?? null, c.o, c.act, true),
      gradScale: ([x, w, b], g) => C.conv2dVjp(x, w, b ?? null, c.o, c.act, g, true),
      noFd: c.act === 'relu',
    }, r, 'conv2d');
  }
});

test("'same' padding follows TensorFlow at stride > 1 and keeps the size at stride 1", async () => {
  for (const device of devices) {
    const x = zeros([1, 7, 8, 1], { device }), w = zeros([3, 4, 1, 1], { device });
    assert.equal([...conv2d(x, w, null, { padding: 'same' }).shape], [1, 7, 8, 1]);
    // ⌈7/2⌉ = 4, ⌈8/3⌉ = 3, whatever the kernel.
    assert.equal([...conv2d(x, w, null, { padding: 'same', stride: [2, 3] }).shape], [1, 4, 3, 1]);
    x.dispose(); w.dispose();
  }
  // The extra row of padding goes at the bottom: with a 2×1 kernel of [1, 10] at stride 1 the last output reads padding.
  const x = tensor([1, 2, 3], [1, 3, 1, 1]), w = tensor([1, 10], [2, 1, 1, 1]);
  assert.equal([...await conv2d(x, w, null, { padding: 'same' }).data()], [21, 32, 3]);
});

test('conv2d shape errors name the op and the dimension, before any kernel runs', () => {
  const X = [2, 5, 5, 4];
  const cases: [number[], number[], number[] | null, Conv2dOptions, RegExp][] = [
    [[5, 5, 4], [3, 3, 4, 2], null, {}, /conv2d: argument 'x' must be 4-D \[N, H, W, C\].*got \[5, 5, 4\]/],
    [X, [3, 3, 4], null, {}, /conv2d: argument 'w' must be 4-D \[Kh, Kw, C \/ groups, O\].*got \[3, 3, 4\]/],
    [X, [3, 3, 3, 2], null, {}, /conv2d: input channels differ: x \[2, 5, 5, 4\] has C = 4, w \[3, 3, 3, 2\] takes 3 .*needs w of shape \[3, 3, 4, 2\]/],
    [X, [3, 3, 2, 3], null, { groups: 2 }, /conv2d: groups = 2 does not divide the output channels O = 3/],
    [X, [3, 3, 1, 3], null, { groups: 3 }, /conv2d: groups = 3 does not divide the input channels C = 4/],
    [X, [6, 3, 4, 2], null, {}, /conv2d: output height would be 0 .*kernel height 6 is larger than the padded input height 5 \+ 0 \+ 0 = 5/],
    [X, [3, 3, 4, 2], null, { dilation: 3 }, /conv2d: output height would be -1 .*effective kernel height 7/],
    [[2, 5, 0, 4], [1, 1, 4, 2], null, {}, /conv2d: output width would be 0/],
    [X, [3, 3, 4, 2], [3], {}, /conv2d: argument 'b' has shape \[3\]; needs \[2\]/],
    [X, [3, 3, 4, 2], null, { stride: 0 }, /conv2d: option 'stride' must be a positive integer/],
    [X, [3, 3, 4, 2], null, { padding: -1 }, /conv2d: option 'padding' must be a non-negative integer/],
    [X, [3, 3, 4, 2], null, { groups: 0 }, /conv2d: option 'groups' must be a positive integer/],
    [X, [3, 3, 4, 2], null, { activation: 'swish' as Activation }, /conv2d: option 'activation' must be one of/],
    // A misspelt or foreign option is refused, never ignored.
    [X, [3, 3, 4, 2], null, { strides: 2 } as Conv2dOptions, /conv2d: unknown option 'strides' \(did you mean 'stride'\?\); the options are: stride, padding, dilation, groups, activation/],
    [X, [3, 3, 4, 2], null, { bias: true } as Conv2dOptions, /conv2d: unknown option 'bias'/],
  ];
  for (const device of devices) {
    for (const [xs, ws, bs, o, re] of cases) {
      const x = zeros(xs, { device }), w = zeros(ws, { device }), b = bs ? zeros(bs, { device }) : null;
      const before = Storage.live;
      try {
        conv2d(x, w, b, o);
        assert.unreachable(`no error for ${re}`);
      } catch (e) {
        assert.instance(e, LeptonError);
        assert.match((e as Error).message, re);
      }
      // Nothing was allocated for a kernel.
      assert.is(Storage.live, before, `${device}: storage allocated before the error ${re}`);
      for (const t of [x, w, b]) t?.dispose();
    }
  }
});

test.run();
