import { test } from 'uvu';
import * as red from '../../src/ops/reduce.js';
import * as shp from '../../src/ops/shape.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { throwsLepton } from '../helpers/throws.js';
import { zeros } from '../../src/creation.js';
import { testRng } from '../helpers/random.js';
import * as R from '../reference/ops.js';

const r = testRng('ops-reduce-shape');

const CASES: [number[], number | number[] | undefined, boolean][] = [
  [[7], undefined, false], [[3, 4], 0, false], [[3, 4], 1, true], [[3, 4], -1, false], [[2, 3, 4], [0, 2], false],
  [[2, 3, 4], [0, 2], true], [[2, 3, 4, 5], [1, 3], false], [[2, 3, 4, 5], [0, 1, 3], true], [[5, 1, 3], 1, false],
  [[4, 6], undefined, true], [[2, 3, 4], [1, 2], false], [[129], 0, false],
];

const norm = (axis: number | number[] | undefined, rank: number) =>
  axis === undefined ? Array.from({ length: rank }, (_, i) => i) : (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + rank : a)).sort();

test('sum / mean / max over axes, keepDims: forward, gradient, finite differences', async () => {
  for (const op of ['sum', 'mean', 'max'] as const) {
    for (const [shape, axis, keepDims] of CASES) {
      const axes = norm(axis, shape.length);
      await checkOp({
        name: `${op} ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}${keepDims ? ' keepDims' : ''}`,
        inputs: [rnd(r, shape, -2, 2)],
        lib: ([x]) => red[op](x, axis, keepDims),
        ref: ([x]) => R.reduceForward(op, x, axes, keepDims),
        vjp: ([x], g) => R.reduceVjp(op, x, axes, g),
        // A sum of mixed signs can be ~0; float32 sums are accurate relative to Σ|x|.
        scale: op === 'max' ? undefined : ([x]) => R.reduceForward(op, R.absNd(x), axes, keepDims),
      }, r, 'reductions');
    }
  }
});

test('max shares the gradient between tied maxima', async () => {
  const x = R.nd([1, 3, 3, 0, 2, 2, 2, -1, 5, 1, 5, 5], [3, 4]);
  for (const axis of [1, 0, undefined]) {
    const axes = norm(axis, 2);
    await checkOp({
      name: `max with ties axis ${axis}`, inputs: [x], noFd: true,
      lib: ([t]) => red.max(t, axis), ref: ([t]) => R.reduceForward('max', t, axes, false), vjp: ([t], g) => R.reduceVjp('max', t, axes, g),
    }, r, 'reductions');
  }
});

test('reshape, transpose and broadcastTo: forward, gradient, finite differences', async () => {
  const perms: [number[], number[] | undefined][] = [[[3, 4], undefined], [[2, 3, 4], [2, 0, 1]], [[2, 3, 4, 5], [1, 3, 0, 2]], [[5], [0]], [[1, 6, 1], [2, 1, 0]]];
  for (const [shape, perm] of perms) {
    const p = perm ?? shape.map((_, i) => shape.length - 1 - i);
    await checkOp({
      name: `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)}`, inputs: [rnd(r, shape)],
      lib: ([x]) => shp.transpose(x, perm), ref: ([x]) => R.transposeForward(x, p), vjp: ([x], g) => R.transposeVjp(x, p, g),
    }, r, 'shape ops');
  }
  for (const [from, to] of [[[6], [2, 3]], [[2, 3, 4], [4, -1]], [[4, 1], [4]], [[5], [1, 5, 1]]] as [number[], number[]][]) {
    const target = to.includes(-1) ? to.map((d) => (d === -1 ? from.reduce((a, b) => a * b) / to.filter((v) => v !== -1).reduce((a, b) => a * b, 1) : d)) : to;
    await checkOp({
      name: `reshape ${JSON.stringify(from)} -> ${JSON.stringify(to)}`, inputs: [rnd(r, from)],
      lib: ([x]) => shp.reshape(x, to), ref: ([x]) => ({ data: Float64Array.from(x.data), shape: target }), vjp: (_, g) => [{ data: Float64Array.from(g.data), shape: from }],
    }, r, 'shape ops');
  }
  for (const [from, to] of [[[3], [4, 3]], [[4, 1], [4, 5]], [[1, 2, 1], [3, 2, 4]], [[2], [2]]] as [number[], number[]][]) {
    await checkOp({
      name: `broadcastTo ${JSON.stringify(from)} -> ${JSON.stringify(to)}`, inputs: [rnd(r, from)],
      lib: ([x]) => shp.broadcastTo(x, to), ref: ([x]) => R.expand(x, to), vjp: (_, g) => [R.sumTo(g, from)],
      gradScale: (_, g) => [R.sumTo(R.absNd(g), from)],
    }, r, 'shape ops');
  }
});

test('flatten(x, startDim, endDim): PyTorch\'s shapes, a view with its gradient, finite differences; bad dims name the op', async () => {
  // [shape, startDim, endDim, expected shape] (the expected shapes written out as torch.flatten gives them).
  const cases: [number[], number | undefined, number | undefined, number[]][] = [
    [[2, 3, 4, 5], undefined, undefined, [2, 60]], [[2, 3, 4, 5], 0, -1, [120]], [[2, 3, 4, 5], 1, 2, [2, 12, 5]],
    [[2, 3, 4, 5], -2, -1, [2, 3, 20]], [[2, 3, 4, 5], 2, 2, [2, 3, 4, 5]], [[7], 0, 0, [7]], [[3, 1, 1, 4], 1, undefined, [3, 4]],
  ];
  for (const [from, s, e, want] of cases) {
    await checkOp({
      name: `flatten ${JSON.stringify(from)} ${s} ${e}`, inputs: [rnd(r, from)],
      lib: ([x]) => {
        const y = shp.flatten(x, s, e);
        if (JSON.stringify(y.shape) !== JSON.stringify(want)) throw new Error(`flatten ${JSON.stringify(from)} ${s} ${e}: shape ${JSON.stringify(y.shape)}, needs ${JSON.stringify(want)}`);
        return y;
      },
      ref: ([x]) => ({ data: Float64Array.from(x.data), shape: want }), vjp: (_, g) => [{ data: Float64Array.from(g.data), shape: from }],
    }, r, 'shape ops');
  }
  const x = zeros([2, 3, 4]);
  throwsLepton(() => shp.flatten(x, 3), /flatten.*'startDim'.*\[-3, 2\].*got 3/);
  throwsLepton(() => shp.flatten(x, 0, -4), /flatten.*'endDim'.*got -4/);
  throwsLepton(() => shp.flatten(x, 2, 1), /flatten.*'startDim'.*must not come after 'endDim'/);
  throwsLepton(() => shp.flatten(x, 0.5), /flatten.*'startDim'/);
  const s0 = shp.flatten(zeros([]));
  if (JSON.stringify(s0.shape) !== '[1]') throw new Error(`flatten of a scalar: ${JSON.stringify(s0.shape)}, needs [1]`);
  x.dispose();
  s0.dispose();
});

test.run();
