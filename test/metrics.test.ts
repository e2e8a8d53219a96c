// metrics.accuracy and metrics.MeanMetric on every backend against host
// computations in float64, and their errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../src/index.js';
import { devices } from './helpers/backends.js';
import { testRng } from './helpers/random.js';

const { tensor, metrics, LeptonError } = lp;
const rng = testRng('metrics');

function expectError(f: () => unknown, re: RegExp) {
  try { f(); } catch (e) { assert.instance(e, LeptonError); assert.match((e as Error).message, re); return; }
  assert.unreachable(`no error, expected ${re}`);
}
async function expectReject(p: Promise<unknown>, re: RegExp) {
  try { await p; } catch (e) { assert.instance(e, LeptonError); assert.match((e as Error).message, re); return; }
  assert.unreachable(`no error, expected ${re}`);
}

test('accuracy: share of rows whose first largest score is the label, for id arrays and id tensors', async () => {
  for (const device of devices) {
    for (const [rows, C] of [[1, 2], [37, 3], [200, 10]]) {
      // Integer scores make ties common: the first of a tie is the prediction.
      const z = Float32Array.from({ length: rows * C }, () => rng.int(0, 3));
      const labels = Int32Array.from({ length: rows }, () => rng.int(0, C - 1));
      let right = 0;
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (z[r * C + c] > z[r * C + best]) best = c;
        if (best === labels[r]) right++;
      }
      const logits = tensor(z, [rows, C], { device });
      const a = await metrics.accuracy(logits, labels);
      assert.ok(Math.abs(a - right / rows) < 1e-6, `${device} ${rows}x${C}: ${a} vs ${right / rows}`);
      assert.ok(Math.abs(await metrics.accuracy(logits, [...labels]) - right / rows) < 1e-6);
      assert.ok(Math.abs(await metrics.accuracy(logits, tensor(Float32Array.from(labels), { device })) - right / rows) < 1e-6);
      logits.dispose();
    }
    // Leading axes: [2, 2, 3] logits with [2, 2] labels.
    const l3 = tensor([[[0, 1, 0], [5, 0, 0]], [[0, 0, 1], [1, 2, 3]]], { device });
    assert.ok(Math.abs(await metrics.accuracy(l3, [1, 0, 2, 0]) - 0.75) < 1e-7);
  }
});

test('accuracy: bad labels and logits are refused before any work', async () => {
  const l = tensor([[1, 2], [3, 4]]);
  await expectReject(metrics.accuracy(l, [0, 2]), /metrics.accuracy: argument 'labels' has class id 2 at index 1; needs an integer in \[0, 1\] for logits \[2, 2\]/);
  await expectReject(metrics.accuracy(l, [0]), /argument 'labels' has 1 ids; needs 2/);
  await expectReject(metrics.accuracy(l, [0.5, 1]), /class id 0.5 at index 0/);
  await expectReject(metrics.accuracy(l, tensor([[1, 0]])), /argument 'labels' has shape \[1, 2\]; needs \[2\]/);
  await expectReject(metrics.accuracy(tensor(3), [0]), /argument 'logits' needs a class axis, got shape \[\]/);
  await expectReject(metrics.accuracy(tensor(new Float32Array(0), [0, 3]), []), /no rows to score/);
});

test('MeanMetric: a weighted running mean on the device, one readback, reset and devices', async () => {
  for (const device of devices) {
    const m = new metrics.MeanMetric();
    assert.ok(Number.isNaN(await m.compute()), 'nothing added: NaN');
    const parts = [[rng.uniform(-2, 2)], Array.from({ length: 7 }, () => rng.uniform(-2, 2)), [3]];
    const weights = [1, 0.5, 2];
    let num = 0, den = 0;
    parts.forEach((p, i) => {
      const t = tensor(p, { device, requiresGrad: i === 0 });   // a loss that requires a gradient is fine
      m.update(t, weights[i]);
      t.dispose();                                              // the metric keeps its own total
      for (const v of p) num += weights[i] * Math.fround(v);
      den += weights[i] * p.length;
    });
    m.update(4, 1);
    num += 4; den += 1;
    assert.ok(Math.abs(await m.compute() - num / den) < 1e-5, device);
    // Made inside a scope, the total survives it.
    lp.scope(() => m.update(tensor([10], { device })));
    num += 10; den += 1;
    assert.ok(Math.abs(await m.compute() - num / den) < 1e-5);
    m.reset();
    m.update(tensor([1, 2], { device }));
    assert.is(await m.compute(), 1.5);
    if (devices.length > 1) {
      const other = devices.find((d) => d !== device)!;
      expectError(() => m.update(tensor([1], { device: other })), /MeanMetric.update: the running total is on .* and 'value' on /);
    }
    expectError(() => m.update(tensor([1], { device }), -1), /argument 'weight' must be a finite number >= 0, got -1/);
    m.dispose();
  }
});

test.run();
