// convTranspose2d against the scatter definition in float64 (test/reference/conv.ts),
// its gradients against finite differences, on every device; PyTorch's values for a
// small case; errors. nn.ConvTranspose2d's round trip with PyTorch is in test/interop/torch.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Activation } from '../../src/backends/backend.js';
import { tensor, zeros } from '../../src/creation.js';
import { LeptonError } from '../../src/errors.js';
import { convTranspose2d, type ConvTranspose2dOptions } from '../../src/ops/conv-transpose.js';
import { Storage } from '../../src/tensor.js';
import * as nn from '../../src/nn/index.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import * as C from '../reference/conv.js';
import * as m from '../reference/math.js';
import type { Nd } from '../reference/ops.js';

const r = testRng('ops-conv-transpose');

/** act(convT(x, w) + b) and its VJP from the reference (dz = gy · act'(z)). */
function ref(x: Nd, w: Nd, b: Nd | null, o: ConvTranspose2dOptions, act: Activation, gy?: Nd, abs = false) {
  const z = C.convTranspose2dRef(x, w, b, o, undefined, abs).y;
  const y = { data: Float64Array.from(z.data, (v) => (abs ? Math.abs(v) : m.activation(act, v))), shape: z.shape };
  if (!gy) return { y };
  const dz = { data: Float64Array.from(gy.data, (v, i) => (abs ? Math.abs(v) : v * m.activationGrad(act, z.data[i]))), shape: gy.shape };
  const g = C.convTranspose2dRef(x, w, b, o, dz, abs);
  return { y, grads: b ? [g.dx, g.dw, g.db] : [g.dx, g.dw] };
}

/** A random geometry: strides up to 3, padding up to the kernel's span, outputPadding below the stride, dilation, groups. */
function randomCase() {
  const G = r.pick([1, 1, 2, 3]);
  const C0 = G * r.int(1, 3), Og = r.int(1, 3), Kh = r.int(1, 4), Kw = r.int(1, 4);
  const sh = r.int(1, 3), sw = r.int(1, 3), dh = r.pick([1, 1, 2]), dw = r.pick([1, 1, 2]);
  const H = r.int(1, 5), W = r.int(1, 5);
  // outputPadding below the stride or the dilation (PyTorch's rule: past the stride, rows no tap reaches).
  const o: ConvTranspose2dOptions = { stride: [sh, sw], dilation: [dh, dw], groups: G, outputPadding: [r.int(0, Math.max(sh, dh) - 1), r.int(0, Math.max(sw, dw) - 1)] };
  // Padding that leaves at least one output row and column.
  const full = (n: number, s: number, d: number, K: number) => (n - 1) * s + d * (K - 1) + 1;
  o.padding = [r.int(0, Math.floor((full(H, sh, dh, Kh) - 1) / 2)), r.int(0, Math.floor((full(W, sw, dw, Kw) - 1) / 2))];
  return { x: [r.int(1, 2), H, W, C0], w: [Kh, Kw, Og, C0], o, bias: r.int(0, 2) > 0, act: r.pick<Activation>(['none', 'none', 'tanh', 'sigmoid', 'gelu']) };
}

test('convTranspose2d (stride, padding, outputPadding, dilation, groups, bias, activation): 24 random geometries, forward, gradients, finite differences', async () => {
  for (let k = 0; k < 24; k++) {
    const c = randomCase();
    const inputs = [rnd(r, c.x), rnd(r, c.w), ...(c.bias ? [rnd(r, [c.w[2] * (c.o.groups ?? 1)])] : [])];
    await checkOp({
      name: `convTranspose2d x${JSON.stringify(c.x)} w${JSON.stringify(c.w)} ${JSON.stringify(c.o)} ${c.act}${c.bias ? ' +b' : ''}`,
      inputs,
      lib: ([x, w, b]) => convTranspose2d(x, w, b ?? null, { ...c.o, activation: c.act }),
      ref: ([x, w, b]) => ref(x, w, b ?? null, c.o, c.act).y,
      vjp: ([x, w, b], g) => ref(x, w, b ?? null, c.o, c.act, g).grads!,
      scale: ([x, w, b]) => ref(x, w, b ?? null, c.o, c.act, undefined, true).y,
      gradScale: ([x, w, b], g) => ref(x, w, b ?? null, c.o, c.act, g, true).grads!,
    }, r, 'convTranspose2d');
  }
});

test('convTranspose2d: the values PyTorch gives, and the transpose of conv2d', async () => {
  for (const device of devices) {
    // F.conv_transpose2d(arange(1, 5).view(1, 1, 2, 2), ones(1, 1, 2, 2), stride=2) in PyTorch 1.13: each input
    // pixel fills its own 2×2 block; with padding 1 the border row and column go.
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1], { device }), w = tensor([1, 1, 1, 1], [2, 2, 1, 1], { device });
    assert.equal([...await convTranspose2d(x, w, null, { stride: 2 }).data()], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    assert.equal([...await convTranspose2d(x, w, null, { stride: 2, padding: 1 }).data()], [1, 2, 3, 4]);
    assert.equal(convTranspose2d(x, w, null, { stride: 2, outputPadding: 1 }).shape, [1, 5, 5, 1]);
    // outputPadding may reach past the stride when the dilation is larger (PyTorch: [1, 1, 8, 8] for a 3×3 input and filter).
    const x3 = zeros([1, 3, 3, 2], { device }), w3 = zeros([3, 3, 1, 2], { device });
    assert.equal(convTranspose2d(x3, w3, null, { dilation: 2, outputPadding: 1 }).shape, [1, 8, 8, 1]);
    // <convT(x, w), y> = <x, conv2d(y, w)>: the same filter read both ways.
    const xs = rnd(r, [2, 3, 4, 4]), ws = rnd(r, [3, 2, 5, 4]), o = { stride: 2, padding: 1 };
    const xt = tensor(xs.data, xs.shape, { device }), wt = tensor(ws.data, ws.shape, { device });
    const yt = convTranspose2d(xt, wt, null, o);
    const ys = rnd(r, [...yt.shape]);
    const { conv2d } = await import('../../src/ops/conv.js');
    const back = conv2d(tensor(ys.data, ys.shape, { device }), wt, null, o);
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
    const lhs = dot(await yt.data(), ys.data), rhs = dot(xs.data, await back.data());
    assert.ok(Math.abs(lhs - rhs) < 1e-4 * Math.max(1, Math.abs(lhs)), `${device}: <convT(x, w), y> ${lhs} vs <x, conv2d(y, w)> ${rhs}`);
  }
});

test('nn.ConvTranspose2d: parameter shapes, a 2× upsampling, its output against the reference', async () => {
  for (const device of devices) {
    const l = new nn.ConvTranspose2d(4, 6, 4, { stride: 2, padding: 1, activation: 'relu', seed: 3, device });
    assert.equal([l.weight.shape, l.bias!.shape], [[4, 4, 6, 4], [6]]);
    const x = tensor(rnd(r, [2, 5, 5, 4]).data, [2, 5, 5, 4], { device });
    const y = l.forward(x);
    assert.equal(y.shape, [2, 10, 10, 6], 'kernel 4, stride 2, padding 1 doubles the size');
    const xg = rnd(r, [2, 5, 5, 4]), wg = { data: Float64Array.from(await l.weight.data()), shape: [...l.weight.shape] };
    const want = ref(xg, wg, { data: new Float64Array(6), shape: [6] }, { stride: 2, padding: 1 }, 'relu').y;
    const got = await l.forward(tensor(xg.data, xg.shape, { device })).data();
    const err = Math.max(...want.data.map((v, i) => Math.abs(v - got[i])));
    assert.ok(err < 1e-5, `${device}: layer output vs reference, max |Δ| ${err}`);
    l.dispose();
  }
});

test('convTranspose2d errors name the op and the dimension, before any kernel runs', () => {
  const X = [2, 4, 4, 4];
  const cases: [number[], number[], number[] | null, ConvTranspose2dOptions, RegExp][] = [
    [[4, 4, 4], [3, 3, 2, 4], null, {}, /convTranspose2d: argument 'x' must be 4-D/],
    [X, [3, 3, 2, 3], null, {}, /convTranspose2d: input channels differ: x \[2, 4, 4, 4\] has C = 4, w \[3, 3, 2, 3\] takes 3/],
    [X, [3, 3, 2, 4], null, { groups: 3 }, /convTranspose2d: groups = 3 does not divide the input channels C = 4/],
    [X, [3, 3, 2, 4], null, { stride: 2, outputPadding: 2 }, /convTranspose2d: option 'outputPadding' \[2, 2\] must be smaller than the stride \[2, 2\] or the dilation \[1, 1\]/],
    [X, [3, 3, 2, 4], null, { stride: [2, 1], dilation: [1, 3], outputPadding: [1, 3] }, /convTranspose2d: option 'outputPadding' \[1, 3\] must be smaller/],
    [[1, 0, 4, 4], [3, 3, 2, 4], null, {}, /convTranspose2d: needs a non-empty image, got x \[1, 0, 4, 4\]/],
    [X, [3, 3, 2, 4], null, { padding: 3 }, /convTranspose2d: output height would be 0 .*the padding 3 takes more than the full output/],
    [X, [3, 3, 2, 4], [3], {}, /convTranspose2d: argument 'b' has shape \[3\]; needs \[2\]/],
    [X, [3, 3, 2, 4], null, { stride: 0 }, /convTranspose2d: option 'stride' must be a positive integer/],
    [X, [3, 3, 2, 4], null, { output_padding: 1 } as ConvTranspose2dOptions, /convTranspose2d: unknown option 'output_padding' \(did you mean 'outputPadding'\?\)/],
  ];
  for (const [xs, ws, bs, o, re] of cases) {
    const x = zeros(xs), w = zeros(ws), b = bs ? zeros(bs) : null;
    const before = Storage.live;
    try {
      convTranspose2d(x, w, b, o);
      assert.unreachable(`no error for ${re}`);
    } catch (e) {
      assert.instance(e, LeptonError);
      assert.match((e as Error).message, re);
    }
    assert.is(Storage.live, before, `nothing allocated before the error ${re}`);
  }
  assert.throws(() => new nn.ConvTranspose2d(4, 6, 3, { stride: 2, outputPadding: 2 }), /nn.ConvTranspose2d: option 'outputPadding' \[2, 2\] must be smaller than the stride/);
  assert.throws(() => new nn.ConvTranspose2d(4, 6, 3).forward(zeros([1, 5, 5, 3])), /nn.ConvTranspose2d: input has 3 channels/);
});

test.run();
