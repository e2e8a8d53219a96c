// Pendulum-v1 as Gymnasium defines it (gymnasium/envs/classic_control/pendulum.py):
// torque in [−2, 2] swings a pendulum up; reward −(θ² + 0.1·θ̇² + 0.001·u²)
// with θ normalised to [−π, π); θ̇ clipped to ±8; dt 0.05, g 10; start state
// uniform in [−π, π] × [−1, 1]; never terminates, truncated after 200 steps.
// Observations are (cos θ, sin θ, θ̇).
import { fail } from '../errors.js';
import { describe, integer, number, options } from '../options.js';
import { Generator } from '../random.js';
import type { Box, Env, StepResult } from './env.js';

const MAX_SPEED = 8, MAX_TORQUE = 2.0, DT = 0.05, M = 1.0, L = 1.0;

export interface PendulumOptions {
  /** Gravity; default 10.0 (Gymnasium's `g`). */
  g?: number;
  /** Steps before truncation; default 200 (Pendulum-v1's TimeLimit). */
  maxEpisodeSteps?: number;
}

/** θ wrapped into [−π, π), as Python's ((θ + π) % 2π) − π with its non-negative modulo. */
const angleNormalize = (x: number) => {
  const m = (x + Math.PI) % (2 * Math.PI);
  return (m < 0 ? m + 2 * Math.PI : m) - Math.PI;
};

export class Pendulum implements Env {
  readonly observationSpace: Box = { type: 'box', shape: [3], high: Float32Array.of(1, 1, MAX_SPEED), low: Float32Array.of(-1, -1, -MAX_SPEED) };
  readonly actionSpace: Box = { type: 'box', shape: [1], high: Float32Array.of(MAX_TORQUE), low: Float32Array.of(-MAX_TORQUE) };
  readonly g: number;
  readonly maxEpisodeSteps: number;
  /** (θ, θ̇) in float64: angle (0 upright) and angular velocity. */
  state: number[] = [0, 0];
  private rng = new Generator(0);
  private steps = 0;
  private done = true;

  constructor(opts?: PendulumOptions) {
    const o = options('Pendulum', opts, { g: number(0, Infinity, '()'), maxEpisodeSteps: integer(1) });
    this.g = o.g ?? 10.0;
    this.maxEpisodeSteps = o.maxEpisodeSteps ?? 200;
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) {
      if (!Number.isFinite(seed)) fail('Pendulum.reset', `argument 'seed' must be a finite number, got ${describe(seed)}`);
      this.rng = new Generator(seed);
    }
    this.state = [this.rng.uniform(-Math.PI, Math.PI), this.rng.uniform(-1, 1)];
    this.steps = 0;
    this.done = false;
    return this.observe();
  }

  private observe(): Float32Array {
    const [th, thdot] = this.state;
    return Float32Array.of(Math.cos(th), Math.sin(th), thdot);
  }

  /** The torque u (a number or a one-element array), clipped to [−2, 2]. */
  step(action: number | ArrayLike<number>): StepResult {
    const u0 = typeof action === 'number' ? action : action && typeof action === 'object' && action.length === 1 ? action[0] : NaN;
    if (!Number.isFinite(u0)) fail('Pendulum.step', `argument 'action' must be a finite torque (a number or a one-element array), got ${describe(action)}`);
    if (this.done) fail('Pendulum.step', 'the episode has ended (or never started): call reset() first');
    const [th, thdot] = this.state;
    const u = Math.min(Math.max(u0, -MAX_TORQUE), MAX_TORQUE);
    const costs = angleNormalize(th) ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2;
    let newThdot = thdot + ((3 * this.g) / (2 * L) * Math.sin(th) + (3.0 / (M * L * L)) * u) * DT;
    newThdot = Math.min(Math.max(newThdot, -MAX_SPEED), MAX_SPEED);
    this.state = [th + newThdot * DT, newThdot];
    this.steps++;
    const truncated = this.steps >= this.maxEpisodeSteps;
    this.done = truncated;
    return { observation: this.observe(), reward: -costs, terminated: false, truncated };
  }
}
