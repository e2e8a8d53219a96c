// Discounted returns and generalised advantage estimation (GAE-λ) for a batch
// of environments, on the device. Rollouts are laid out [T, N]: T steps of N
// environments (as CleanRL and SB3 store them). Both are the reverse linear
// recurrence y_t = x_t + c_t·y_{t+1}, where c_t is the discount cut to 0 at an
// episode end. It runs as a doubling scan (Hillis–Steele): ⌈log₂ T⌉ rounds,
// each shifting by a power of two with a 0/1 shift matrix (one exact matmul)
// and combining with elementwise ops, so a rollout costs a few dozen kernels
// instead of T sequential steps.
//
// Episode ends (Gymnasium's split): `terminated` means the state was terminal
// (no value after it); `truncated` means the episode was cut (time limit)
// while the state still has a value, so the return bootstraps from the value
// of the final observation, V(s_final), which the caller computes
// (`finalValues`): the vector env has already reset that environment, so
// values[t + 1] belongs to a new episode.
import { noGrad } from '../autograd.js';
import { tensor } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { add, maximum, mul, sub, sqrt, square, div } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { mean, sum } from '../ops/reduce.js';
import { arg } from '../ops/util.js';
import { accepts, describe, number, options } from '../options.js';
import { Tensor } from '../tensor.js';

/** A [T, N] (or [N]) tensor, or host values in that order: rewards, flags (booleans or 0/1), values. */
export type RolloutData = Tensor | ArrayLike<number> | readonly boolean[];

export interface ReturnsInput {
  /** Rewards r_t, [T, N]: the reward of step t in environment n. */
  rewards: Tensor;
  /** 1 where step t ended its episode in a terminal state (no bootstrap), [T, N]. */
  terminated: RolloutData;
  /** 1 where step t's episode was cut short (time limit) in a non-terminal state, [T, N]; default none. */
  truncated?: RolloutData;
  /** V(s_T) of each environment's observation after the last step, [N]: the bootstrap for unfinished episodes; default 0. */
  lastValue?: RolloutData;
  /** V(final observation) where `truncated` is 1, [T, N] (read only there; 0 elsewhere is fine); default 0. */
  finalValues?: RolloutData;
  /** Discount γ in [0, 1]; default 0.99. */
  gamma?: number;
}

export interface GaeInput extends ReturnsInput {
  /** V(s_t) from the critic, [T, N]. */
  values: Tensor;
  /** λ in [0, 1]: 0 is the one-step TD error, 1 the Monte Carlo advantage; default 0.95. */
  lambda?: number;
}

const data = accepts<RolloutData>('a Tensor or an array of numbers', (v) => v instanceof Tensor || Array.isArray(v) || ArrayBuffer.isView(v));
const tensorArg = accepts<Tensor>('a Tensor', (v) => v instanceof Tensor);
const RETURNS = { rewards: tensorArg, terminated: data, truncated: data, lastValue: data, finalValues: data, gamma: number(0, 1) };
const GAE = { ...RETURNS, values: tensorArg, lambda: number(0, 1) };

/** A rollout argument as a tensor of `shape` on `like`'s device; flags are checked to be 0/1 (host data only). */
function rolloutTensor(op: string, name: string, v: RolloutData, shape: number[], like: Tensor, flag: boolean): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (v instanceof Tensor) {
    arg(op, name, v);
    if (v.backend !== like.backend) fail(op, `'${name}' is on ${v.device} but 'rewards' on ${like.device}; move it with await t.to('${like.device}')`);
    if (v.size !== n) fail(op, `argument '${name}' has shape ${fmtShape(v.shape)}; needs ${fmtShape(shape)}`);
    return v.view(shape);
  }
  const values = new Float32Array(n);
  if (v.length !== n) fail(op, `argument '${name}' has ${v.length} values; needs ${n} (shape ${fmtShape(shape)})`);
  for (let i = 0; i < n; i++) {
    const x = (v as ArrayLike<number | boolean>)[i];
    const num = typeof x === 'boolean' ? Number(x) : x;
    if (typeof num !== 'number' || (flag ? num !== 0 && num !== 1 : !Number.isFinite(num))) {
      fail(op, `argument '${name}' has ${describe(x)} at index ${i}; needs ${flag ? 'a flag (true/false or 1/0)' : 'a finite number'}`);
    }
    values[i] = num;
  }
  return tensor(values, shape, { device: like.device });
}

/** [T, N] from the rewards: a [T] rollout is one environment. */
function rolloutShape(op: string, rewards: Tensor): [number, number] {
  arg(op, 'rewards', rewards);
  if (rewards.rank === 1) return [rewards.shape[0], 1];
  if (rewards.rank !== 2 || rewards.shape[0] < 1) fail(op, `argument 'rewards' must be [T, N] (T steps of N environments) or [T], got ${fmtShape(rewards.shape)}`);
  return [rewards.shape[0], rewards.shape[1]];
}

/** S with S[t, t + d] = 1: matmul(S, y)[t] = y[t + d], and 0 past the end. */
function shiftMatrix(T: number, d: number, like: Tensor): Tensor {
  const s = new Float32Array(T * T);
  for (let t = 0; t + d < T; t++) s[t * T + t + d] = 1;
  return tensor(s, [T, T], { device: like.device });
}

/** y_t = x_t + c_t·y_{t+1} (y_T = 0) along axis 0 of [T, N], by doubling. */
export function reverseScan(x: Tensor, c: Tensor): Tensor {
  const T = x.shape[0];
  let y = x, a = c;
  for (let d = 1; d < T; d *= 2) {
    const s = shiftMatrix(T, d, x);
    // y now sums 2d terms ahead; a is the discount product across 2d steps.
    y = add(y, mul(a, matmul(s, y)));
    if (2 * d < T) a = mul(a, matmul(s, a));
  }
  return y;
}

interface Prepared { T: number; N: number; r: Tensor; term: Tensor; done: Tensor; trunc: Tensor | null; last: Tensor | null; fin: Tensor | null; gamma: number }

function prepare(op: string, o: ReturnsInput): Prepared {
  const [T, N] = rolloutShape(op, o.rewards);
  const r = o.rewards.view([T, N]);
  if (o.terminated === undefined) fail(op, `argument 'terminated' is required ([T, N] flags; all zeros if no episode ended)`);
  const term = rolloutTensor(op, 'terminated', o.terminated, [T, N], r, true);
  const trunc = o.truncated === undefined ? null : rolloutTensor(op, 'truncated', o.truncated, [T, N], r, true);
  const last = o.lastValue === undefined ? null : rolloutTensor(op, 'lastValue', o.lastValue, [1, N], r, false);
  const fin = o.finalValues === undefined ? null : rolloutTensor(op, 'finalValues', o.finalValues, [T, N], r, false);
  if (fin && !trunc) fail(op, `'finalValues' is given without 'truncated': it is read only where an episode was truncated`);
  return { T, N, r, term, trunc, done: trunc ? maximum(term, trunc) : term, last, fin, gamma: o.gamma ?? 0.99 };
}

/**
 * V(s_{t+1}) as the recurrence needs it: the next row's value, `lastValue`
 * after the last step, the final observation's value where truncated, and 0
 * where terminated.
 */
function nextValues(p: Prepared, values: Tensor | null): Tensor {
  const { T, N } = p;
  let next: Tensor = values ? matmul(shiftMatrix(T, 1, p.r), values) : tensor(new Float32Array(T * N), [T, N], { device: p.r.device });
  if (p.last) {
    const lastRow = tensor(Float32Array.from({ length: T }, (_, t) => (t === T - 1 ? 1 : 0)), [T, 1], { device: p.r.device });
    next = add(next, mul(lastRow, p.last));
  }
  // A truncated step's successor is the final observation, not the reset one: swap its value in.
  if (p.trunc) next = add(mul(next, sub(1, p.trunc)), p.fin ? mul(p.fin, p.trunc) : 0);
  return mul(next, sub(1, p.term));
}

/**
 * Discounted returns G_t = r_t + γ·G_{t+1}, restarting at every episode end,
 * [T, N] (or [T]). Unfinished episodes bootstrap from `lastValue` and
 * truncated ones from `finalValues` (both default 0: plain Monte Carlo
 * returns, as REINFORCE uses). No gradient.
 */
export function discountedReturns(input: ReturnsInput): Tensor {
  const op = 'rl.discountedReturns';
  const o = options(op, input, RETURNS);
  return noGrad(() => {
    const p = prepare(op, o);
    // x_t = r_t + γ·(bootstrap where the recurrence is cut: after the last step, or at a truncation).
    const boot = nextValues(p, null);
    const x = add(p.r, mul(boot, p.gamma));
    const c = mul(sub(1, p.done), p.gamma);
    return reverseScan(x, c).view([...o.rewards.shape]);
  });
}

/**
 * Generalised advantage estimation (Schulman et al., 2016):
 * δ_t = r_t + γ·V(s_{t+1})·(1 − terminated_t) − V(s_t),
 * A_t = δ_t + γλ·(1 − done_t)·A_{t+1}, and returns A_t + V(s_t) (the value
 * targets), both [T, N] (or [T]). No gradient (the inputs are a rollout's
 * fixed values, as `torch.no_grad()` in PPO implementations).
 */
export function gae(input: GaeInput): { advantages: Tensor; returns: Tensor } {
  const op = 'rl.gae';
  const o = options(op, input, GAE);
  if (!(o.values instanceof Tensor)) fail(op, `argument 'values' must be a Tensor [T, N] of the critic's values, got ${describe(o.values)}`);
  return noGrad(() => {
    const p = prepare(op, o);
    const v = rolloutTensor(op, 'values', o.values, [p.T, p.N], p.r, false);
    const delta = sub(add(p.r, mul(nextValues(p, v), p.gamma)), v);
    const c = mul(sub(1, p.done), p.gamma * (o.lambda ?? 0.95));
    const adv = reverseScan(delta, c);
    return { advantages: adv.view([...o.rewards.shape]), returns: add(adv, v).view([...o.rewards.shape]) };
  });
}

/**
 * (a − mean) / (std + eps) over every element, with the unbiased standard
 * deviation (torch's `.std()`, as PPO implementations normalise advantages
 * per minibatch). Needs at least 2 elements. Differentiable.
 */
export function normalizeAdvantages(advantages: Tensor, opts?: { eps?: number }): Tensor {
  const op = 'rl.normalizeAdvantages';
  const a = arg(op, 'advantages', advantages);
  const { eps = 1e-8 } = options(op, opts, { eps: number(0, Infinity) });
  if (a.size < 2) fail(op, `needs at least 2 advantages for a standard deviation, got shape ${fmtShape(a.shape)}`);
  const centred = sub(a, mean(a));
  const std = sqrt(div(sum(square(centred)), a.size - 1));
  return div(centred, add(std, eps));
}
