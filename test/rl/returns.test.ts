import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { discountedReturns, gae, normalizeAdvantages } from '../../src/rl/returns.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import * as R from '../reference/rl.js';

const r = testRng('rl-returns');
const close = (got: Float32Array, want: number[], what: string) =>
  assert.ok(got.length === want.length && want.every((w, i) => Math.abs(got[i] - w) < 1e-6 * Math.max(1, Math.abs(w))), `${what}: got [${[...got]}], want [${want}]`);

// Two environments, four steps ([T, N] rows are steps). Environment 0 terminates at step 1
// (no bootstrap) and then runs on; environment 1 is truncated at step 2 (bootstrap from the
// final observation's value, 4) and then runs on. γ = 0.5, λ = 0.5, lastValue = [2, 2].
// By hand, environment 0: δ = [1 + .5·1 − .5, 2 + 0 − 1, 3 + .5·1 − 2, 4 + .5·2 − 1] = [1, 1, 1.5, 4];
//   A_3 = 4, A_2 = 1.5 + .25·4 = 2.5, A_1 = 1 (cut), A_0 = 1 + .25·1 = 1.25.
// Environment 1: δ = [1 + 1 − 2, 1 + 1 − 2, 1 + .5·4 − 2, 1 + .5·2 − 2] = [0, 0, 1, 0];
//   A_3 = 0, A_2 = 1 (cut), A_1 = .25, A_0 = .0625.
const rewards = [1, 1, 2, 1, 3, 1, 4, 1];
const values = [0.5, 2, 1, 2, 2, 2, 1, 2];
const terminated = [0, 0, 1, 0, 0, 0, 0, 0];
const truncated = [0, 0, 0, 0, 0, 1, 0, 0];
const finalValues = [0, 0, 0, 0, 0, 4, 0, 0];

test('gae: a hand-computed rollout with a termination and a truncation in the middle', async () => {
  for (const device of devices) {
    const { advantages, returns } = gae({
      rewards: tensor(rewards, [4, 2], { device }), values: tensor(values, [4, 2], { device }),
      terminated, truncated: truncated.map(Boolean), finalValues, lastValue: [2, 2], gamma: 0.5, lambda: 0.5,
    });
    assert.equal(advantages.shape, [4, 2]);
    close(await advantages.data(), [1.25, 0.0625, 1, 0.25, 2.5, 1, 4, 0], `${device} advantages`);
    close(await returns.data(), [1.75, 2.0625, 2, 2.25, 4.5, 3, 5, 2], `${device} returns`);
  }
});

test('discountedReturns: the same rollout, bootstrapped and plain Monte Carlo', async () => {
  for (const device of devices) {
    const rw = tensor(rewards, [4, 2], { device });
    // Env 0: G_3 = 4 + .5·2, G_2 = 3 + .5·5, G_1 = 2 (terminal), G_0 = 1 + .5·2. Env 1: G_3 = 1 + .5·2, G_2 = 1 + .5·4 (truncated), G_1 = 1 + .5·3, G_0 = 1 + .5·2.5.
    const boot = discountedReturns({ rewards: rw, terminated, truncated, finalValues, lastValue: tensor([2, 2], { device }), gamma: 0.5 });
    close(await boot.data(), [2, 2.25, 2, 2.5, 5.5, 3, 5, 2], `${device} bootstrapped`);
    const mc = discountedReturns({ rewards: rw, terminated, truncated, gamma: 0.5 });
    close(await mc.data(), [2, 1.75, 2, 1.5, 5, 1, 4, 1], `${device} Monte Carlo`);
  }
});

test('gae and discountedReturns against the float64 loop on random rollouts (T up to 129)', async () => {
  for (const [T, N] of [[1, 1], [2, 3], [3, 1], [7, 5], [64, 4], [129, 3]]) {
    const flags = () => Array.from({ length: T * N }, () => (r.next() < 0.1 ? 1 : 0));
    const terminated = flags(), trunc0 = flags();
    const ro: R.Rollout = {
      T, N, rewards: [...r.array(T * N, -1, 2)], terminated, truncated: trunc0.map((v, i) => (terminated[i] ? 0 : v)),
      values: [...r.array(T * N, -3, 3)], lastValue: [...r.array(N, -3, 3)], finalValues: [...r.array(T * N, -3, 3)],
    };
    const [gamma, lambda] = [r.uniform(0.8, 1), r.uniform(0, 1)];
    const want = R.gaeRef(ro, gamma, lambda), wantG = R.returnsRef(ro, gamma);
    for (const device of devices) {
      const t = (v: number[], shape = [T, N]) => tensor(v, shape, { device });
      const { advantages, returns } = gae({ rewards: t(ro.rewards), values: t(ro.values), terminated: t(ro.terminated), truncated: t(ro.truncated), lastValue: t(ro.lastValue, [N]), finalValues: t(ro.finalValues), gamma, lambda });
      const g = discountedReturns({ rewards: t(ro.rewards), terminated: ro.terminated, truncated: ro.truncated, lastValue: ro.lastValue, finalValues: ro.finalValues, gamma });
      for (const [name, got, ref] of [['advantages', advantages, want.adv], ['returns', returns, want.ret], ['discountedReturns', g, wantG]] as const) {
        const e = relErr(await got.data(), ref);
        record(`rl returns · ${device}`, e, `${name} T=${T} N=${N}`);
        assert.ok(e < 1e-5, `${name} T=${T} N=${N} on ${device}: relative error ${e}`);
      }
    }
  }
  // A [T] rollout is one environment.
  const one = discountedReturns({ rewards: tensor([1, 1, 1]), terminated: [0, 0, 0], gamma: 0.5 });
  assert.equal(one.shape, [3]);
  close(await one.data(), [1.75, 1.5, 1], 'one environment');
});

test('normalizeAdvantages: forward and gradient against float64, finite differences', async () => {
  for (const shape of [[3], [5, 3], [64]]) { // (two values normalise to ±1/√2 whatever they are: a gradient of ~0)
    await checkOp({
      name: `normalizeAdvantages ${JSON.stringify(shape)}`, inputs: [rnd(r, shape, -3, 3)],
      lib: ([a]) => normalizeAdvantages(a),
      ref: ([a]) => ({ data: Float64Array.from(R.normalizeRef([...a.data], 1e-8)), shape }),
      vjp: ([a], g) => [{ data: Float64Array.from(R.normalizeVjp([...a.data], 1e-8, [...g.data])), shape }],
      tol: 1e-5, gradTol: 1e-4,
    }, r, 'rl returns');
  }
});

test('returns: bad input is a LeptonError naming the argument', () => {
  const rw = tensor(rewards, [4, 2]), v = tensor(values, [4, 2]);
  throwsLepton(() => gae({ rewards: rw, values: v, terminated: [0, 1] }), /rl.gae: argument 'terminated' has 2 values; needs 8 \(shape \[4, 2\]\)/);
  throwsLepton(() => gae({ rewards: rw, values: v, terminated: [0, 0, 2, 0, 0, 0, 0, 0] }), /argument 'terminated' has 2 at index 2; needs a flag/);
  throwsLepton(() => gae({ rewards: rw, values: tensor([1, 2]), terminated }), /argument 'values' has shape \[2\]; needs \[4, 2\]/);
  throwsLepton(() => gae({ rewards: rw, values: v, terminated, gamma: 1.5 }), /option 'gamma' must be a number in \[0, 1\], got 1.5/);
  throwsLepton(() => gae({ rewards: rw, values: v, terminated, finalValues }), /'finalValues' is given without 'truncated'/);
  throwsLepton(() => gae({ rewards: rw, values: v, terminated, lastValue: [1, NaN] }), /argument 'lastValue' has NaN at index 1; needs a finite number/);
  throwsLepton(() => discountedReturns({ rewards: tensor([[[1]]]), terminated: [0] }), /argument 'rewards' must be \[T, N\]/);
  throwsLepton(() => discountedReturns({ rewards: rw } as never), /argument 'terminated' is required/);
  throwsLepton(() => normalizeAdvantages(tensor([1])), /rl.normalizeAdvantages: needs at least 2 advantages/);
});

test.run();
