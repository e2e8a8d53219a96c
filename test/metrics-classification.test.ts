// metrics.accuracy with topK and metrics.confusionMatrix on every backend
// against host loops in float64 (test/reference/metrics.ts): random scores with
// many ties, ±inf and NaN; leading axes; normalisations; errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../src/index.js';
import { devices } from './helpers/backends.js';
import { testRng } from './helpers/random.js';
import { rejectsLepton } from './helpers/throws.js';
import * as ref from './reference/metrics.js';
import { settledTensors } from './helpers/settle.js';

const { tensor, metrics } = lp;
const rng = testRng('metrics-classification');

/** n × C scores: small integers (ties everywhere), with ±inf and NaN sprinkled in when `special`. */
function scores(n: number, C: number, special: boolean): Float32Array {
  return Float32Array.from({ length: n * C }, () => {
    const u = rng.next();
    if (special && u < 0.05) return NaN;
    if (special && u < 0.1) return rng.pick([Infinity, -Infinity]);
    return rng.int(-2, 2);
  });
}

test('accuracy({ topK }): the label among the k highest scores (stable order, NaN highest), for every k', async () => {
  for (const device of devices) {
    for (const [n, C, special] of [[1, 1, false], [5, 2, true], [37, 5, true], [300, 10, true], [64, 100, false]] as const) {
      const z = scores(n, C, special), labels = Int32Array.from({ length: n }, () => rng.int(0, C - 1));
      const logits = tensor(z, [n, C], { device });
      for (const k of new Set([1, 2, 3, C].filter((k) => k <= C))) {
        const want = ref.topKAccuracy(z, n, C, labels, k);
        const got = await metrics.accuracy(logits, labels, { topK: k });
        assert.ok(Math.abs(got - want) < 1e-6, `${device} ${n}x${C} top-${k}: ${got} vs ${want}`);
        const viaTensor = await metrics.accuracy(logits, tensor(Float32Array.from(labels), { device }), { topK: k });
        assert.ok(Math.abs(viaTensor - want) < 1e-6, `${device} labels as a tensor, top-${k}`);
      }
      assert.is(await metrics.accuracy(logits, labels, { topK: C }), 1, 'top-C is always right');
      logits.dispose();
    }
    // Leading axes: [2, 3, 4] scores with [2, 3] labels.
    const z = scores(6, 4, true), labels = [0, 3, 2, 1, 1, 0];
    const t = tensor(z, [2, 3, 4], { device });
    assert.ok(Math.abs(await metrics.accuracy(t, labels, { topK: 2 }) - ref.topKAccuracy(z, 6, 4, labels, 2)) < 1e-6);
    t.dispose();
  }
});

test('confusionMatrix: counts [true][predicted] against a host loop; normalize true / pred / all', async () => {
  for (const device of devices) {
    for (const [n, C] of [[1, 1], [7, 3], [250, 10]]) {
      const z = scores(n, C, true), labels = Int32Array.from({ length: n }, () => rng.int(0, C - 1));
      const logits = tensor(z, [n, C], { device });
      const want = ref.confusion(z, n, C, labels);
      assert.equal(await metrics.confusionMatrix(logits, labels), want, `${device} ${n}x${C}`);
      const rows = want.map((r) => r.reduce((a, b) => a + b, 0)), cols = want[0].map((_, j) => want.reduce((a, r) => a + r[j], 0));
      const close = (got: number[][], exp: number[][], what: string) =>
        got.forEach((r, i) => r.forEach((x, j) => assert.ok(Math.abs(x - exp[i][j]) < 1e-12, `${device} ${what} [${i}][${j}]: ${x} vs ${exp[i][j]}`)));
      close(await metrics.confusionMatrix(logits, labels, { normalize: 'true' }), want.map((r, i) => r.map((x) => (rows[i] ? x / rows[i] : 0))), 'true');
      close(await metrics.confusionMatrix(logits, labels, { normalize: 'pred' }), want.map((r) => r.map((x, j) => (cols[j] ? x / cols[j] : 0))), 'pred');
      close(await metrics.confusionMatrix(logits, labels, { normalize: 'all' }), want.map((r) => r.map((x) => x / n)), 'all');
      logits.dispose();
    }
  }
});

test('classification metric errors name the metric, the argument and what it needs; nothing is left allocated', async () => {
  const logits = tensor([[1, 2, 3], [3, 2, 1]]), scalar = tensor(5);
  const before = await settledTensors();
  await rejectsLepton(() => metrics.accuracy(logits, [0, 1], { topK: 4 }), /metrics.accuracy: option 'topK' is 4; logits \[2, 3\] have only 3 classes/);
  await rejectsLepton(() => metrics.accuracy(logits, [0, 1], { topK: 0 }), /option 'topK' must be a positive integer, got 0/);
  await rejectsLepton(() => metrics.accuracy(logits, [0, 1], { top_k: 2 } as never), /unknown option 'top_k' \(did you mean 'topK'\?\)/);
  await rejectsLepton(() => metrics.confusionMatrix(logits, [0, 3]), /metrics.confusionMatrix: argument 'labels' has class id 3 at index 1; needs an integer in \[0, 2\]/);
  await rejectsLepton(() => metrics.confusionMatrix(logits, [0]), /argument 'labels' has 1 ids; needs 2 for logits \[2, 3\]/);
  // Labels follow the integer-data rule: a tensor of ids on WASM is checked too.
  const bad = tensor([0, 5]);
  await rejectsLepton(() => metrics.accuracy(logits, bad), /metrics.accuracy: argument 'labels' has class id 5 at index 1; needs an integer in \[0, 2\]/);
  bad.dispose();
  await rejectsLepton(() => metrics.confusionMatrix(logits, [0, 1], { normalize: 'rows' as never }), /option 'normalize' must be one of 'none', 'true', 'pred', 'all'/);
  await rejectsLepton(() => metrics.confusionMatrix(scalar, [0]), /argument 'logits' needs a class axis, got shape \[\]/);
  assert.is(lp.memory().numTensors, before, 'no tensor left behind');
  lp.dispose(logits, scalar);
});

test.run();
