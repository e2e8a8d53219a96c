import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { Categorical, Normal } from '../../src/distributions/index.js';
import { Generator } from '../../src/random.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import * as D from '../reference/distributions.js';
import type { Nd } from '../reference/ops.js';

const r = testRng('distributions');

test('Categorical.logProb from logits: forward, gradient, finite differences (ids as an array and as a tensor)', async () => {
  for (const [n, k] of [[1, 2], [4, 3], [6, 7], [3, 1], [2, 33]]) {
    const ids = Array.from({ length: n }, () => r.int(0, k - 1));
    for (const asTensor of [false, true]) {
      await checkOp({
        name: `Categorical logProb [${n}, ${k}]${asTensor ? ' (tensor ids)' : ''}`, inputs: [rnd(r, [n, k], -3, 3)],
        lib: ([z]) => new Categorical({ logits: z }).logProb(asTensor ? tensor(ids, [n], { device: z.device }) : ids),
        ref: ([z]) => D.catLogProb(z, ids), vjp: ([z], g) => [D.catLogProbVjp(z, ids, g)],
      }, r, 'distributions');
    }
  }
});

test('Categorical.logProb of a batch of samples [s, n] against logits [n, k]: the gradient sums over the samples', async () => {
  const [S, n, k] = [3, 4, 5];
  const ids = Array.from({ length: S * n }, () => r.int(0, k - 1));
  const rowsOf = (s: number) => ids.slice(s * n, (s + 1) * n);
  await checkOp({
    name: `Categorical logProb [${S}, ${n}] ids`, inputs: [rnd(r, [n, k], -3, 3)],
    lib: ([z]) => new Categorical({ logits: z }).logProb(tensor(ids, [S, n], { device: z.device })),
    ref: ([z]) => ({ data: Float64Array.from(Array.from({ length: S }, (_, s) => [...D.catLogProb(z, rowsOf(s)).data]).flat()), shape: [S, n] }),
    vjp: ([z], g) => {
      const out = new Float64Array(n * k);
      for (let s = 0; s < S; s++) {
        const v = D.catLogProbVjp(z, rowsOf(s), { data: g.data.slice(s * n, (s + 1) * n), shape: [n] });
        v.data.forEach((x, i) => { out[i] += x; });
      }
      return [{ data: out, shape: [n, k] }];
    },
  }, r, 'distributions');
});

test('Categorical.entropy and logProb from probs: forward, gradient, finite differences', async () => {
  for (const [n, k] of [[1, 2], [5, 4], [2, 17]]) {
    await checkOp({
      name: `Categorical entropy [${n}, ${k}]`, inputs: [rnd(r, [n, k], -3, 3)],
      lib: ([z]) => new Categorical({ logits: z }).entropy(), ref: ([z]) => D.catEntropy(z), vjp: ([z], g) => [D.catEntropyVjp(z, g)],
    }, r, 'distributions');
    const ids = Array.from({ length: n }, () => r.int(0, k - 1));
    await checkOp({
      name: `Categorical probs logProb [${n}, ${k}]`, inputs: [rnd(r, [n, k], 0.2, 2)],
      lib: ([p]) => new Categorical({ probs: p }).logProb(ids), ref: ([p]) => D.catProbsLogProb(p, ids), vjp: ([p], g) => [D.catProbsLogProbVjp(p, ids, g)],
    }, r, 'distributions');
  }
});

test('Categorical: zero-probability categories give entropy without NaN; batch and sample shapes', async () => {
  for (const device of devices) {
    const c = new Categorical({ probs: tensor([[0, 0.5, 0.5], [1, 0, 0]], { device }) });
    const h = await c.entropy().data();
    assert.ok(Math.abs(h[0] - Math.log(2)) < 1e-6 && h[1] === 0, `${device}: entropy ${h}`);
    assert.equal(await c.logProb([1, 0]).data(), Float32Array.of(Math.fround(Math.log(0.5)), 0));
    assert.equal(c.sample({ sampleShape: [5, 2], seed: 1 }).shape, [5, 2, 2]);
    assert.equal(await c.mode.data(), Float32Array.of(1, 0));
  }
});

test('Categorical with −inf logits (masked categories): logProb, entropy and gradients stay finite; sample never picks them', async () => {
  for (const device of devices) {
    const z = tensor([[0, -Infinity, 1], [-Infinity, 2, 2]], { device, requiresGrad: true });
    const c = new Categorical({ logits: z });
    const lp = c.logProb([2, 1]);
    const l1 = Math.log(Math.E / (1 + Math.E)), l2 = Math.log(0.5);
    const got = await lp.data();
    assert.ok(Math.abs(got[0] - l1) < 1e-6 && Math.abs(got[1] - l2) < 1e-6, `${device}: logProb ${got}`);
    lp.sum().backward();
    const g = await z.grad!.data();
    // d log p_id / dz_j = 1[j = id] − p_j; a masked category has p = 0.
    const p0 = 1 / (1 + Math.E);
    const want = [-p0, 0, 1 - (1 - p0), 0, 0.5, -0.5];
    assert.ok(want.every((w, i) => Math.abs(g[i] - w) < 1e-6), `${device}: gradient ${g}`);
    assert.equal([...await c.logProb([1, 0]).data()], [-Infinity, -Infinity]);
    const h = await c.entropy().data();
    assert.ok(Math.abs(h[1] - Math.log(2)) < 1e-6 && Number.isFinite(h[0]), `${device}: entropy ${h}`);
    const s = await c.sample({ sampleShape: [500], seed: 2 }).data();
    assert.ok(s.every((v, i) => (i % 2 === 0 ? v !== 1 : v !== 0)), `${device}: a masked category was drawn`);
  }
});

test('Categorical.sample: frequencies match the probabilities, seeded, the same on every backend', async () => {
  const probs = [0.1, 0.2, 0.3, 0.4];
  const logits = probs.map(Math.log);
  const n = 20000;
  const runs: Float32Array[] = [];
  for (const device of devices) {
    const c = new Categorical({ logits: tensor([logits], { device }) });
    const s = await c.sample({ sampleShape: [n], seed: 7 }).data();
    const again = await c.sample({ sampleShape: [n], generator: new Generator(7) }).data();
    assert.equal(s, again, `${device}: same seed, same draws`);
    const counts = [0, 0, 0, 0];
    for (const v of s) counts[v]++;
    probs.forEach((p, j) => {
      const sd = Math.sqrt(n * p * (1 - p));
      assert.ok(Math.abs(counts[j] - n * p) < 4.5 * sd, `${device}: category ${j} drawn ${counts[j]} times of ${n}, expected ${n * p} ± ${sd.toFixed(0)}`);
    });
    assert.not.ok(c.sample({ seed: 1 }).requiresGrad);
    runs.push(s);
  }
  if (runs.length === 2) assert.equal(runs[0], runs[1], 'WASM and WebGPU draw the same ids from the same seed');
});

const bcast = (x: Nd, shape: number[]): Nd => (x.shape.length === shape.length ? x : { data: new Float64Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => x.data[i % x.data.length]), shape });

test('Normal.logProb: gradient to value, loc and scale; entropy to scale; finite differences', async () => {
  for (const shape of [[1], [3, 4], [2, 1, 5]]) {
    await checkOp({
      name: `Normal logProb ${JSON.stringify(shape)}`, inputs: [rnd(r, shape, -2, 2), rnd(r, shape, -1, 1), rnd(r, shape, 0.3, 2)],
      lib: ([x, mu, s]) => new Normal(mu, s).logProb(x),
      ref: ([x, mu, s]) => D.normalLogProb(x, mu, s), vjp: ([x, mu, s], g) => D.normalLogProbVjp(x, mu, s, g),
    }, r, 'distributions');
    await checkOp({
      name: `Normal entropy ${JSON.stringify(shape)}`, inputs: [rnd(r, shape, -1, 1), rnd(r, shape, 0.3, 2)], grads: [false, true],
      lib: ([mu, s]) => new Normal(mu, s).entropy(), ref: ([, s]) => D.normalEntropy(s),
      vjp: ([mu, s], g) => [{ data: new Float64Array(mu.data.length), shape: mu.shape }, D.normalEntropyVjp(s, g)],
    }, r, 'distributions');
  }
  // Broadcasting: a per-action scale [3] against a batch of locs [4, 3] (a Gaussian policy's log-std parameter).
  const sShared = rnd(r, [3], 0.3, 2);
  await checkOp({
    name: 'Normal logProb, broadcast scale', inputs: [rnd(r, [4, 3], -2, 2), rnd(r, [4, 3]), sShared],
    lib: ([x, mu, s]) => new Normal(mu, s).logProb(x),
    ref: ([x, mu, s]) => D.normalLogProb(x, mu, bcast(s, [4, 3])),
    vjp: ([x, mu, s], g) => {
      const [dx, dmu, ds] = D.normalLogProbVjp(x, mu, bcast(s, [4, 3]), g);
      const d3 = new Float64Array(3);
      ds.data.forEach((v, i) => { d3[i % 3] += v; });
      return [dx, dmu, { data: d3, shape: [3] }];
    },
  }, r, 'distributions');
});

test('Normal.rsample: loc + scale·ε with the seeded ε, gradients to loc and scale', async () => {
  for (const shape of [[5], [2, 3]]) {
    const seed = r.int(0, 1e6);
    const n = shape.reduce((a, b) => a * b, 1);
    const g = new Generator(seed);
    const eps = Array.from({ length: 2 * n }, () => Math.fround(g.normal()));
    // sampleShape [2]: two draws per element, ε in order (draw-major).
    const out = [2, ...shape];
    const ref = ([mu, s]: Nd[]): Nd => ({ data: Float64Array.from(eps, (e, i) => mu.data[i % n] + s.data[i % n] * e), shape: out });
    await checkOp({
      name: `Normal rsample ${JSON.stringify(shape)}`, inputs: [rnd(r, shape), rnd(r, shape, 0.3, 2)],
      lib: ([mu, s]) => new Normal(mu, s).rsample({ sampleShape: [2], seed }), ref,
      vjp: (_, gr) => {
        const dmu = new Float64Array(n), ds = new Float64Array(n);
        gr.data.forEach((v, i) => { dmu[i % n] += v; ds[i % n] += v * eps[i]; });
        return [{ data: dmu, shape }, { data: ds, shape }];
      },
    }, r, 'distributions');
  }
});

test('Normal.sample: moments, no gradient; numbers as parameters', async () => {
  for (const device of devices) {
    const loc = tensor([1.5, -2], { device, requiresGrad: true }), scale = tensor([0.5, 3], { device, requiresGrad: true });
    const d = new Normal(loc, scale);
    const s = d.sample({ sampleShape: [20000], seed: 3 });
    assert.not.ok(s.requiresGrad);
    const v = await s.data();
    [[1.5, 0.5], [-2, 3]].forEach(([m, sd], j) => {
      let a = 0, b = 0;
      for (let i = j; i < v.length; i += 2) { a += v[i]; b += v[i] * v[i]; }
      const mean = a / 20000, std = Math.sqrt(b / 20000 - mean * mean);
      assert.ok(Math.abs(mean - m) < 5 * sd / 100 && Math.abs(std - sd) < 0.05 * sd, `${device}: mean ${mean} std ${std}, expected ${m}, ${sd}`);
    });
    const lp = await new Normal(tensor(0, { device }), 2).logProb(1).data();
    assert.ok(Math.abs(lp[0] - (-1 / 8 - Math.log(2) - 0.5 * Math.log(2 * Math.PI))) < 1e-6);
  }
});

test('Categorical.logProb of a WebGPU tensor of ids: the kernel checks them, a bad id gives NaN', async () => {
  if (!devices.includes('webgpu')) return;
  const z = tensor([[0, 1, 2], [2, 1, 0]], { device: 'webgpu' });
  const got = await new Categorical({ logits: z }).logProb(tensor([2, 3], { device: 'webgpu' })).data();
  const want = 2 - Math.log(1 + Math.E + Math.E ** 2);
  assert.ok(Math.abs(got[0] - want) < 1e-6 && Number.isNaN(got[1]), `logProb: ${[...got]}`);
  throwsLepton(() => new Categorical({ logits: z }).logProb(tensor([0, 1], { device: 'wasm' })), /'value' is on wasm but the data is on webgpu/);
});

test('distributions: bad arguments are LeptonErrors naming the argument', () => {
  const z = tensor([[0, 1, 2]]);
  throwsLepton(() => new Categorical({ logits: z, probs: z }), /Categorical: give exactly one of 'logits' or 'probs'/);
  throwsLepton(() => new Categorical({}), /exactly one/);
  throwsLepton(() => new Categorical({ logits: tensor(1) }), /Categorical: argument 'logits' must have at least one axis/);
  // Category ids follow the integer-data rule (src/integers.ts): arrays and WASM tensors checked.
  throwsLepton(() => new Categorical({ logits: z }).logProb([3]), /Categorical.logProb: argument 'value' has category id 3 at index 0; needs an integer in \[0, 2\]/);
  throwsLepton(() => new Categorical({ logits: z }).logProb([0.5]), /has category id 0.5 at index 0/);
  throwsLepton(() => new Categorical({ logits: z }).logProb(tensor([-1])), /argument 'value' has category id -1 at index 0/);
  throwsLepton(() => new Categorical({ logits: tensor([[0, 1], [1, 0]]) }).logProb([0, 1, 1]), /value \[3\] against the batch shape: shapes \[3\] and \[2\] do not broadcast/);
  throwsLepton(() => new Categorical({ logits: z }).sample({ seed: 1, generator: new Generator(1) }), /give 'generator' or 'seed', not both/);
  throwsLepton(() => new Categorical({ logits: z }).sample({ sampleShape: [-1] }), /option 'sampleShape' must be an array of non-negative integers/);
  throwsLepton(() => new Normal(0, 0), /Normal: argument 'scale' must be a finite number > 0, got 0/);
  throwsLepton(() => new Normal(tensor([0, 0]), tensor([1, 1, 1])), /Normal: 'loc' and 'scale': shapes \[2\] and \[3\] do not broadcast/);
  throwsLepton(() => new Normal(0, 1).rsample({ sedd: 1 } as never), /unknown option 'sedd' \(did you mean 'seed'\?\)/);
});

test.run();
