import { test } from 'uvu';
import * as ops from '../../src/ops/elementwise.js';
import type { Tensor } from '../../src/tensor.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import * as M from '../reference/math.js';
import * as R from '../reference/ops.js';

const r = testRng('ops-elementwise');
const SHAPES = [[1], [7], [3, 5], [2, 3, 4], [64], [129]];

const UNARY: [string, (x: Tensor) => Tensor, number, number][] = [
  ['neg', ops.neg, -2, 2], ['exp', ops.exp, -3, 3], ['log', ops.log, 0.1, 4], ['abs', ops.abs, -2, 2],
  ['sqrt', ops.sqrt, 0.1, 4], ['square', ops.square, -2, 2], ['relu', ops.relu, -2, 2], ['gelu', ops.gelu, -4, 4],
  ['tanh', ops.tanh, -4, 4], ['sigmoid', ops.sigmoid, -6, 6], ['clone', ops.clone, -2, 2],
];

test('unary ops: forward, gradient and finite differences', async () => {
  for (const [name, fn, lo, hi] of UNARY) {
    for (const shape of SHAPES) {
      await checkOp({
        name: `${name} ${JSON.stringify(shape)}`, inputs: [rnd(r, shape, lo, hi)],
        lib: ([x]) => fn(x), ref: ([x]) => R.unaryForward(name, x), vjp: ([x], g) => R.unaryVjp(name, x, g),
        // As in PyTorch, tanh' = 1 − y² and sigmoid' = y(1 − y) use the float32 output y; where y
        // nears ±1, 1 − y loses digits to cancellation (e.g. x = 6: y = 0.9975, ~2e-5 relative).
        gradTol: name === 'tanh' || name === 'sigmoid' ? 1e-4 : undefined,
        // gelu' has a root at -0.7518; measure its gradient against the size of its terms there.
        gradScale: name === 'gelu' ? ([x], g) => [R.nd(x.data.map((v, i) => Math.abs(g.data[i]) * M.geluGradScale(v)), x.shape)] : undefined,
      }, r, 'unary ops');
    }
  }
});

const BINARY = ['add', 'sub', 'mul', 'div'] as const;
const PAIRS: [number[], number[]][] = [[[5], [5]], [[3, 4], [4]], [[3, 4], [3, 1]], [[2, 3, 4], [1, 4]], [[1], [2, 3]], [[2, 1, 3], [4, 1]], [[], [3, 2]]];

test('binary ops with broadcasting: forward, both gradients, finite differences', async () => {
  for (const op of BINARY) {
    for (const [sa, sb] of PAIRS) {
      const b = op === 'div' ? R.nd(Array.from(rnd(r, sb, 0.5, 2).data, (v, i) => (i % 2 ? v : -v)), sb) : rnd(r, sb);
      await checkOp({
        name: `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, inputs: [rnd(r, sa), b],
        lib: ([x, y]) => ops[op](x, y), ref: ([x, y]) => R.binaryForward(op, x, y), vjp: ([x, y], g) => R.binaryVjp(op, x, y, g),
        gradScale: ([x, y], g) => R.binaryVjp(op, x, y, g, true),
      }, r, 'binary ops');
    }
  }
});

test('only inputs that require a gradient get one', async () => {
  await checkOp({
    name: 'mul, b constant', inputs: [rnd(r, [4, 3]), rnd(r, [3])], grads: [true, false],
    lib: ([x, y]) => ops.mul(x, y), ref: ([x, y]) => R.binaryForward('mul', x, y), vjp: ([x, y], g) => R.binaryVjp('mul', x, y, g),
    gradScale: ([x, y], g) => R.binaryVjp('mul', x, y, g, true),
  }, r, 'binary ops');
});

test('maximum / minimum: gradient goes to the winner, split on ties', async () => {
  for (const op of ['maximum', 'minimum'] as const) {
    for (const [sa, sb] of PAIRS) {
      await checkOp({
        name: `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, inputs: [rnd(r, sa), rnd(r, sb)],
        lib: ([x, y]) => ops[op](x, y), ref: ([x, y]) => R.binaryForward(op, x, y), vjp: ([x, y], g) => R.binaryVjp(op, x, y, g),
        gradScale: ([x, y], g) => R.binaryVjp(op, x, y, g, true),
      }, r, 'binary ops');
    }
    // Ties: small integers make many equal pairs (finite differences do not apply at a kink).
    const ints = (shape: number[]) => R.nd(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.int(-1, 1)), shape);
    await checkOp({
      name: `${op} with ties`, inputs: [ints([6, 5]), ints([6, 5])], noFd: true,
      lib: ([x, y]) => ops[op](x, y), ref: ([x, y]) => R.binaryForward(op, x, y), vjp: ([x, y], g) => R.binaryVjp(op, x, y, g),
      gradScale: ([x, y], g) => R.binaryVjp(op, x, y, g, true),
    }, r, 'binary ops');
  }
});

test('number operands: x + 2, 3 - x, x * -1.5, x / 4, 2 / x, maximum(x, 0.25)', async () => {
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number, (v: number) => number][] = [
    ['x + 2', (x) => ops.add(x, 2), (v) => v + 2, () => 1],
    ['3 - x', (x) => ops.sub(3, x), (v) => 3 - v, () => -1],
    ['x - 3', (x) => ops.sub(x, 3), (v) => v - 3, () => 1],
    ['2 + x', (x) => ops.add(2, x), (v) => 2 + v, () => 1],
    ['x * -1.5', (x) => ops.mul(x, -1.5), (v) => v * -1.5, () => -1.5],
    ['x / 4', (x) => ops.div(x, 4), (v) => v / 4, () => 0.25],
    ['2 / x', (x) => ops.div(2, x), (v) => 2 / v, (v) => -2 / (v * v)],
    ['maximum(x, 0.25)', (x) => ops.maximum(x, 0.25), (v) => Math.max(v, 0.25), (v) => (v > 0.25 ? 1 : v === 0.25 ? 0.5 : 0)],
  ];
  for (const [name, fn, f, df] of cases) {
    const x = R.nd(Array.from(rnd(r, [3, 7], 0.5, 2).data, (v, i) => (i % 3 ? v : -v)), [3, 7]);
    await checkOp({
      name, inputs: [x], lib: ([t]) => fn(t),
      ref: ([t]) => ({ data: t.data.map(f), shape: t.shape }),
      vjp: ([t], g) => [{ data: t.data.map((v, i) => g.data[i] * df(v)), shape: t.shape }],
    }, r, 'scalar operands');
  }
});

test.run();
