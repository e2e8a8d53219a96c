// End to end: an MLP learns the 3-class spiral on every backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../src/index.js';
import { devices } from './helpers/backends.js';
import { rng } from './helpers/random.js';

async function accuracy(model: lp.nn.MLP, x: Float32Array, y: Int32Array, device: lp.DeviceName) {
  const logits = lp.noGrad(() => lp.scope(() => model.forward(lp.tensor(x, [y.length, 2], { device }))));
  const v = await logits.data();
  logits.dispose();
  let right = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < 3; c++) if (v[i * 3 + c] > v[i * 3 + best]) best = c;
    if (best === y[i]) right++;
  }
  return right / y.length;
}

test('MLP [2, 64, 64, 3] reaches >= 97% on held-out spiral points on every backend', async () => {
  const train = lp.data.spiral(200, { seed: 1 }), held = lp.data.spiral(100, { seed: 2 });
  for (const device of devices) {
    const model = new lp.nn.MLP([2, 64, 64, 3], { activation: 'relu', seed: 1, device });
    const opt = new lp.optim.Adam(model.parameters(), { lr: 1e-2 });
    const batch = 100;
    const order = Array.from({ length: train.n }, (_, i) => i);
    let lastLoss = Infinity;
    const t0 = performance.now();
    let steps = 0;
    for (let epoch = 0; epoch < 60; epoch++) {
      // A seeded shuffle per epoch keeps the run deterministic.
      const r = rng(epoch);
      for (let i = order.length - 1; i > 0; i--) { const j = r.int(0, i); [order[i], order[j]] = [order[j], order[i]]; }
      for (let s = 0; s < train.n; s += batch) {
        const idx = order.slice(s, s + batch);
        const xb = new Float32Array(idx.length * 2), yb = new Int32Array(idx.length);
        idx.forEach((k, i) => { xb[2 * i] = train.x[2 * k]; xb[2 * i + 1] = train.x[2 * k + 1]; yb[i] = train.y[k]; });
        const loss = lp.scope(() => {
          const l = lp.nn.crossEntropy(model.forward(lp.tensor(xb, [idx.length, 2], { device })), yb);
          opt.zeroGrad();
          l.backward();
          opt.step();
          return l;
        });
        steps++;
        if (s === 0 && epoch % 20 === 19) lastLoss = await loss.item();
        loss.dispose();
      }
    }
    const ms = (performance.now() - t0) / steps;
    const acc = await accuracy(model, held.x, held.y, device);
    const trainAcc = await accuracy(model, train.x, train.y, device);
    console.log(`  spiral on ${device}: held-out accuracy ${(acc * 100).toFixed(1)}%, train ${(trainAcc * 100).toFixed(1)}%, loss ${lastLoss.toFixed(4)}, ${ms.toFixed(2)} ms/step`);
    assert.ok(acc >= 0.97, `${device}: held-out accuracy ${acc}`);
    opt.dispose();
    model.dispose();
  }
});

test.run();
