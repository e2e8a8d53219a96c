// The playground's model code on lepton's WASM backend in Node: FLOP count,
// seeded initial weights, regularisation as loss terms (its gradient checked
// against the closed form), and identical runs from identical seeds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init } from 'lepton';
import { initWeights, Net, stepFlops, Trainer, type Arch, type FeatureSet, type TrainConfig } from '../../playground/src/model.js';
import { Rng } from '../../playground/src/data.js';

await init({ backend: 'wasm', threads: 1 });

const arch: Arch = { inputs: 3, hidden: [5, 4], outputs: 2, activation: 'tanh' };
function dataset(n: number, f: number): FeatureSet {
  const r = new Rng(3), x = new Float32Array(n * f), label = new Float32Array(n);
  for (let i = 0; i < x.length; i++) x[i] = r.uniform(-1, 1);
  for (let i = 0; i < n; i++) label[i] = x[i * f] > 0 ? 1 : 0;
  return { x, label, n, f };
}
const cfg = (over: Partial<TrainConfig> = {}): TrainConfig => ({ problem: 'classification', lr: 0.1, optimizer: 'sgd', reg: 'none', regRate: 0, batch: 8, ...over });

test('stepFlops: forward, weight gradient and (past the first layer) input gradient of every product', () => {
  // By hand for [3, 5, 4, 2], batch 8: layer products 8·3·5, 8·5·4, 8·4·2, each 2 FLOPs per multiply-add.
  const fwd = 2 * 8 * (3 * 5 + 5 * 4 + 4 * 2);
  const dW = fwd;
  const dX = 2 * 8 * (5 * 4 + 4 * 2);
  assert.is(stepFlops(arch, 8), fwd + dW + dX);
});

test('initWeights: seeded, shaped [in, out], biases zero, Xavier bound for tanh', () => {
  const a = initWeights(arch, 4), b = initWeights(arch, 4), c = initWeights(arch, 5);
  assert.equal(a.w.map((w) => w.length), [15, 20, 8]);
  assert.ok(a.w.every((w, i) => w.every((v, j) => v === b.w[i][j])));
  assert.not.ok(a.w[0].every((v, j) => v === c.w[0][j]));
  assert.ok(a.b.every((b0) => b0.every((v) => v === 0)));
  const bound = Math.sqrt(6 / (3 + 5));
  assert.ok(a.w[0].every((v) => Math.abs(v) <= bound));
});

/** One SGD step from the same weights and batch without and with a penalty: the weights after each. */
async function stepWithAndWithout(reg: 'l1' | 'l2', rate: number, lr: number, weightSeed: number) {
  const data = dataset(8, 3), w0 = initWeights(arch, weightSeed);
  const plain = new Net(arch, 'wasm', w0), penalised = new Net(arch, 'wasm', w0);
  new Trainer(plain, data, cfg({ lr }), 9).step().dispose();
  new Trainer(penalised, data, cfg({ lr, reg, regRate: rate }), 9).step().dispose();
  return { w0, p: await plain.snapshot(), r: await penalised.snapshot() };
}

test('L2 as a loss term: one SGD step moves each weight by an extra −lr·rate·w', async () => {
  const rate = 0.3, lr = 0.1;
  const { w0, p, r } = await stepWithAndWithout('l2', rate, lr, 1);
  for (let l = 0; l < 3; l++) {
    for (let i = 0; i < w0.w[l].length; i++) {
      const extra = r.w[l][i] - p.w[l][i];
      assert.ok(Math.abs(extra - -lr * rate * w0.w[l][i]) < 1e-6, `layer ${l} weight ${i}: ${extra}`);
    }
    // Biases are not penalised.
    for (let i = 0; i < w0.b[l].length; i++) assert.ok(Math.abs(r.b[l][i] - p.b[l][i]) < 1e-7);
  }
});

test('L1 as a loss term: one SGD step moves each weight by an extra −lr·rate·sign(w)', async () => {
  const rate = 0.01, lr = 0.1;
  const { w0, p, r } = await stepWithAndWithout('l1', rate, lr, 2);
  for (let l = 0; l < 3; l++) {
    for (let i = 0; i < w0.w[l].length; i++) {
      assert.ok(Math.abs(r.w[l][i] - p.w[l][i] - -lr * rate * Math.sign(w0.w[l][i])) < 1e-6);
    }
  }
});

test('the same seeds give the same training run (what makes the race fair)', async () => {
  const data = dataset(40, 3), w0 = initWeights(arch, 3);
  const runs = await Promise.all([0, 1].map(async () => {
    const net = new Net(arch, 'wasm', w0), t = new Trainer(net, data, cfg({ optimizer: 'adam', lr: 0.01 }), 5);
    const loss = await t.run(25);
    return { loss, w: (await net.snapshot()).w[0] };
  }));
  assert.is(runs[0].loss, runs[1].loss);
  assert.equal([...runs[0].w], [...runs[1].w]);
});

test('training lowers the loss; rebind keeps the step count', async () => {
  const data = dataset(64, 3), net = new Net(arch, 'wasm', initWeights(arch, 6));
  const t = new Trainer(net, data, cfg({ optimizer: 'adam', lr: 0.05, batch: 64 }), 1);
  const first = await t.run(1);
  const later = await t.run(200);
  assert.ok(later < first * 0.5, `${first} -> ${later}`);
  const moved = new Net(arch, 'wasm', await net.snapshot());
  t.rebind(moved);
  await t.run(3);
  assert.is(t.steps, 204);
  assert.is(t.net, moved);
});

test('every activation, both problem types, every optimizer: a few steps give finite, falling losses', async () => {
  for (const activation of ['relu', 'tanh', 'sigmoid', 'gelu', 'linear'] as const) {
    for (const problem of ['classification', 'regression'] as const) {
      const a: Arch = { inputs: 3, hidden: [6, 6], outputs: problem === 'classification' ? 2 : 1, activation };
      const data = dataset(32, 3);
      if (problem === 'regression') for (let i = 0; i < data.n; i++) data.label[i] = 0.5 * data.x[i * 3] - 0.25;
      for (const optimizer of ['sgd', 'momentum', 'adam'] as const) {
        const t = new Trainer(new Net(a, 'wasm', initWeights(a, 1)), data, cfg({ problem, optimizer, lr: optimizer === 'adam' ? 0.01 : 0.05, batch: 32 }), 1);
        const first = await t.run(1), later = await t.run(60);
        assert.ok(Number.isFinite(later) && later < first, `${activation} ${problem} ${optimizer}: ${first} -> ${later}`);
        t.net.dispose();
        t.dispose();
      }
    }
  }
});

test.run();
