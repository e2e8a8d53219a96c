// Reinforcement learning: environments, a vector env, returns and advantages.
import { fail } from '../errors.js';
import { describe, integer } from '../options.js';
import { CartPole, type CartPoleOptions } from './cartpole.js';
import { SyncVectorEnv, type Env } from './env.js';
import { Pendulum, type PendulumOptions } from './pendulum.js';

export { CartPole, type CartPoleOptions } from './cartpole.js';
export { Pendulum, type PendulumOptions } from './pendulum.js';
export { SyncVectorEnv, type Env, type Space, type Box, type Discrete, type StepResult, type VectorStepResult, type EpisodeInfo } from './env.js';
export { gae, discountedReturns, normalizeAdvantages, type GaeInput, type ReturnsInput, type RolloutData } from './returns.js';

/** The environments by their Gymnasium ids. */
export type EnvId = 'CartPole-v1' | 'Pendulum-v1';
const IDS: Record<EnvId, (opts?: object) => Env> = {
  'CartPole-v1': (o) => new CartPole(o as CartPoleOptions),
  'Pendulum-v1': (o) => new Pendulum(o as PendulumOptions),
};

/** An environment by id, as `gymnasium.make('CartPole-v1')`; options go to its constructor. */
export function make(id: 'CartPole-v1', opts?: CartPoleOptions): CartPole;
export function make(id: 'Pendulum-v1', opts?: PendulumOptions): Pendulum;
export function make(id: EnvId, opts?: CartPoleOptions | PendulumOptions): Env;
export function make(id: EnvId, opts?: CartPoleOptions | PendulumOptions): Env {
  if (typeof id !== 'string' || !Object.hasOwn(IDS, id)) fail('rl.make', `unknown environment ${describe(id)}; the environments are: ${Object.keys(IDS).join(', ')}`);
  return IDS[id](opts);
}

/** `numEnvs` copies of an environment in a SyncVectorEnv, as `gymnasium.make_vec(id, num_envs)`. */
export function makeVec(id: EnvId, numEnvs: number, opts?: CartPoleOptions | PendulumOptions): SyncVectorEnv {
  if (!integer(1).test(numEnvs)) fail('rl.makeVec', `argument 'numEnvs' must be a positive integer, got ${describe(numEnvs)}`);
  return new SyncVectorEnv(Array.from({ length: numEnvs }, () => make(id, opts)));
}
