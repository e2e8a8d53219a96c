// nn.BatchNorm2d and nn.Dropout on every backend, against float64
// references: BatchNorm's training forward and gradients (through the batch
// statistics; the reference VJP checked by finite differences), its running
// statistics over several steps (momentum and the cumulative average), eval
// on the running statistics, PyTorch's buffers and keys; Dropout's seeded
// masks, scaling, gradient and eval identity.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { rnd } from '../helpers/grad.js';
import { checkLayer } from '../helpers/layer.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import * as B from '../reference/nn.js';
import type { Nd } from '../reference/ops.js';

const { nn, tensor, noGrad, scope } = lp;
const r = testRng('nn-batchnorm-dropout');

test('BatchNorm2d reference VJP agrees with central finite differences of the reference forward', () => {
  const x = rnd(r, [2, 3, 2, 3]), gamma = rnd(r, [3]), g = rnd(r, [2, 3, 2, 3]), eps = 1e-5;
  const f = (xx: Nd) => { const s = B.channelStats(xx); return B.batchNorm(xx, s.mean, s.varB, gamma.data, null, eps); };
  const [dx] = B.batchNormTrainVjp(x, gamma.data, eps, g);
  const fd = new Float64Array(x.data.length), h = 1e-6;
  for (let i = 0; i < fd.length; i++) {
    const up = { data: Float64Array.from(x.data), shape: x.shape }, down = { data: Float64Array.from(x.data), shape: x.shape };
    up.data[i] += h;
    down.data[i] -= h;
    const fu = f(up).data, fdn = f(down).data;
    fd[i] = fu.reduce((s, v, j) => s + g.data[j] * (v - fdn[j]), 0) / (2 * h);
  }
  const err = relErr(fd, dx.data);
  record('nn.BatchNorm2d · reference VJP vs finite differences', err, 'x[2,3,2,3]');
  assert.ok(err < 1e-6, `finite differences: ${err}`);
});

test('BatchNorm2d training: forward and gradients of x, weight, bias (affine and not)', async () => {
  for (const device of devices) {
    for (const [xs, affine, eps] of [[[4, 3, 5, 3], true, 1e-5], [[2, 4, 4, 6], false, 1e-3], [[8, 1, 1, 2], true, 1e-5]] as const) {
      const C = xs[3], x = rnd(r, [...xs], -2, 3);
      const w = rnd(r, [C], 0.5, 1.5), b = rnd(r, [C]);
      const s = B.channelStats(x);
      await checkLayer({
        name: `BatchNorm2d(${C}, affine ${affine}, eps ${eps}) x${JSON.stringify(xs)}`, device,
        module: new nn.BatchNorm2d(C, { affine, eps, device }), state: affine ? { weight: w, bias: b } : {}, x,
        ref: B.batchNorm(x, s.mean, s.varB, affine ? w.data : null, affine ? b.data : null, eps),
        vjp: (g): Record<string, Nd> => {
          const [dx, dw, db] = B.batchNormTrainVjp(x, affine ? w.data : null, eps, g);
          return affine ? { x: dx, weight: dw, bias: db } : { x: dx };
        },
        tol: 1e-4,
      }, r, 'nn.BatchNorm2d');
    }
  }
});

test('BatchNorm2d running statistics (momentum 0.1, 0.5, null: cumulative), num_batches_tracked, eval on them; PyTorch\'s keys', async () => {
  for (const device of devices) {
    for (const momentum of [0.1, 0.5, null]) {
      const C = 3, eps = 1e-5;
      const bn = new nn.BatchNorm2d(C, { momentum, device });
      assert.equal(Object.keys(bn.stateDict()), ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
      assert.equal(bn.stateDict().num_batches_tracked.shape, []);
      const rm = new Float64Array(C), rv = new Float64Array(C).fill(1);
      for (let step = 1; step <= 3; step++) {
        const x = rnd(r, [3, 4, 2, C], -1, 2 + step);
        B.runningUpdate(rm, rv, x, momentum, step);
        const t = tensor(x.data, x.shape, { device });
        noGrad(() => scope(() => bn.forward(t))).dispose();
        t.dispose();
      }
      const [m, v, n] = await Promise.all([bn.runningMean!.data(), bn.runningVar!.data(), bn.numBatchesTracked!.data()]);
      const e = Math.max(relErr(m, rm), relErr(v, rv));
      record(`nn.BatchNorm2d running statistics · ${device}`, e, `momentum ${momentum}`);
      assert.ok(e < 1e-5, `running statistics on ${device}, momentum ${momentum}: ${e}`);
      assert.equal([...n], [3]);
      // eval: the running statistics, no update.
      bn.eval();
      const x = rnd(r, [2, 3, 3, C]);
      const t = tensor(x.data, x.shape, { device });
      const y = noGrad(() => bn.forward(t));
      const err = relErr(await y.data(), B.batchNorm(x, rm, rv, null, null, eps).data);
      assert.ok(err < 1e-5, `eval forward on ${device}: ${err}`);
      assert.equal([...await bn.numBatchesTracked!.data()], [3], 'eval counts no batch');
      assert.equal(relErr(await bn.runningMean!.data(), rm) < 1e-5, true, 'eval leaves the running mean');
      y.dispose();
      t.dispose();
      bn.dispose();
    }
  }
});

test('BatchNorm2d without running statistics uses the batch in eval too; errors name the layer', async () => {
  const bn = new nn.BatchNorm2d(2, { trackRunningStats: false }).eval();
  assert.equal(Object.keys(bn.stateDict()), ['weight', 'bias']);
  const x = rnd(r, [2, 2, 2, 2]);
  const s = B.channelStats(x);
  const y = noGrad(() => bn.forward(tensor(x.data, x.shape)));
  assert.ok(relErr(await y.data(), B.batchNorm(x, s.mean, s.varB, null, null, 1e-5).data) < 1e-5);
  throwsLepton(() => bn.forward(lp.zeros([2, 2, 2, 3])), /nn\.BatchNorm2d.*input has 3 channels.*numFeatures = 2/);
  throwsLepton(() => bn.forward(lp.zeros([2, 2])), /nn\.BatchNorm2d.*4-D/);
  throwsLepton(() => new nn.BatchNorm2d(2).forward(lp.zeros([1, 1, 1, 2])), /nn\.BatchNorm2d.*more than 1 value per channel/);
  throwsLepton(() => new nn.BatchNorm2d(2, { momentum: 2 }), /nn\.BatchNorm2d.*momentum/);
  throwsLepton(() => new nn.BatchNorm2d(0), /nn\.BatchNorm2d.*numFeatures/);
  y.dispose();
});

test('Dropout: seeded masks, 1 / (1 - p) scaling, gradient through the same mask, identity in eval', async () => {
  for (const device of devices) {
    const p = 0.3, n = 20000;
    const xs = rnd(r, [n / 100, 100], 0.5, 1.5);
    const x = tensor(xs.data, xs.shape, { device, requiresGrad: true });
    const run = async (seed: number) => {
      const d = new nn.Dropout(p, { seed });
      const y = d.forward(x);
      const out = await y.data();
      return { d, y, out };
    };
    const a = await run(5), b = await run(5), c = await run(6);
    assert.equal(a.out, b.out, 'one seed, one mask');
    assert.not.equal(a.out, c.out, 'another seed, another mask');
    let dropped = 0;
    a.out.forEach((v, i) => {
      if (v === 0) dropped++;
      else assert.ok(Math.abs(v - xs.data[i] / (1 - p)) <= 1e-6 * Math.abs(v), `kept value ${i}: ${v} vs ${xs.data[i] / (1 - p)}`);
    });
    // Binomial(n, p): 5 standard deviations is ~0.016 at n = 20000.
    assert.ok(Math.abs(dropped / n - p) < 5 * Math.sqrt(p * (1 - p) / n), `dropped ${dropped / n}, needs ≈ ${p}`);
    const g = rnd(r, xs.shape);
    a.y.backward(tensor(g.data, g.shape, { device }));
    const gx = await x.grad!.data();
    gx.forEach((v, i) => {
      const want = a.out[i] === 0 ? 0 : g.data[i] / (1 - p);
      assert.ok(Math.abs(v - want) <= 1e-6 * Math.abs(want), `gradient ${i}: ${v} vs ${want}`);
    });
    a.d.eval();
    assert.is(a.d.forward(x), x, 'eval: the input itself');
    const one = new nn.Dropout(1, { seed: 1 }).forward(x);
    assert.ok((await one.data()).every((v) => v === 0), 'p = 1 drops everything');
    assert.is(new nn.Dropout(0).forward(x), x, 'p = 0 keeps everything');
    for (const t of [a.y, b.y, c.y, one, x.grad!, x]) t.dispose();
  }
  throwsLepton(() => new nn.Dropout(1.5), /nn\.Dropout.*'p'.*\[0, 1\].*1\.5/);
  throwsLepton(() => new nn.Dropout(0.5, { seed: 1, generator: new lp.Generator(2) }), /nn\.Dropout.*not both/);
});

test.run();
