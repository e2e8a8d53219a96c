import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CartPole, Pendulum, SyncVectorEnv, make, makeVec } from '../../src/rl/index.js';
import { throwsLepton } from '../helpers/throws.js';
import * as R from '../reference/rl.js';

const f32 = (xs: number[]) => Float32Array.from(xs);
/** Actions from a fixed pattern (no dependence on the code under test). */
const pattern = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 5 < 2 ? 0 : 1));

test('CartPole-v1: trajectories against the float64 equations, fixed seeds and actions', () => {
  for (const seed of [0, 1, 42, 12345]) {
    const env = new CartPole();
    const obs = env.reset(seed);
    let s = [...env.state];
    assert.equal(obs, f32(s), 'observation is the float32 state');
    for (const a of pattern(30, seed)) {
      const ref = R.cartpoleStep(s, a);
      const out = env.step(a);
      assert.equal(env.state, ref.state, `seed ${seed}: state after action ${a}`);
      assert.equal(out.observation, f32(ref.state));
      assert.is(out.reward, 1);
      assert.is(out.terminated, ref.terminated);
      assert.is(out.truncated, false);
      s = ref.state;
      if (ref.terminated) break;
    }
  }
});

test('CartPole-v1: terminates when the pole passes 12° or the cart 2.4, with reward 1 on that step', () => {
  const env = new CartPole();
  env.reset(3);
  let s = [...env.state], steps = 0, out;
  do {
    out = env.step(1);
    s = R.cartpoleStep(s, 1).state;
    steps++;
  } while (!out.terminated && steps < 100);
  const thr = (12 * 2 * Math.PI) / 360;
  assert.ok(out.terminated && Math.abs(s[2]) > thr && steps > 5 && steps < 20, `pushed right only: fell after ${steps} steps at θ = ${s[2]}`);
  assert.is(out.reward, 1);
  throwsLepton(() => env.step(0), /CartPole.step: the episode has ended \(or never started\): call reset\(\) first/);
  // The cart leaving the track: start it near the edge, moving out.
  env.reset(0);
  env.state = [2.39, 1, 0, 0];
  const edge = env.step(1);
  assert.ok(edge.terminated && env.state[0] > 2.4);
});

test('CartPole-v1: truncated (not terminated) after 500 steps of a balancing controller', () => {
  const env = new CartPole();
  env.reset(5);
  let s = [...env.state], out;
  const policy = (st: number[]) => (st[2] + 0.5 * st[3] + 0.01 * st[0] + 0.1 * st[1] > 0 ? 1 : 0);
  for (let t = 1; t <= 500; t++) {
    const a = policy(s);
    const ref = R.cartpoleStep(s, a);
    assert.not.ok(ref.terminated, `the reference controller must balance (fell at step ${t})`);
    out = env.step(a);
    s = ref.state;
    assert.is(out.truncated, t === 500, `step ${t}`);
    assert.is(out.terminated, false);
  }
  const short = new CartPole({ maxEpisodeSteps: 3 });
  short.reset(1);
  assert.equal([short.step(0).truncated, short.step(1).truncated, short.step(0).truncated], [false, false, true]);
});

test('CartPole-v1: start states uniform in [-0.05, 0.05]^4, seeded', () => {
  const env = new CartPole();
  const a = env.reset(9), b = env.reset(9), c = env.reset(10);
  assert.equal(a, b, 'same seed, same start');
  assert.not.equal(a, c);
  const all: number[] = [];
  for (let i = 0; i < 2000; i++) all.push(...env.reset());
  assert.ok(all.every((v) => v >= -0.05 && v < 0.05));
  const mean = all.reduce((s, v) => s + v, 0) / all.length, varc = all.reduce((s, v) => s + (v - mean) ** 2, 0) / all.length;
  // Uniform on [-0.05, 0.05]: mean 0, variance 0.1² / 12.
  assert.ok(Math.abs(mean) < 0.002 && Math.abs(varc / (0.01 / 12) - 1) < 0.05, `mean ${mean}, variance ${varc}`);
});

test('Pendulum-v1: trajectories, rewards, torque clipping and angle wrapping against the float64 equations', () => {
  for (const seed of [0, 7, 99]) {
    const env = new Pendulum();
    const obs = env.reset(seed);
    let s = [...env.state];
    assert.ok(Math.abs(s[0]) <= Math.PI && Math.abs(s[1]) <= 1);
    assert.equal(obs, f32([Math.cos(s[0]), Math.sin(s[0]), s[1]]));
    // A few turns away from the start: the cost's angle must wrap back into [-π, π).
    s = [s[0] + (seed % 2 ? 4 : -6) * Math.PI, s[1]];
    env.state = [...s];
    // Full torque one way, then out-of-range torques (clipped).
    const actions = [...Array(60).fill(2), 3.5, -7, 0.25, [-1.5], [10]];
    for (const [t, a] of actions.entries()) {
      const u = Array.isArray(a) ? a[0] : a;
      const ref = R.pendulumStep(s, u);
      const out = env.step(a as number | number[]);
      assert.equal(env.state, ref.state, `seed ${seed} step ${t}`);
      assert.equal(out.observation, f32(ref.obs));
      assert.ok(Math.abs(out.reward - ref.reward) <= 1e-12 * Math.abs(ref.reward), `seed ${seed} step ${t}: reward ${out.reward} vs ${ref.reward}`);
      assert.is(out.terminated, false);
      s = ref.state;
    }
    assert.ok(Math.abs(s[0]) > Math.PI, 'the trajectory left [-π, π] (angle wrapping exercised)');
  }
  const env = make('Pendulum-v1', { g: 9.81 });
  env.reset(1);
  let s = [...env.state];
  for (let t = 1; t <= 200; t++) {
    const out = env.step(0);
    const ref = R.pendulumStep(s, 0);
    s = ref.state;
    assert.is(out.truncated, t === 200);
  }
  assert.is(env.g, 9.81);
});

test('SyncVectorEnv: seeds seed + i, same-step auto-reset with final observations, episode statistics', () => {
  const vec = makeVec('CartPole-v1', 3, { maxEpisodeSteps: 8 });
  const solo = [0, 1, 2].map(() => new CartPole({ maxEpisodeSteps: 8 }));
  const obs = vec.reset(100);
  solo.forEach((e, i) => assert.equal(obs.subarray(i * 4, i * 4 + 4), e.reset(100 + i)));
  let ended = 0;
  for (let t = 0; t < 20; t++) {
    const actions = [1, 0, t % 2];
    const out = vec.step(actions);
    for (let i = 0; i < 3; i++) {
      const s = solo[i].step(actions[i]);
      assert.is(out.terminated[i], Number(s.terminated));
      assert.is(out.truncated[i], Number(s.truncated));
      if (s.terminated || s.truncated) {
        ended++;
        assert.equal(out.finalObservations[i], s.observation, 'the ended episode\'s last observation');
        const ep = out.episodes.find((e) => e.env === i)!;
        assert.ok(ep && ep.length === ep.return && ep.length <= 8);
        // Auto-reset continues the environment's stream, as the solo copy does.
        assert.equal(out.observations.subarray(i * 4, i * 4 + 4), solo[i].reset());
      } else {
        assert.is(out.finalObservations[i], null);
        assert.equal(out.observations.subarray(i * 4, i * 4 + 4), s.observation);
      }
    }
  }
  assert.ok(ended >= 6, `${ended} episodes ended`);
  const pend = makeVec('Pendulum-v1', 2);
  pend.reset(0);
  assert.equal(pend.step([0.5, -0.5]).rewards.length, 2);
});

test('environments: misuse is a LeptonError naming the argument', () => {
  const env = new CartPole();
  throwsLepton(() => env.step(1), /call reset\(\) first/);
  env.reset(0);
  throwsLepton(() => env.step(2), /CartPole.step: argument 'action' must be 0 \(push left\) or 1 \(push right\), got 2/);
  throwsLepton(() => new Pendulum().reset(0) && new Pendulum().step(NaN), /call reset|finite torque/);
  const p = new Pendulum();
  p.reset(0);
  throwsLepton(() => p.step([1, 2]), /Pendulum.step: argument 'action' must be a finite torque/);
  throwsLepton(() => new CartPole({ maxEpisodeSteps: 0 }), /option 'maxEpisodeSteps' must be a positive integer, got 0/);
  throwsLepton(() => make('CartPole-v0' as never), /rl.make: unknown environment "CartPole-v0"; the environments are: CartPole-v1, Pendulum-v1/);
  throwsLepton(() => makeVec('CartPole-v1', 0), /argument 'numEnvs' must be a positive integer/);
  const vec = makeVec('CartPole-v1', 2);
  throwsLepton(() => vec.step([0, 1]), /SyncVectorEnv.step: call reset\(\) before the first step/);
  vec.reset(0);
  throwsLepton(() => vec.step([0]), /argument 'actions' must hold 2 numbers \(2 environments × 1\)/);
  throwsLepton(() => new SyncVectorEnv([new CartPole(), new Pendulum()]), /environment 1 has 3 observations/);
});

test.run();
