// REINFORCE with a learned baseline (Williams, 1992), the short version of
// policy-gradient learning: act, compute discounted returns G_t, and raise
// log π(a_t | s_t) in proportion to G_t − V(s_t); V learns to predict G_t.
// One gradient step per rollout. Run it: npx tsx examples/rl/reinforce.ts
import { Generator, init, noGrad, optim, rl, scope, tensor, type DeviceName } from 'lepton';
import { ActorCritic } from './agent.js';

export interface ReinforceOptions { device: DeviceName; updates: number; numEnvs?: number; numSteps?: number; lr?: number; gamma?: number; seed?: number }

/** Trains on CartPole-v1; returns the mean return of the last 100 episodes after each update. */
export async function trainReinforce(o: ReinforceOptions): Promise<number[]> {
  const { device, numEnvs: N = 8, numSteps: T = 128, lr = 3e-3, gamma = 0.99, seed = 1 } = o;
  const env = rl.makeVec('CartPole-v1', N);
  const agent = new ActorCritic({ observationSize: 4, numActions: 2, seed, device });
  const opt = new optim.Adam(agent.parameters(), { lr });
  const gen = new Generator(seed);
  const returns: number[] = [], curve: number[] = [];
  let obs = env.reset(seed);
  for (let u = 0; u < o.updates; u++) {
    const obsBuf = new Float32Array(T * N * 4), actBuf = new Float32Array(T * N), rewBuf = new Float32Array(T * N);
    const term = new Uint8Array(T * N), trunc = new Uint8Array(T * N);
    for (let t = 0; t < T; t++) {
      obsBuf.set(obs, t * N * 4);
      const a = noGrad(() => scope(() => agent.dist(tensor(obs, [N, 4], { device })).sample({ generator: gen })));
      const actions = await a.data();
      a.dispose();
      actBuf.set(actions, t * N);
      const s = env.step(actions);
      rewBuf.set(s.rewards, t * N);
      term.set(s.terminated, t * N);
      trunc.set(s.truncated, t * N);
      for (const ep of s.episodes) returns.push(ep.return);
      obs = s.observations;
    }
    scope(() => {
      const x = tensor(obsBuf, [T * N, 4], { device });
      // Monte Carlo returns within the rollout; an episode still running at its end (or cut by
      // the time limit) continues from the baseline's estimate of the state it reached.
      const lastValue = noGrad(() => agent.value(tensor(obs, [N, 4], { device })));
      const G = rl.discountedReturns({ rewards: tensor(rewBuf, [T, N], { device }), terminated: term, lastValue, gamma }).reshape([T * N]);
      const v = agent.value(x);
      const advantage = noGrad(() => G.sub(v));
      const policyLoss = agent.logProb(agent.dist(x), tensor(actBuf, [T * N], { device })).mul(advantage).mean().neg();
      const valueLoss = v.sub(G).square().mean().mul(0.5);
      opt.zeroGrad();
      policyLoss.add(valueLoss).backward();
      opt.step();
    });
    const last = returns.slice(-100);
    curve.push(last.length ? last.reduce((p, q) => p + q, 0) / last.length : NaN);
  }
  return curve;
}

// As a script: a minute of learning on WASM, printing the mean return.
if (import.meta.url === `file://${process.argv[1]}`) {
  await init({ backend: 'wasm' });
  const curve = await trainReinforce({ device: 'wasm', updates: 60 });
  curve.forEach((m, i) => { if ((i + 1) % 10 === 0) console.log(`update ${i + 1}: mean return ${m.toFixed(1)}`); });
}
