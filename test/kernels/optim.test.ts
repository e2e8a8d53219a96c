import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backends, label, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/kernels.js';

const r = testRng('optim');
const SIZES = [1, 2, 3, 5, 7, 16, 17, 63, 64, 65, 255, 1000, 4099, 65537];

test('sgd (momentum, nesterov, weight decay) matches float64 over 56 cases', async () => {
  for (let i = 0; i < 56; i++) {
    const n = SIZES[i % SIZES.length];
    const h = { lr: r.uniform(0.001, 0.5), momentum: i % 3 === 0 ? 0 : r.uniform(0.5, 0.99), weightDecay: i % 2 ? r.uniform(0, 0.1) : 0, nesterov: i % 4 === 1 };
    const p = r.array(n), g = r.array(n), v = h.momentum ? r.array(n) : null;
    const expect = ref.sgd(p, g, v, h);
    const where = `n=${n} ${JSON.stringify(h)}`;
    for (const be of backends) {
      const hp = upload(be, p), hg = upload(be, g), hv = v ? upload(be, v) : null;
      be.sgd(hp, hg, hv, n, h);
      const gotP = await be.read(hp, n);
      const gotV = hv ? await be.read(hv, n) : null;
      const gotG = await be.read(hg, n);
      for (const x of [hp, hg, hv]) if (x) be.free(x);
      const err = Math.max(relErr(gotP, expect.p), gotV ? relErr(gotV, expect.v!) : 0);
      record(`sgd · ${label(be)}`, err, where);
      assert.ok(err < 1e-5, `${label(be)} sgd ${where}: ${err}`);
      assert.equal(gotG, g, `${label(be)} sgd must leave the gradient alone`);
    }
  }
});

test('sgd stays accurate when the step nearly cancels the weight (p ≈ lr·g)', async () => {
  for (let i = 0; i < 20; i++) {
    const n = SIZES[i % SIZES.length];
    const h = { lr: r.uniform(0.05, 0.5), momentum: i % 2 ? r.uniform(0.5, 0.95) : 0, weightDecay: i % 3 ? 0 : r.uniform(0, 0.1), nesterov: i % 4 === 1 };
    const g = r.array(n), v = h.momentum ? r.array(n) : null;
    // Weights within 0.1% of the step they receive: the updated values are ~1000x smaller than either term.
    const p = Float32Array.from(g, (gi, j) => {
      const d = gi; // weight decay (wd·p, at most 5% of the step) shifts it a little; the cancellation stays close
      const dir = v ? (h.nesterov ? d + h.momentum * (h.momentum * v[j] + d) : h.momentum * v[j] + d) : d;
      return h.lr * dir * (1 + r.uniform(-1e-3, 1e-3));
    });
    const expect = ref.sgd(p, g, v, h);
    const where = `n=${n} cancelling ${JSON.stringify(h)}`;
    for (const be of backends) {
      const hp = upload(be, p), hg = upload(be, g), hv = v ? upload(be, v) : null;
      be.sgd(hp, hg, hv, n, h);
      const got = await be.read(hp, n);
      for (const x of [hp, hg, hv]) if (x) be.free(x);
      const err = relErr(got, expect.p);
      record(`sgd cancelling · ${label(be)}`, err, where);
      assert.ok(err < 1e-5, `${label(be)} sgd ${where}: ${err}`);
    }
  }
});

test('adam and adamw match float64 over 56 cases', async () => {
  for (let i = 0; i < 56; i++) {
    const n = SIZES[i % SIZES.length];
    const t = r.int(1, 50);
    const beta1 = r.uniform(0.8, 0.95), beta2 = r.uniform(0.99, 0.9999);
    const h = {
      lr: r.uniform(1e-4, 1e-1), beta1, beta2, eps: r.pick([1e-8, 1e-6, 1e-3]),
      weightDecay: i % 3 === 0 ? 0 : r.uniform(0, 0.1), decoupled: i % 2 === 1,
      biasCorrection1: 1 - beta1 ** t, biasCorrection2: 1 - beta2 ** t,
    };
    const p = r.array(n), g = r.array(n), m = r.array(n, -0.1, 0.1), v = r.array(n, 0.001, 0.1);
    const expect = ref.adam(p, g, m, v, h), scale = ref.adam(p, g, m, v, h, true);
    const where = `n=${n} t=${t} ${h.decoupled ? 'adamw' : 'adam'} wd=${h.weightDecay.toFixed(3)}`;
    for (const be of backends) {
      const hp = upload(be, p), hg = upload(be, g), hm = upload(be, m), hv = upload(be, v);
      be.adam(hp, hg, hm, hv, n, h);
      const [gp, gm, gv] = [await be.read(hp, n), await be.read(hm, n), await be.read(hv, n)];
      for (const x of [hp, hg, hm, hv]) be.free(x);
      const err = Math.max(relErr(gp, expect.p, scale.p), relErr(gm, expect.m, scale.m), relErr(gv, expect.v));
      record(`adam · ${label(be)}`, err, where);
      assert.ok(err < 1e-5, `${label(be)} ${where}: ${err}`);
    }
  }
});

test.run();
