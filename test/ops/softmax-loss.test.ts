import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { crossEntropy, mse } from '../../src/ops/loss.js';
import { logSoftmax, softmax } from '../../src/ops/softmax.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import * as R from '../reference/ops.js';

const r = testRng('ops-softmax-loss');

test('softmax / logSoftmax along any axis: forward, gradient, finite differences', async () => {
  const cases: [number[], number][] = [[[5], -1], [[3, 4], -1], [[3, 4], 0], [[2, 3, 4], 1], [[4, 10], 1], [[1, 1], -1], [[2, 65], -1]];
  for (const log of [false, true]) {
    for (const [shape, axis] of cases) {
      const ax = axis < 0 ? axis + shape.length : axis;
      await checkOp({
        name: `${log ? 'logSoftmax' : 'softmax'} ${JSON.stringify(shape)} axis ${axis}`, inputs: [rnd(r, shape, -3, 3)],
        lib: ([x]) => (log ? logSoftmax(x, axis) : softmax(x, axis)),
        ref: ([x]) => R.softmaxForward(x, ax, log), vjp: ([x], g) => R.softmaxVjp(x, ax, log, g),
        gradScale: ([x], g) => R.softmaxVjp(x, ax, log, g, true),
      }, r, 'softmax');
    }
  }
});

function oneHot(labels: number[], C: number) {
  const d = new Float64Array(labels.length * C);
  labels.forEach((c, i) => { d[i * C + c] = 1; });
  return R.nd(d, [labels.length, C]);
}

test('crossEntropy with class ids (mean, sum, none) and with probabilities', async () => {
  for (const [N, C] of [[1, 2], [4, 3], [16, 10], [7, 5]]) {
    const labels = Array.from({ length: N }, () => r.int(0, C - 1));
    const target = oneHot(labels, C);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      await checkOp({
        name: `crossEntropy ids [${N}, ${C}] ${reduction}`, inputs: [rnd(r, [N, C], -3, 3)],
        lib: ([x]) => crossEntropy(x, labels, { reduction }),
        ref: ([x]) => R.crossEntropyForward(x, target, reduction),
        vjp: ([x], g) => [R.crossEntropyVjp(x, target, g, reduction)[0]],
        gradScale: ([x], g) => [R.crossEntropyVjp(x, target, g, reduction, true)[0]],
      }, r, 'losses');
    }
    // Soft targets: rows of a softmax, gradient to both logits and targets.
    const probs = R.softmaxForward(rnd(r, [N, C], -2, 2), 1, false);
    await checkOp({
      name: `crossEntropy probabilities [${N}, ${C}]`, inputs: [rnd(r, [N, C], -3, 3), R.nd(Float32Array.from(probs.data), [N, C])],
      lib: ([x, t]) => crossEntropy(x, t), ref: ([x, t]) => R.crossEntropyForward(x, t), vjp: ([x, t], g) => R.crossEntropyVjp(x, t, g),
      gradScale: ([x, t], g) => R.crossEntropyVjp(x, t, g, 'mean', true),
    }, r, 'losses');
  }
});

test('mse: forward, both gradients, finite differences', async () => {
  for (const shape of [[1], [5], [3, 4], [2, 3, 5]]) {
    await checkOp({
      name: `mse ${JSON.stringify(shape)}`, inputs: [rnd(r, shape), rnd(r, shape)],
      lib: ([a, b]) => mse(a, b), ref: ([a, b]) => R.mseForward(a, b), vjp: ([a, b], g) => R.mseVjp(a, b, g),
    }, r, 'losses');
  }
});

test('crossEntropy rejects bad class ids before running anything', async () => {
  for (const device of devices) {
    const x = tensor(new Float32Array(6), [2, 3], { device, requiresGrad: true });
    assert.throws(() => crossEntropy(x, [0, 3]), /class id 3 at index 1; needs an integer in \[0, 2\]/);
    assert.throws(() => crossEntropy(x, [0, 1.5]), /class id 1.5/);
    assert.throws(() => crossEntropy(x, [-1, 0]), /class id -1/);
    assert.throws(() => crossEntropy(x, [0]), /argument 'labels' has shape \[1\]; needs 2 class ids/);
    x.dispose();
  }
});

test.run();
