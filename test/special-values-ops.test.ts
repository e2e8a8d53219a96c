// Special values through the public ops on every device: forward and
// gradient against the float64 reference (test/reference/ops.ts) with IEEE and
// PyTorch semantics, and what the ops layer adds: number operands, rank-0 and
// empty tensors, losses with −inf logits, argmax. Rules: helpers/special.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { argmax, argmin, clamp, concat, cumsum, pow, slice, topk, where, crossEntropy, LeptonError, linear, logSoftmax, max, mean, mse, softmax, sum, tensor, type Activation, type Tensor } from '../src/index.js';
import * as ops from '../src/ops/elementwise.js';
import { broadcastTo, transpose } from '../src/ops/shape.js';
import { devices } from './helpers/backends.js';
import { testRng } from './helpers/random.js';
import { answers, DENORM_MIN, isDenormal, PAIR_VALUES, show, SPECIALS, SpecialTable, type Policy } from './helpers/special.js';
import * as m from './reference/math.js';
import * as R from './reference/ops.js';

const r = testRng('special-values-ops');
const table = new SpecialTable('special values, ops');
const beOf = (device: string) => ({ name: device }) as never; // answers() needs the device's name only

/** Runs f on `data` as a [n] tensor with a gradient; returns the output and the gradient for an all-ones g. */
async function forwardBackward(device: string, inputs: ArrayLike<number>[], f: (xs: Tensor[]) => Tensor, shape?: number[]) {
  const xs = inputs.map((d) => tensor(Float32Array.from(d), shape ?? [d.length], { device: device as never, requiresGrad: true }));
  const y = f(xs);
  y.backward(tensor(new Float32Array(y.size).fill(1), [...y.shape], { device: device as never }));
  const out = await y.data();
  const grads = await Promise.all(xs.map((x) => x.grad!.data()));
  for (const t of [y, ...xs.flatMap((x) => [x, x.grad!])]) t.dispose();
  return { out, grads };
}

const UNARY: [string, (x: Tensor) => Tensor][] = [['neg', ops.neg], ['exp', ops.exp], ['log', ops.log], ['abs', ops.abs],
  ['sqrt', ops.sqrt], ['square', ops.square], ['relu', ops.relu], ['gelu', ops.gelu], ['tanh', ops.tanh], ['sigmoid', ops.sigmoid], ['clone', ops.clone]];

test('unary ops and their gradients at every special input', async () => {
  for (const [name, fn] of UNARY) {
    for (const device of devices) {
      const { out, grads: [dx] } = await forwardBackward(device, [SPECIALS], ([x]) => fn(x));
      const fp: Policy = { flushes: ['exp', 'gelu', 'sigmoid'].includes(name) };
      // tanh′ = 1 − y² and sigmoid′ = y(1 − y) come from the float32 output (as in PyTorch): ±2^-24 near |y| = 1.
      const gp: Policy = { ...fp, atol: name === 'tanh' || name === 'sigmoid' ? 3e-7 : name === 'gelu' ? 1e-7 : 0, signedZero: name !== 'gelu' };
      SPECIALS.forEach((x, i) => {
        table.check(name, device, `${name}(${show(x)})`, out[i], answers(beOf(device), (t) => R.unaryForward(name, R.nd([t], [1])).data[0], [x], fp), fp);
        table.check(`${name} gradient`, device, `${name}′(${show(x)})`, dx[i], answers(beOf(device), (t) => R.unaryDerivative[name](t), [x], gp), gp);
      });
    }
  }
  table.assertClean();
});

test('binary ops and both gradients for every pair of special values', async () => {
  const pairs = PAIR_VALUES.flatMap((a) => PAIR_VALUES.map((b) => [a, b]));
  const A = pairs.map((p) => p[0]), B = pairs.map((p) => p[1]);
  for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const) {
    const p: Policy = { signedZero: op !== 'maximum' && op !== 'minimum' };
    const one = (a: number, b: number) => [R.nd([a], [1]), R.nd([b], [1])] as const;
    for (const device of devices) {
      const { out, grads: [da, db] } = await forwardBackward(device, [A, B], ([a, b]) => ops[op](a, b));
      pairs.forEach(([a, b], i) => {
        const vjp = (k: number) => (x: number, y: number) => R.binaryVjp(op, ...one(x, y), R.nd([1], [1]))[k].data[0];
        table.check(op, device, `${op}(${show(a)}, ${show(b)})`, out[i], answers(beOf(device), (x, y) => m.binary(op, x, y), [a, b], p), p);
        table.check(`${op} gradient`, device, `∂a ${op}(${show(a)}, ${show(b)})`, da[i], answers(beOf(device), vjp(0), [a, b], p), p);
        table.check(`${op} gradient`, device, `∂b ${op}(${show(a)}, ${show(b)})`, db[i], answers(beOf(device), vjp(1), [a, b], p), p);
      });
    }
  }
  table.assertClean();
});

test('number operands keep IEEE answers: −0 · 2 = −0, x / 3e38, x · inf, maximum(NaN, 0.25)', async () => {
  // [name, op, reference, the number operand where it is denormal (WebGPU may read it as 0)]
  const cases: [string, (x: Tensor) => Tensor, (v: number, d: number) => number, number?][] = [
    ['x * 2', (x) => ops.mul(x, 2), (v) => v * 2], ['-1.5 * x', (x) => ops.mul(-1.5, x), (v) => -1.5 * v],
    ['x / 4', (x) => ops.div(x, 4), (v) => v / 4], ['x / -0', (x) => ops.div(x, -0), (v) => v / -0],
    ['x / 3e38', (x) => ops.div(x, 3e38), (v) => v / Math.fround(3e38)], ['x / 2^-130', (x) => ops.div(x, 2 ** -130), (v, d) => v / d, 2 ** -130],
    ['x / inf', (x) => ops.div(x, Infinity), (v) => v / Infinity], ['x * inf', (x) => ops.mul(x, Infinity), (v) => v * Infinity],
    ['x * NaN', (x) => ops.mul(x, NaN), (v) => v * NaN], ['x + 0', (x) => ops.add(x, 0), (v) => v + 0],
    ['x - 0', (x) => ops.sub(x, 0), (v) => v - 0], ['0 - x', (x) => ops.sub(0, x), (v) => 0 - v],
    ['x + inf', (x) => ops.add(x, Infinity), (v) => v + Infinity], ['2 / x', (x) => ops.div(2, x), (v) => 2 / v],
    ['maximum(x, 0.25)', (x) => ops.maximum(x, 0.25), (v) => m.binary('maximum', v, 0.25)],
    ['minimum(x, NaN)', (x) => ops.minimum(x, NaN), () => NaN],
  ];
  for (const [name, fn, f, d] of cases) {
    for (const device of devices) {
      const x = tensor(SPECIALS, { device });
      const out = await fn(x).data();
      x.dispose();
      // Zero signs are the IEEE ones (x * 2 at −0 is −0); max/min ties and a NaN operand's sign are open.
      const p: Policy = { signedZero: !name.startsWith('maximum') };
      SPECIALS.forEach((v, i) => table.check(name, device, `${name} at ${show(v)}`, out[i], answers(beOf(device), f, d === undefined ? [v] : [v, d], p), p));
    }
  }
  table.assertClean();
});

test('reductions: rank-0 tensors are their own reduction, an empty max throws, NaN and −inf rows', async () => {
  for (const device of devices) {
    for (const op of [sum, mean, max]) {
      for (const axis of [undefined, 0, -1, [0], [-1], []] as (number | number[] | undefined)[]) {
        for (const v of [5, NaN, -Infinity]) {
          const x = tensor(v, { device, requiresGrad: true });
          const y = op(x, axis, axis === 0);
          assert.equal([...y.shape], [], `${op.name} of a scalar keeps rank 0`);
          y.backward();
          table.check(`${op.name} rank 0`, device, `${op.name}(tensor(${v}), ${JSON.stringify(axis)})`, (await y.data())[0], [v]);
          table.check(`${op.name} rank 0`, device, `gradient of ${op.name}(tensor(${v}))`, (await x.grad!.data())[0], [Number.isNaN(v) && op === max ? NaN : 1]);
          x.dispose();
        }
      }
      const s = tensor(5, { device });
      assert.throws(() => op(s, 1), (e: Error) => e instanceof LeptonError && /axis 1 is out of range for a scalar/.test(e.message));
      assert.throws(() => op(s, [0, -1]), (e: Error) => e instanceof LeptonError && /given twice/.test(e.message));
      s.dispose();
    }
    const e1 = tensor([], { device }), e2 = tensor(new Float32Array(0), [2, 0], { device });
    table.check('sum empty', device, 'sum([])', (await sum(e1).data())[0], [0], { signedZero: false });
    table.check('mean empty', device, 'mean([])', (await mean(e1).data())[0], [NaN]);
    assert.equal(Array.from(await sum(e2, 1).data()), [0, 0]);
    assert.ok((await mean(e2, 1).data()).every(Number.isNaN));
    assert.equal([...max(e2, 0).shape], [0], 'max over a non-empty axis of an empty tensor is empty');
    for (const [t, axis] of [[e1, undefined], [e1, 0], [e2, 1], [e2, undefined]] as const) {
      assert.throws(() => max(t, axis), (e: Error) => e instanceof LeptonError && /max.*over axis \d of size 0/.test(e.message), `max of ${JSON.stringify(t.shape)} axis ${axis}`);
    }
    e1.dispose(); e2.dispose();
    // max's gradient: NaN everywhere for a NaN row (PyTorch's amax), shared by tied −inf maxima.
    for (const row of [[NaN, 1, 2], [-Infinity, -Infinity], [1, -Infinity, 1], [Infinity, -Infinity, Infinity]]) {
      const { out, grads: [dx] } = await forwardBackward(device, [row], ([x]) => max(x));
      const x = R.nd(row, [row.length]);
      table.check('max', device, `max([${row.map(show)}])`, out[0], [R.reduceForward('max', x, [0], false).data[0]]);
      const want = R.reduceVjp('max', x, [0], R.nd([1], []))[0].data;
      dx.forEach((v, i) => table.check('max gradient', device, `max′([${row.map(show)}]) #${i}`, v, [want[i]]));
    }
  }
  table.assertClean();
});

test('softmax and logSoftmax: NaN rows as PyTorch, finite gradients around −inf entries', async () => {
  const rows = [[0, -Infinity, 1], [-Infinity, 2, -Infinity, 0.5], [3e38, -3e38, 0], [NaN, 1, 2], [Infinity, 1, 0], [-Infinity, -Infinity, -Infinity]];
  for (const log of [false, true]) {
    for (const row of rows) {
      const x = R.nd(row, [1, row.length]), g = R.nd(row.map(() => r.uniform(-1, 1)), [1, row.length]);
      const want = R.softmaxForward(x, 1, log).data, dwant = R.softmaxVjp(x, 1, log, g)[0].data;
      for (const device of devices) {
        const xt = tensor(Float32Array.from(row), [1, row.length], { device, requiresGrad: true });
        const y = log ? logSoftmax(xt) : softmax(xt);
        y.backward(tensor(Float32Array.from(g.data), [1, row.length], { device }));
        const [out, dx] = [await y.data(), await xt.grad!.data()];
        const name = log ? 'logSoftmax' : 'softmax', p: Policy = { signedZero: false, tol: 2e-5, atol: 1e-7 };
        out.forEach((v, i) => table.check(name, device, `${name}([${row.map(show)}]) #${i}`, v, [want[i]], p));
        dx.forEach((v, i) => table.check(`${name} gradient`, device, `${name}′([${row.map(show)}]) #${i}`, v, [dwant[i]], p));
        xt.dispose(); y.dispose();
      }
    }
  }
  table.assertClean();
});

test('crossEntropy with −inf (masked) and huge logits: the loss and gradient PyTorch gives', async () => {
  const oneHot = (labels: number[], C: number) => R.nd(labels.flatMap((c) => Array.from({ length: C }, (_, j) => +(j === c))), [labels.length, C]);
  // [logits, class ids or probabilities, PyTorch 1.13's loss (mean) where it is the reference's]
  const cases: [number[][], number[] | number[][], number | null][] = [
    [[[0, -Infinity, 1]], [2], 0.31326165795326233], [[[0, -Infinity]], [0], 0], [[[3e38, -3e38]], [0], 0],
    [[[3e38, -3e38]], [1], Infinity], [[[0, -Infinity]], [1], Infinity], [[[-Infinity, -Infinity]], [1], NaN],
    [[[NaN, 1]], [1], NaN], [[[Infinity, 1]], [0], NaN], [[[0, -Infinity, 1], [1, 2, 3]], [2, 0], 1.36043381690979],
    // Probabilities. PyTorch 1.13 returns NaN for the first (0 · −inf), with the same gradient; see loss.ts.
    [[[0, -Infinity, 1]], [[0, 0, 1]], null], [[[0, -Infinity, 1]], [[0.5, 0, 0.5]], null], [[[0, -Infinity, 1]], [[0.5, 0.5, 0]], Infinity],
  ];
  for (const [logits, labels, torchLoss] of cases) {
    const N = logits.length, C = logits[0].length;
    const x = R.nd(logits.flat(), [N, C]);
    const ids = typeof labels[0] === 'number';
    const target = ids ? oneHot(labels as number[], C) : R.nd((labels as number[][]).flat(), [N, C]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const want = R.crossEntropyForward(x, target, reduction).data, g = R.nd(want.map(() => 1), [want.length]);
      const dwant = R.crossEntropyVjp(x, target, g, reduction)[0].data;
      if (reduction === 'mean' && torchLoss !== null) table.check('crossEntropy (PyTorch)', 'reference', JSON.stringify(logits), Math.fround(want[0]), [torchLoss]);
      for (const device of devices) {
        const xt = tensor(Float32Array.from(x.data), [N, C], { device, requiresGrad: true });
        const lt = ids ? (labels as number[]) : tensor(Float32Array.from(target.data), [N, C], { device });
        const y = crossEntropy(xt, lt, { reduction });
        y.backward(tensor(new Float32Array(y.size).fill(1), [...y.shape], { device }));
        const where = `${JSON.stringify(logits)} ${JSON.stringify(labels)} ${reduction}`;
        const p: Policy = { signedZero: false, tol: 2e-5, atol: 1e-7 };
        (await y.data()).forEach((v, i) => table.check('crossEntropy', device, `${where} #${i}`, v, [want[i]], p));
        (await xt.grad!.data()).forEach((v, i) => table.check('crossEntropy gradient', device, `${where} ∂x #${i}`, v, [dwant[i]], p));
        xt.dispose(); y.dispose(); if (!ids) (lt as Tensor).dispose();
      }
    }
  }
  table.assertClean();
});

test('linear with NaN and ±inf inputs: every activation, fused and unfused gradients', async () => {
  for (const K of [5, 40]) { // WebGPU fuses the derivative into the products up to K = 32 on a CPU adapter
    const M = 6, N = 7;
    const x = R.nd(Array.from({ length: M * K }, (_, i) => [NaN, Infinity, -Infinity][i] ?? Math.fround(r.uniform(-1, 1))), [M, K]);
    x.data[K + 1] = NaN; x.data[3 * K] = -Infinity; x.data[4 * K + 2] = DENORM_MIN;
    const w = R.nd(Array.from({ length: K * N }, () => Math.fround(r.uniform(-1, 1))), [K, N]);
    const b = R.nd(Array.from({ length: N }, (_, i) => (i === 2 ? -Infinity : Math.fround(r.uniform(-1, 1)))), [N]);
    for (const act of ['none', 'relu', 'gelu', 'tanh', 'sigmoid'] as Activation[]) {
      const g = R.nd(Array.from({ length: M * N }, () => Math.fround(r.uniform(-1, 1))), [M, N]);
      const want = R.linearForward(x, w, b, act).data, scale = R.linearForwardScale(x, w, b, act).data;
      const dwant = R.linearVjp(x, w, b, act, g), dscale = R.linearVjp(x, w, b, act, g, true);
      for (const device of devices) {
        const [xt, wt, bt] = [x, w, b].map((t) => tensor(Float32Array.from(t.data), t.shape, { device, requiresGrad: true }));
        const y = linear(xt, wt, bt, act);
        y.backward(tensor(Float32Array.from(g.data), [M, N], { device }));
        const tol = (s: number) => ({ signedZero: false, tol: 2e-5, atol: 1e-5 * (Number.isFinite(s) ? s : 0), flushes: act === 'gelu' || act === 'sigmoid' });
        (await y.data()).forEach((v, i) => table.check(`linear ${act}`, device, `K=${K} y #${i}`, v, answers(beOf(device), () => want[i], [], tol(scale[i])), tol(scale[i])));
        const grads = [await xt.grad!.data(), await wt.grad!.data(), await bt.grad!.data()];
        grads.forEach((gr, k) => gr.forEach((v, i) => table.check(`linear ${act} gradient`, device, `K=${K} ∂${'xwb'[k]} #${i}`, v,
          answers(beOf(device), () => dwant[k].data[i], [], tol(dscale[k].data[i])), tol(dscale[k].data[i]))));
        for (const t of [xt, wt, bt, y]) t.dispose();
      }
    }
  }
  table.assertClean();
});

test('argmax counts NaN as the maximum; mse; transpose and broadcast copy special values bit for bit', async () => {
  for (const device of devices) {
    for (const [row, want] of [[[NaN, 1], 0], [[1, NaN, NaN], 1], [[-Infinity, -Infinity], 0], [[-Infinity, 1], 1], [[3e38, Infinity], 1], [[-0, 0], 0]] as [number[], number][]) {
      table.check('argmax', device, `argmax([${row.map(show)}])`, (await argmax(tensor(row, { device })).data())[0], [want]);
    }
    for (const [a, b] of [[[Infinity], [Infinity]], [[NaN, 1], [1, 1]], [[3e38], [-3e38]], [[-Infinity, 2], [1, 2]]]) {
      const got = (await mse(tensor(a, { device }), tensor(b, { device })).data())[0];
      table.check('mse', device, `mse([${a.map(show)}], [${b.map(show)}])`, got, [R.mseForward(R.nd(a, [a.length]), R.nd(b, [b.length])).data[0]]);
    }
    const s = tensor(SPECIALS.slice(0, 20), [4, 5], { device });
    const tr = await transpose(s).data(), bc = await broadcastTo(tensor(SPECIALS, { device }), [2, SPECIALS.length]).data();
    const p: Policy = {};
    tr.forEach((v, i) => { const x = SPECIALS[(i % 4) * 5 + Math.floor(i / 4)]; table.check('transpose', device, `copy of ${show(x)}`, v, answers(beOf(device), (t) => t, [x], p), p); });
    bc.forEach((v, i) => { const x = SPECIALS[i % SPECIALS.length]; table.check('broadcastTo', device, `copy of ${show(x)}`, v, answers(beOf(device), (t) => t, [x], p), p); });
  }
  table.assertClean();
});

test('toolkit ops: pow and its gradients, where and clamp at every special value, copies bit for bit', async () => {
  const pairs = PAIR_VALUES.flatMap((a) => PAIR_VALUES.map((b) => [a, b]));
  const A = pairs.map((p) => p[0]), B = pairs.map((p) => p[1]);
  // d/da = b·a^(b−1) (0 where b = 0); d/db = a^b·ln a (0 where a = 0 and b >= 0): PyTorch's pow_backward.
  const dA = (a: number, b: number) => (b === 0 ? 0 : b * m.pow(a, b - 1));
  const dB = (a: number, b: number) => (a === 0 && b >= 0 ? 0 : m.pow(a, b) * Math.log(a));
  const sz: Policy = { signedZero: false };
  for (const device of devices) {
    const { out, grads: [da, db] } = await forwardBackward(device, [A, B], ([a, b]) => pow(a, b));
    pairs.forEach(([a, b], i) => {
      table.check('pow', device, `pow(${show(a)}, ${show(b)})`, out[i], answers(beOf(device), m.pow, [a, b]));
      // b·a^(b−1) is formed in float32, as PyTorch's: with a denormal operand the power overflows
      // before the product (1e-45 · (1e-45)^-1 = inf there too); the float64 reference does not.
      if (!isDenormal(a) && !isDenormal(b)) table.check('pow gradient (base)', device, `∂pow/∂a(${show(a)}, ${show(b)})`, da[i], answers(beOf(device), dA, [a, b], sz), sz);
      table.check('pow gradient (exponent)', device, `∂pow/∂b(${show(a)}, ${show(b)})`, db[i], answers(beOf(device), dB, [a, b], sz), sz);
    });
    // where / clamp pass special values through exactly; the gradient goes to the selected operand only.
    const c = SPECIALS.map((_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : NaN));
    const { out: w, grads: [ga, gb] } = await forwardBackward(device, [SPECIALS, [...SPECIALS].reverse()], ([a, b]) => where(tensor(c, { device }), a, b));
    SPECIALS.forEach((x, i) => {
      const y = [...SPECIALS].reverse()[i], take = c[i] !== 0;
      table.check('where', device, `where(${show(c[i])}, ${show(x)}, ${show(y)})`, w[i], answers(beOf(device), (p, q) => (take ? p : q), [x, y]));
      assert.equal([ga[i], gb[i]], take ? [1, 0] : [0, 1]);
    });
    const { out: cl, grads: [gc] } = await forwardBackward(device, [SPECIALS], ([x]) => clamp(x, -1, 2));
    SPECIALS.forEach((x, i) => {
      table.check('clamp', device, `clamp(${show(x)}, -1, 2)`, cl[i], answers(beOf(device), (t) => (Number.isNaN(t) ? NaN : Math.min(Math.max(t, -1), 2)), [x]));
      table.check('clamp gradient', device, `clamp′(${show(x)})`, gc[i], answers(beOf(device), (t) => (t >= -1 && t <= 2 ? 1 : 0), [x], sz), sz);
    });
    // Slices, concat, cumsum of one element and topk move values bit for bit; argmin counts NaN as the answer.
    const t = tensor(SPECIALS, { device });
    const copies = [await slice(t, [null], [null], [-1]).data(), await concat([t, t]).data(), await cumsum(t.reshape([SPECIALS.length, 1]), 1).data()];
    copies.forEach((v, k) => v.forEach((got, i) => {
      const x = k === 0 ? SPECIALS[SPECIALS.length - 1 - i] : SPECIALS[i % SPECIALS.length];
      // cumsum of one value is 0 + x: −0 becomes +0 (as PyTorch's sum from 0).
      const p: Policy = { signedZero: k !== 2 };
      table.check(['slice', 'concat', 'cumsum'][k], device, `copy of ${show(x)}`, got, answers(beOf(device), (u) => u, [x], p), p);
    }));
    assert.is(await argmin(tensor([1, -Infinity, NaN, NaN], { device })).item(), 2);
    assert.equal([...await topk(tensor([1, NaN, Infinity, -0, 0], { device }), 5).indices.data()], [1, 2, 0, 3, 4]);
  }
  table.assertClean();
});

test.run();
