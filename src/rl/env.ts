// The environment interface (Gymnasium's, in TypeScript) and a vector env
// that steps N copies together, so that a policy acts on all of them with
// one batched forward. Environments run on the host in float64; observations
// come out as float32 (as Gymnasium's float32 Box spaces).
import { fail } from '../errors.js';
import { describe } from '../options.js';

/** A finite set of actions {0, …, n − 1} (Gymnasium's Discrete). */
export interface Discrete { readonly type: 'discrete'; readonly n: number }
/** A box of real vectors, elementwise between low and high (Gymnasium's Box). */
export interface Box { readonly type: 'box'; readonly shape: readonly number[]; readonly low: Float32Array; readonly high: Float32Array }
export type Space = Discrete | Box;

export interface StepResult {
  observation: Float32Array;
  reward: number;
  /** The episode reached a terminal state (the pole fell): no value after it. */
  terminated: boolean;
  /** The episode was cut short (time limit): the state still has a value. */
  truncated: boolean;
}

export interface Env {
  readonly observationSpace: Box;
  readonly actionSpace: Space;
  /** Starts an episode; a seed restarts the environment's random stream (Gymnasium's `reset(seed=…)`), else it continues. */
  reset(seed?: number): Float32Array;
  /** One step; a discrete action is an integer id, a box action an array (or a number for one dimension). */
  step(action: number | ArrayLike<number>): StepResult;
}

/** A finished episode: which environment, its summed reward and its length (Gymnasium's RecordEpisodeStatistics). */
export interface EpisodeInfo { env: number; return: number; length: number }

export interface VectorStepResult {
  /** [N · obsSize]: each environment's next observation; the first of a new episode where one ended (auto-reset). */
  observations: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** The last observation of each episode that ended this step (null elsewhere): a truncated one bootstraps from its value. */
  finalObservations: (Float32Array | null)[];
  /** Episodes that ended this step. */
  episodes: EpisodeInfo[];
}

/**
 * N environments stepped together (Gymnasium's SyncVectorEnv with same-step
 * auto-reset): an environment whose episode ends is reset at once, its
 * `observations` row is the new episode's first, and the ended one's last
 * observation is in `finalObservations`.
 */
export class SyncVectorEnv {
  readonly numEnvs: number;
  readonly observationSize: number;
  readonly observationSpace: Box;
  readonly actionSpace: Space;
  /** Numbers per action: 1 for a discrete space, the box's size otherwise. */
  readonly actionSize: number;
  private readonly returns: number[];
  private readonly lengths: number[];
  private started = false;

  constructor(readonly envs: readonly Env[]) {
    if (!Array.isArray(envs) || envs.length === 0) fail('SyncVectorEnv', `argument 'envs' must be a non-empty array of environments, got ${describe(envs)}`);
    this.numEnvs = envs.length;
    this.observationSpace = envs[0].observationSpace;
    this.actionSpace = envs[0].actionSpace;
    this.observationSize = this.observationSpace.shape.reduce((a, b) => a * b, 1);
    this.actionSize = this.actionSpace.type === 'discrete' ? 1 : this.actionSpace.shape.reduce((a, b) => a * b, 1);
    envs.forEach((e, i) => {
      const o = e.observationSpace.shape.reduce((a: number, b: number) => a * b, 1);
      if (o !== this.observationSize || e.actionSpace.type !== this.actionSpace.type) {
        fail('SyncVectorEnv', `environment ${i} has ${o} observations and a ${e.actionSpace.type} action space; environment 0 has ${this.observationSize} and ${this.actionSpace.type}`);
      }
    });
    this.returns = new Array(this.numEnvs).fill(0);
    this.lengths = new Array(this.numEnvs).fill(0);
  }

  /** Resets every environment, environment i with `seed + i` (as Gymnasium's vector reset); returns [N · obsSize]. */
  reset(seed?: number): Float32Array {
    if (seed !== undefined && !Number.isFinite(seed)) fail('SyncVectorEnv.reset', `argument 'seed' must be a finite number, got ${describe(seed)}`);
    const out = new Float32Array(this.numEnvs * this.observationSize);
    this.envs.forEach((e, i) => out.set(e.reset(seed === undefined ? undefined : seed + i), i * this.observationSize));
    this.returns.fill(0);
    this.lengths.fill(0);
    this.started = true;
    return out;
  }

  /** Steps every environment: `actions` holds N ids (discrete) or N · actionSize numbers (box), environment-major. */
  step(actions: ArrayLike<number>): VectorStepResult {
    const op = 'SyncVectorEnv.step';
    if (!this.started) fail(op, 'call reset() before the first step');
    const need = this.numEnvs * this.actionSize;
    if (actions === null || typeof actions !== 'object' || actions.length !== need) {
      fail(op, `argument 'actions' must hold ${need} numbers (${this.numEnvs} environments × ${this.actionSize}), got ${describe(actions)}${actions && typeof actions === 'object' ? ` of length ${actions.length}` : ''}`);
    }
    const N = this.numEnvs, O = this.observationSize, A = this.actionSize;
    const res: VectorStepResult = {
      observations: new Float32Array(N * O), rewards: new Float32Array(N), terminated: new Uint8Array(N), truncated: new Uint8Array(N),
      finalObservations: new Array(N).fill(null), episodes: [],
    };
    for (let i = 0; i < N; i++) {
      const a = this.actionSpace.type === 'discrete' ? actions[i] : Array.prototype.slice.call(actions, i * A, (i + 1) * A) as number[];
      const s = this.envs[i].step(a);
      res.rewards[i] = s.reward;
      res.terminated[i] = s.terminated ? 1 : 0;
      res.truncated[i] = s.truncated ? 1 : 0;
      this.returns[i] += s.reward;
      this.lengths[i]++;
      if (s.terminated || s.truncated) {
        res.episodes.push({ env: i, return: this.returns[i], length: this.lengths[i] });
        this.returns[i] = 0;
        this.lengths[i] = 0;
        res.finalObservations[i] = s.observation;
        res.observations.set(this.envs[i].reset(), i * O);
      } else {
        res.observations.set(s.observation, i * O);
      }
    }
    return res;
  }
}
