import { test } from 'uvu';
import type { Activation } from '../../src/backends/backend.js';
import { linear } from '../../src/ops/linear.js';
import { matmul } from '../../src/ops/matmul.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import * as R from '../reference/ops.js';

const r = testRng('ops-matmul');

test('matmul (2-D, vectors, batched, broadcast batch): forward, both gradients, finite differences', async () => {
  const pairs: [number[], number[]][] = [
    [[3, 4], [4, 5]], [[1, 1], [1, 1]], [[7, 13], [13, 2]], [[4], [4, 3]], [[3, 4], [4]], [[5], [5]],
    [[2, 3, 4], [4, 5]], [[3, 4], [2, 4, 5]], [[2, 3, 4], [2, 4, 5]], [[2, 1, 3, 4], [3, 4, 2]], [[17, 33], [33, 9]],
    [[65, 20], [20, 66]],
  ];
  for (const [sa, sb] of pairs) {
    await checkOp({
      name: `matmul ${JSON.stringify(sa)} · ${JSON.stringify(sb)}`, inputs: [rnd(r, sa), rnd(r, sb)],
      lib: ([a, b]) => matmul(a, b), ref: ([a, b]) => R.matmulForward(a, b), vjp: ([a, b], g) => R.matmulVjp(a, b, g),
      scale: ([a, b]) => R.matmulForwardScale(a, b), gradScale: ([a, b], g) => R.matmulVjpScale(a, b, g),
    }, r, 'matmul');
  }
});

test('linear act(x·W + b) for every activation, with and without bias', async () => {
  const acts: Activation[] = ['none', 'relu', 'gelu', 'tanh', 'sigmoid'];
  // Empty batches and zero in-features included: y = act(b) and zero gradients there.
  const shapes: [number[], number][] = [[[4, 3], 5], [[1, 7], 2], [[2, 3, 6], 4], [[33, 17], 9], [[0, 3], 2], [[2, 0], 3]];
  for (const act of acts) {
    for (const [xs, out] of shapes) {
      for (const bias of [true, false]) {
        const K = xs[xs.length - 1];
        const draw = () => [rnd(r, xs), rnd(r, [K, out]), ...(bias ? [rnd(r, [out])] : [])];
        let inputs = draw();
        // relu' flips where float32 and float64 disagree on the sign of a pre-activation
        // ~0: redraw while one lies within 1e-5 of its scale (a few draws in a million).
        const nearKink = ([x, w, b]: typeof inputs) => {
          const z = R.linearForward(x, w, b ?? null, 'none').data, zs = R.linearForwardScale(x, w, b ?? null, 'none').data;
          return z.some((v, i) => Math.abs(v) < 1e-5 * zs[i]);
        };
        while (act === 'relu' && nearKink(inputs)) inputs = draw();
        await checkOp({
          name: `linear ${act} x${JSON.stringify(xs)} w[${K},${out}]${bias ? ' +b' : ''}`, inputs,
          lib: ([x, w, b]) => linear(x, w, b ?? null, act),
          ref: ([x, w, b]) => R.linearForward(x, w, b ?? null, act),
          vjp: ([x, w, b], g) => R.linearVjp(x, w, b ?? null, act, g),
          scale: ([x, w, b]) => R.linearForwardScale(x, w, b ?? null, act),
          gradScale: ([x, w, b], g) => R.linearVjp(x, w, b ?? null, act, g, true),
        }, r, 'linear');
      }
    }
  }
});

test('linear with frozen weights still trains the bias, for any input rank', async () => {
  for (const act of ['none', 'relu', 'gelu', 'tanh'] as Activation[]) {
    await checkOp({
      name: `linear ${act} x[2,3,4] w[4,5] frozen +b`, inputs: [rnd(r, [2, 3, 4]), rnd(r, [4, 5]), rnd(r, [5])], grads: [true, false, true],
      lib: ([x, w, b]) => linear(x, w, b, act),
      ref: ([x, w, b]) => R.linearForward(x, w, b, act),
      vjp: ([x, w, b], g) => R.linearVjp(x, w, b, act, g),
      scale: ([x, w, b]) => R.linearForwardScale(x, w, b, act),
      gradScale: ([x, w, b], g) => R.linearVjp(x, w, b, act, g, true),
      noFd: act === 'relu',
    }, r, 'linear');
  }
});

test.run();
