// Proximal Policy Optimization (Schulman et al., 2017) on lepton's public API:
// N environments stepped together, the policy sampled on the device, GAE-λ,
// the clipped surrogate objective, a value loss and an entropy bonus, over
// several epochs of shuffled minibatches, with the learning rate annealed
// linearly to 0. Importable (the playground's Agent tab drives `PPO` step by step).
import { Generator, distributions, noGrad, optim, rl, scope, tensor, maximum, minimum, type DeviceName, type Tensor } from 'lepton';
import { ActorCritic } from './agent.js';

export interface PPOConfig {
  env: 'CartPole-v1' | 'Pendulum-v1';
  numEnvs: number;
  /** Steps per environment per rollout. */
  numSteps: number;
  epochs: number;
  minibatchSize: number;
  lr: number;
  /** Anneal the learning rate linearly to 0 over `totalSteps`. */
  annealLr: boolean;
  gamma: number;
  lambda: number;
  clip: number;
  valueCoef: number;
  entropyCoef: number;
  /** Rewards are multiplied by this for learning (Pendulum's are large); reported returns are unscaled. */
  rewardScale: number;
  /** Environment steps (all environments together) to train for at most. */
  totalSteps: number;
  hidden: number[];
  initLogStd: number;
  seed: number;
  device?: DeviceName;
}

/** Defaults per environment: CartPole after rl-baselines3-zoo's tuned PPO, Pendulum with a short horizon (γ = 0.9). */
export const PRESETS: Record<PPOConfig['env'], Omit<PPOConfig, 'env' | 'seed' | 'device'>> = {
  'CartPole-v1': {
    numEnvs: 8, numSteps: 32, epochs: 20, minibatchSize: 256, lr: 1e-3, annealLr: true, gamma: 0.98, lambda: 0.8,
    clip: 0.2, valueCoef: 0.5, entropyCoef: 0, rewardScale: 1, totalSteps: 250_000, hidden: [64, 64], initLogStd: 0,
  },
  'Pendulum-v1': {
    numEnvs: 8, numSteps: 256, epochs: 10, minibatchSize: 64, lr: 1e-3, annealLr: true, gamma: 0.9, lambda: 0.95,
    clip: 0.2, valueCoef: 0.5, entropyCoef: 0, rewardScale: 0.1, totalSteps: 400_000, hidden: [64, 64], initLogStd: 0,
  },
};

export interface UpdateStats {
  update: number;
  /** Environment steps so far (all environments). */
  steps: number;
  /** Mean return of the last 100 finished episodes (NaN before the first). */
  meanReturn: number;
  episodes: number;
  /** Losses of the update's last minibatch. */
  policyLoss: number;
  valueLoss: number;
  entropy: number;
}

/** One PPO learner: `await ppo.update()` collects one rollout and trains on it. */
export class PPO {
  readonly cfg: PPOConfig;
  readonly env: rl.SyncVectorEnv;
  readonly agent: ActorCritic;
  readonly opt: optim.Adam;
  readonly device: DeviceName;
  /** Returns of finished episodes, in order. */
  readonly returns: number[] = [];
  steps = 0;
  updates = 0;
  /**
   * Awaited, when set, after every rollout step and every minibatch: a page
   * sets it to yield to the event loop now and then, so that one update is
   * never one long task (the playground's Agent tab). Node leaves it unset.
   */
  pace: (() => Promise<void> | void) | null = null;
  private obs: Float32Array;
  private readonly gen: Generator;
  private readonly obsSize: number;
  private readonly actSize: number;

  constructor(cfg: Partial<PPOConfig> & { env: PPOConfig['env'] }, device: DeviceName) {
    this.cfg = { ...PRESETS[cfg.env], seed: 1, ...cfg } as PPOConfig;
    this.device = device;
    this.env = rl.makeVec(this.cfg.env, this.cfg.numEnvs);
    const space = this.env.actionSpace;
    this.obsSize = this.env.observationSize;
    this.actSize = this.env.actionSize;
    this.agent = new ActorCritic({
      observationSize: this.obsSize, ...(space.type === 'discrete' ? { numActions: space.n } : { actionSize: this.actSize }),
      hidden: this.cfg.hidden, initLogStd: this.cfg.initLogStd, seed: this.cfg.seed, device,
    });
    this.opt = new optim.Adam(this.agent.parameters(), { lr: this.cfg.lr, eps: 1e-5 });
    this.gen = new Generator(this.cfg.seed);
    this.obs = this.env.reset(this.cfg.seed);
  }

  /** Mean return of the last `n` finished episodes (NaN before the first). */
  meanReturn(n = 100): number {
    const last = this.returns.slice(-n);
    return last.length ? last.reduce((a, b) => a + b, 0) / last.length : NaN;
  }

  /** Actions for a batch of observations [N · obs], sampled (or the mode, `greedy`), as host numbers. */
  async act(obs: Float32Array, greedy = false): Promise<Float32Array> {
    const n = obs.length / this.obsSize;
    const a = noGrad(() => scope(() => {
      const d = this.agent.dist(tensor(obs, [n, this.obsSize], { device: this.device }));
      return greedy ? (d instanceof distributions.Categorical ? d.mode : d.mean) : d.sample({ generator: this.gen });
    }));
    try {
      // WASM computes synchronously: read at once rather than after a macrotask.
      return this.device === 'wasm' ? a.dataSync() : await a.data();
    } finally {
      a.dispose();
    }
  }

  /**
   * Mean return of `episodes` new episodes of the current policy (its mode
   * when `greedy`) on separate environments seeded from `seed`: a fair
   * before/after measure, free of the training episodes' lag.
   */
  async evaluate(episodes = 10, greedy = true, seed = 12345): Promise<number> {
    // One episode per environment: the first ones to end are the short ones, so counting
    // episodes as they end would bias the mean down.
    const env = rl.makeVec(this.cfg.env, episodes);
    let obs = env.reset(seed);
    const first = new Array<number>(episodes).fill(NaN);
    let left = episodes;
    while (left > 0) {
      const s = env.step(await this.act(obs, greedy));
      for (const ep of s.episodes) if (Number.isNaN(first[ep.env])) { first[ep.env] = ep.return; left--; }
      obs = s.observations;
    }
    return first.reduce((a, b) => a + b, 0) / episodes;
  }

  /**
   * Plays one episode of the current policy on a fresh environment, calling
   * `onStep` after every step with the action taken (to draw it: `env.state`
   * holds the physics);
   * resolves to the episode's return. The playground's "watch" button; its
   * stop button aborts `signal` (the promise then rejects with the reason).
   */
  async playEpisode(onStep?: (env: rl.Env, step: rl.StepResult, action: Float32Array) => void | Promise<void>, opts: { seed?: number; greedy?: boolean; signal?: AbortSignal } = {}): Promise<number> {
    const env = rl.make(this.cfg.env);
    let obs = env.reset(opts.seed ?? 0), total = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      const a = await this.act(obs, opts.greedy ?? true);
      const s = env.step(this.agent.discrete ? a[0] : a);
      total += s.reward;
      await onStep?.(env, s, a);
      if (s.terminated || s.truncated) return total;
      obs = s.observation;
    }
  }

  /** Collects `numSteps` steps of every environment, then runs the PPO epochs on them. */
  async update(): Promise<UpdateStats> {
    const { numEnvs: N, numSteps: T, gamma, lambda } = this.cfg;
    const O = this.obsSize, A = this.actSize;
    const obsBuf = new Float32Array(T * N * O), actBuf = new Float32Array(T * N * A), rewBuf = new Float32Array(T * N);
    const term = new Uint8Array(T * N), trunc = new Uint8Array(T * N);
    const finals: { i: number; obs: Float32Array }[] = [];
    for (let t = 0; t < T; t++) {
      obsBuf.set(this.obs, t * N * O);
      const actions = await this.act(this.obs);
      actBuf.set(actions, t * N * A);
      const s = this.env.step(actions);
      for (let i = 0; i < N; i++) {
        rewBuf[t * N + i] = s.rewards[i] * this.cfg.rewardScale;
        term[t * N + i] = s.terminated[i];
        trunc[t * N + i] = s.truncated[i] & (1 - s.terminated[i]);
        if (trunc[t * N + i]) finals.push({ i: t * N + i, obs: s.finalObservations[i]! });
      }
      for (const ep of s.episodes) this.returns.push(ep.return);
      this.obs = s.observations;
      if (this.pace) await this.pace();
    }
    this.steps += T * N;

    // V(final observation) where an episode was cut by the time limit: its return goes on from there.
    const B = T * N;
    const finalValues = new Float32Array(B);
    if (finals.length) {
      const fo = new Float32Array(finals.length * O);
      finals.forEach((f, k) => fo.set(f.obs, k * O));
      const [fv] = await this.read([noGrad(() => scope(() => this.agent.value(tensor(fo, [finals.length, O], { device: this.device }))))]);
      finals.forEach((f, k) => { finalValues[f.i] = fv[k]; });
    }
    // Everything the epochs need from the rollout, in batches before the policy changes: old
    // log-probabilities, GAE advantages and value targets (one readback).
    const [oldLogp, adv, ret] = await this.read(noGrad(() => scope(() => {
      const obsT = tensor(obsBuf, [B, O], { device: this.device });
      const actT = tensor(actBuf, this.agent.discrete ? [B] : [B, A], { device: this.device });
      const logp = this.agent.logProb(this.agent.dist(obsT), actT);
      const values = this.agent.value(obsT).reshape([T, N]);
      const lastValue = this.agent.value(tensor(this.obs, [N, O], { device: this.device }));
      const { advantages, returns } = rl.gae({
        rewards: tensor(rewBuf, [T, N], { device: this.device }), values, terminated: term, truncated: trunc, finalValues, lastValue, gamma, lambda,
      });
      return [logp, advantages.reshape([B]), returns.reshape([B])];
    })));

    const mb = Math.min(this.cfg.minibatchSize, B);
    let last = { policyLoss: NaN, valueLoss: NaN, entropy: NaN };
    if (this.cfg.annealLr) this.opt.lr = Math.max(this.cfg.lr * (1 - this.steps / this.cfg.totalSteps), this.cfg.lr * 1e-3);
    const pick = (src: Float32Array, idx: Uint32Array, width: number) => {
      const out = new Float32Array(idx.length * width);
      idx.forEach((j, k) => out.set(src.subarray(j * width, (j + 1) * width), k * width));
      return out;
    };
    let lossT: Tensor[] = [];
    for (let epoch = 0; epoch < this.cfg.epochs; epoch++) {
      const perm = Uint32Array.from(this.gen.randperm(B));
      for (let start = 0; start + mb <= B; start += mb) {
        const idx = perm.subarray(start, start + mb);
        for (const t of lossT) t.dispose();
        lossT = scope(() => {
          const obsT = tensor(pick(obsBuf, idx, O), [mb, O], { device: this.device });
          const actT = tensor(pick(actBuf, idx, A), this.agent.discrete ? [mb] : [mb, A], { device: this.device });
          const d = this.agent.dist(obsT);
          const logp = this.agent.logProb(d, actT);
          const ratio = logp.sub(tensor(pick(oldLogp, idx, 1), [mb], { device: this.device })).exp();
          const a = rl.normalizeAdvantages(tensor(pick(adv, idx, 1), [mb], { device: this.device }));
          // The clipped surrogate: the pessimistic of the plain and the clipped ratio times the advantage.
          const clipped = minimum(maximum(ratio, 1 - this.cfg.clip), 1 + this.cfg.clip);
          const policyLoss = maximum(ratio.mul(a).neg(), clipped.mul(a).neg()).mean();
          const valueLoss = this.agent.value(obsT).sub(tensor(pick(ret, idx, 1), [mb], { device: this.device })).square().mean().mul(0.5);
          const entropy = this.agent.entropy(d).mean();
          const loss = policyLoss.add(valueLoss.mul(this.cfg.valueCoef)).sub(entropy.mul(this.cfg.entropyCoef));
          this.opt.zeroGrad();
          loss.backward();
          this.opt.step();
          return [policyLoss, valueLoss, entropy];
        });
        if (this.pace) await this.pace();
      }
    }
    const [pl, vl, en] = await this.read(lossT);
    last = { policyLoss: pl[0], valueLoss: vl[0], entropy: en[0] };
    this.updates++;
    return { update: this.updates, steps: this.steps, meanReturn: this.meanReturn(), episodes: this.returns.length, ...last };
  }

  /** Reads tensors to the host and frees them. */
  private async read(ts: Tensor[]): Promise<Float32Array[]> {
    const out = await Promise.all(ts.map((t) => t.data()));
    for (const t of ts) t.dispose();
    return out;
  }
}
