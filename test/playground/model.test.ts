// The playground's model code on lepton's WASM backend in Node: FLOP count,
// seeded initial weights, regularisation as loss terms (its gradient checked
// against the closed form), and identical runs from identical seeds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, init, nn } from 'lepton';
import {
  initWeights, makeModel, snapshot, stepFlops, Trainer, type Arch, type FeatureSet, type TrainConfig,
} from '../../playground/src/model.js';

// Whatever threads the WASM backend runs with (another test file may have started it): results do not depend on them.
await init({ backend: 'wasm' });

const arch: Arch = { inputs: 3, hidden: [5, 4], outputs: 2, activation: 'tanh' };
function dataset(n: number, f: number): FeatureSet {
  const r = new Generator(3), x = new Float32Array(n * f), label = new Float32Array(n);
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

test('initWeights: He normal before ReLU (std √(2/fan-in)), Xavier on the output layer', () => {
  const wide: Arch = { inputs: 64, hidden: [128], outputs: 2, activation: 'relu' };
  const { w } = initWeights(wide, 9);
  let s2 = 0;
  for (const v of w[0]) s2 += v * v;
  // 8192 draws: the sample variance is within 5 % of 2/64 with overwhelming probability.
  assert.ok(Math.abs(s2 / w[0].length / (2 / 64) - 1) < 0.05, `hidden layer variance ${s2 / w[0].length}`);
  assert.ok(w[1].every((v) => Math.abs(v) <= Math.sqrt(6 / 130)), 'output layer within the Xavier bound');
});

test('makeModel: lepton\'s nn.MLP holding exactly the host weights it was given', async () => {
  const w0 = initWeights(arch, 8), m = makeModel(arch, 'wasm', w0);
  assert.instance(m, nn.MLP);
  assert.equal(m.sizes, [3, 5, 4, 2]);
  const back = await snapshot(m);
  back.w.forEach((w, l) => assert.equal([...w], [...w0.w[l]]));
  back.b.forEach((b, l) => assert.equal([...b], [...w0.b[l]]));
  m.dispose();
});

/** One SGD step from the same weights and batch without and with a penalty: the weights after each. */
async function stepWithAndWithout(reg: 'l1' | 'l2', rate: number, lr: number, weightSeed: number) {
  const data = dataset(8, 3), w0 = initWeights(arch, weightSeed);
  const plain = makeModel(arch, 'wasm', w0), penalised = makeModel(arch, 'wasm', w0);
  new Trainer(plain, data, cfg({ lr }), 9).step().dispose();
  new Trainer(penalised, data, cfg({ lr, reg, regRate: rate }), 9).step().dispose();
  return { w0, p: await snapshot(plain), r: await snapshot(penalised) };
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
    const net = makeModel(arch, 'wasm', w0), t = new Trainer(net, data, cfg({ optimizer: 'adam', lr: 0.01 }), 5);
    const loss = await t.run(25);
    return { loss, w: (await snapshot(net)).w[0] };
  }));
  assert.is(runs[0].loss, runs[1].loss);
  assert.equal([...runs[0].w], [...runs[1].w]);
});

test('training lowers the loss; rebind keeps the step count', async () => {
  const data = dataset(64, 3), net = makeModel(arch, 'wasm', initWeights(arch, 6));
  const t = new Trainer(net, data, cfg({ optimizer: 'adam', lr: 0.05, batch: 64 }), 1);
  const first = await t.run(1);
  const later = await t.run(200);
  assert.ok(later < first * 0.5, `${first} -> ${later}`);
  const moved = makeModel(arch, 'wasm', await snapshot(net));
  t.rebind(moved);
  await t.run(3);
  assert.is(t.steps, 204);
  assert.is(t.model, moved);
});

test('every activation, both problem types, every optimizer: a few steps give finite, falling losses', async () => {
  for (const activation of ['relu', 'tanh', 'sigmoid', 'gelu', 'linear'] as const) {
    for (const problem of ['classification', 'regression'] as const) {
      const a: Arch = { inputs: 3, hidden: [6, 6], outputs: problem === 'classification' ? 2 : 1, activation };
      const data = dataset(32, 3);
      if (problem === 'regression') for (let i = 0; i < data.n; i++) data.label[i] = 0.5 * data.x[i * 3] - 0.25;
      for (const optimizer of ['sgd', 'momentum', 'adam'] as const) {
        const t = new Trainer(makeModel(a, 'wasm', initWeights(a, 1)), data, cfg({ problem, optimizer, lr: optimizer === 'adam' ? 0.01 : 0.05, batch: 32 }), 1);
        const first = await t.run(1), later = await t.run(60);
        assert.ok(Number.isFinite(later) && later < first, `${activation} ${problem} ${optimizer}: ${first} -> ${later}`);
        t.model.dispose();
        t.dispose();
      }
    }
  }
});

test.run();
