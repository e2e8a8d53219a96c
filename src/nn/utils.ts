// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_:
// the gradients are rescaled on the device, and the total norm is returned as
// a tensor, so a training step never waits for a readback to clip.
import { noGrad } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { keep, scope } from '../memory.js';
import { abs, add, div, exp, log, maximum, minimum, mul, sqrt, square } from '../ops/elementwise.js';
import { full } from '../creation.js';
import { max, sum } from '../ops/reduce.js';
import { describe, accepts, number, options } from '../options.js';
import { Tensor } from '../tensor.js';

/** PyTorch's guard against dividing by a zero norm. */
const EPS = 1e-6;

/** The parameters that have a gradient, checked (all on one device). */
function grads(op: string, parameters: Iterable<Tensor> | Tensor): Tensor[] & { all: Tensor[] } {
  const list = parameters instanceof Tensor ? [parameters]
    : parameters !== null && typeof parameters === 'object' && Symbol.iterator in parameters ? [...parameters as Iterable<unknown>] : null;
  if (!list) fail(op, `argument 'parameters' must be a tensor or an array of tensors (e.g. model.parameters()), got ${describe(parameters)}`);
  const out = Object.assign([] as Tensor[], { all: list as Tensor[] });
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) fail(op, `parameters[${i}] is not a Tensor (got ${describe(p)})`);
    p.live(op, `parameters[${i}]`);
    const g: unknown = p.grad;
    if (g === null || g === undefined) return;
    if (!(g instanceof Tensor)) fail(op, `parameters[${i}].grad must be a Tensor or null, got ${describe(g)}`);
    g.live(op, `parameters[${i}].grad`);
    if (out.length && g.backend !== out[0].grad!.backend) {
      fail(op, `gradients are on different devices: parameters[${i}].grad ${fmtShape(g.shape)} is on ${g.device}, an earlier one on ${out[0].grad!.device}`);
    }
    out.push(p);
  });
  return out;
}

/** Replaces each parameter's gradient by f(gradient), kept past any scope. */
function replaceGrads(ps: Tensor[], f: (g: Tensor) => Tensor): void {
  const next = scope(() => ps.map((p) => keep(f(p.grad!))));
  ps.forEach((p, i) => { p.grad!.dispose(); p.grad = next[i]; });
}

export interface ClipGradNormOptions {
  /** The p of the p-norm: any number > 0, or Infinity (the largest |g|). Default 2. */
  normType?: number;
}

const normType = accepts<number>('a number > 0 or Infinity', (v) => typeof v === 'number' && v > 0 && !Number.isNaN(v));

/**
 * Scales the gradients of `parameters` so that their joint p-norm (all
 * gradients taken as one vector) is at most `maxNorm`: each gradient is
 * multiplied by min(1, maxNorm / (norm + 1e-6)), as PyTorch's
 * clip_grad_norm_. Returns the norm before clipping, a scalar tensor on the
 * gradients' device (yours to read or dispose); nothing is read back.
 * Parameters without a gradient are skipped. A non-finite norm (a NaN or
 * infinite gradient) gives non-finite gradients, as in PyTorch.
 */
export function clipGradNorm(parameters: Iterable<Tensor> | Tensor, maxNorm: number, opts?: ClipGradNormOptions): Tensor {
  const op = 'nn.utils.clipGradNorm';
  const ps = grads(op, parameters);
  const maxOk = number(0, Infinity, '[)');
  if (!maxOk.test(maxNorm)) fail(op, `argument 'maxNorm' must be ${maxOk.what}, got ${describe(maxNorm)}`);
  const p = options(op, opts, { normType }, { norm_type: 'normType' }).normType ?? 2;
  return noGrad(() => {
    // No gradient at all: a zero norm (PyTorch's tensor(0.)), on the parameters' device.
    if (ps.length === 0) return full([], 0, ps.all.length ? { device: ps.all[0].device } : undefined);
    const total = scope(() => {
      const live = ps.filter((q) => q.grad!.size > 0);   // an empty gradient adds nothing (and has no max)
      if (live.length === 0) return full([], 0, { device: ps[0].device });
      // Per gradient Σ|g|^p (or max |g|), then one combination: the norm of the per-tensor norms.
      const parts = live.map(({ grad: g }) => p === Infinity ? max(abs(g!))
        : p === 2 ? sum(square(g!)) : p === 1 ? sum(abs(g!)) : sum(exp(mul(log(abs(g!)), p))));
      const s = parts.reduce((a, b) => (p === Infinity ? maximum(a, b) : add(a, b)));
      return p === Infinity || p === 1 ? s.clone() : p === 2 ? sqrt(s) : exp(div(log(s), p));
    });
    const coef = keep(scope(() => minimum(div(maxNorm, add(total, EPS)), 1)));
    try {
      replaceGrads(ps, (g) => mul(g, coef));
    } finally {
      coef.dispose();
    }
    return total;
  });
}

/**
 * Clamps every gradient element of `parameters` to [−clipValue, clipValue]
 * on the device, as PyTorch's clip_grad_value_ (NaN stays NaN). Parameters
 * without a gradient are skipped.
 */
export function clipGradValue(parameters: Iterable<Tensor> | Tensor, clipValue: number): void {
  const op = 'nn.utils.clipGradValue';
  const ps = grads(op, parameters);
  const ok = number(0, Infinity, '[)');
  if (!ok.test(clipValue)) fail(op, `argument 'clipValue' must be ${ok.what}, got ${describe(clipValue)}`);
  noGrad(() => replaceGrads(ps, (g) => minimum(maximum(g, -clipValue), clipValue)));
}
