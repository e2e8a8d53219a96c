// CartPole-v1 as Gymnasium defines it (gymnasium/envs/classic_control/cartpole.py,
// after Barto, Sutton & Anderson 1983): the same constants, Euler integration,
// ±12° / ±2.4 termination, reward 1 per step (the terminating step included),
// truncation after 500 steps (the registered TimeLimit), and a start state
// uniform in [−0.05, 0.05]⁴. The physics runs in float64 as Gymnasium's does.
import { fail } from '../errors.js';
import { describe, integer, options } from '../options.js';
import { Generator } from '../random.js';
import type { Box, Discrete, Env, StepResult } from './env.js';

const GRAVITY = 9.8, MASS_CART = 1.0, MASS_POLE = 0.1, TOTAL_MASS = MASS_POLE + MASS_CART;
const LENGTH = 0.5; // half the pole's length
const POLE_MASS_LENGTH = MASS_POLE * LENGTH, FORCE_MAG = 10.0, TAU = 0.02;
const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360, X_THRESHOLD = 2.4;
const F32_MAX = 3.4028234663852886e38;

export interface CartPoleOptions {
  /** Steps before truncation; default 500 (CartPole-v1's TimeLimit). */
  maxEpisodeSteps?: number;
}

export class CartPole implements Env {
  readonly observationSpace: Box = {
    type: 'box', shape: [4],
    high: Float32Array.of(X_THRESHOLD * 2, F32_MAX, THETA_THRESHOLD * 2, F32_MAX),
    low: Float32Array.of(-X_THRESHOLD * 2, -F32_MAX, -THETA_THRESHOLD * 2, -F32_MAX),
  };
  readonly actionSpace: Discrete = { type: 'discrete', n: 2 };
  readonly maxEpisodeSteps: number;
  /** (x, ẋ, θ, θ̇) in float64: cart position and velocity, pole angle (0 upright) and angular velocity. */
  state: number[] = [0, 0, 0, 0];
  private rng = new Generator(0);
  private steps = 0;
  private done = true;

  constructor(opts?: CartPoleOptions) {
    this.maxEpisodeSteps = options('CartPole', opts, { maxEpisodeSteps: integer(1) }).maxEpisodeSteps ?? 500;
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) {
      if (!Number.isFinite(seed)) fail('CartPole.reset', `argument 'seed' must be a finite number, got ${describe(seed)}`);
      this.rng = new Generator(seed);
    }
    this.state = [0, 0, 0, 0].map(() => this.rng.uniform(-0.05, 0.05));
    this.steps = 0;
    this.done = false;
    return Float32Array.from(this.state);
  }

  /** Action 0 pushes the cart left, 1 right, with a force of 10 N. */
  step(action: number | ArrayLike<number>): StepResult {
    if (action !== 0 && action !== 1) fail('CartPole.step', `argument 'action' must be 0 (push left) or 1 (push right), got ${describe(action)}`);
    if (this.done) fail('CartPole.step', 'the episode has ended (or never started): call reset() first');
    const [x, xDot, theta, thetaDot] = this.state;
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const cos = Math.cos(theta), sin = Math.sin(theta);
    const temp = (force + POLE_MASS_LENGTH * thetaDot * thetaDot * sin) / TOTAL_MASS;
    const thetaAcc = (GRAVITY * sin - cos * temp) / (LENGTH * (4.0 / 3.0 - (MASS_POLE * cos * cos) / TOTAL_MASS));
    const xAcc = temp - (POLE_MASS_LENGTH * thetaAcc * cos) / TOTAL_MASS;
    // Euler, in Gymnasium's order: positions move with the old velocities.
    this.state = [x + TAU * xDot, xDot + TAU * xAcc, theta + TAU * thetaDot, thetaDot + TAU * thetaAcc];
    this.steps++;
    const [nx, , nth] = this.state;
    const terminated = nx < -X_THRESHOLD || nx > X_THRESHOLD || nth < -THETA_THRESHOLD || nth > THETA_THRESHOLD;
    const truncated = !terminated && this.steps >= this.maxEpisodeSteps;
    this.done = terminated || truncated;
    return { observation: Float32Array.from(this.state), reward: 1, terminated, truncated };
  }
}
