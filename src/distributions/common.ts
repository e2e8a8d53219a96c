// What the distributions share: checked sample options, host noise uploaded
// to a tensor's device, and the one-hot stand-in for gather.
import { tensor } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { noGrad, record } from '../autograd.js';
import { binaryRaw } from '../ops/elementwise.js';
import { sum, sumTo } from '../ops/reduce.js';
import { integer, instanceOf, accepts, options, describe } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import type { Tensor } from '../tensor.js';

/** Options of `sample` / `rsample`: the leading sample shape (as torch's `sample_shape`) and the random stream. */
export interface SampleOptions {
  /** Leading dimensions of independent draws; default `[]` (one draw per batch element). */
  sampleShape?: number[];
  /** The stream to draw from (advanced by the call). */
  generator?: Generator;
  /** A fresh stream from this seed; without `seed` or `generator`, the global one (`manualSeed`). */
  seed?: number;
}

const dims = accepts<number[]>('an array of non-negative integers', (v) => Array.isArray(v) && v.every((d) => integer(0).test(d)));
const SAMPLE = { sampleShape: dims, generator: instanceOf(Generator, 'Generator'), seed: accepts<number>('a finite number', (v) => typeof v === 'number' && Number.isFinite(v)) };

/** The checked options and the generator they name. */
export function sampleOptions(op: string, opts: SampleOptions | undefined): { sampleShape: number[]; gen: Generator } {
  const o = options(op, opts, SAMPLE);
  if (o.generator && o.seed !== undefined) fail(op, `give 'generator' or 'seed', not both`);
  return { sampleShape: o.sampleShape ?? [], gen: o.generator ?? generatorFor(o.seed, op) };
}

/** A host-made tensor of `n` values from `f`, on `like`'s device, outside the graph. */
export function hostNoise(like: Tensor, shape: number[], f: () => number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = f();
  return tensor(data, shape, { device: like.device });
}

/**
 * One-hot rows of integer ids: `[...ids.shape, k]`, 1 where the column is the
 * id. Stand-in for `gather` until the toolkit op lands: an equality test of
 * the ids against 0 … k−1 on the device (no readback), then a multiply-sum.
 */
export function oneHot(ids: Tensor, k: number): Tensor {
  return noGrad(() => {
    const cols = tensor(Float32Array.from({ length: k }, (_, i) => i), [k], { device: ids.device });
    return binaryRaw('eq', ids.view([...ids.shape, 1]), cols);
  });
}

/**
 * log p[id] along the last axis: the one-hot rows times the log-probabilities,
 * summed. The product is `xmul` (0 where the one-hot is 0, even against a
 * −inf log-probability of a masked category), as crossEntropy's; the gradient
 * reaches only the picked entries.
 */
export function pick(logp: Tensor, ids: Tensor, k: number): Tensor {
  const oh = oneHot(ids, k);
  const y = record('Categorical.logProb', binaryRaw('xmul', oh, logp, 'Categorical.logProb'), [logp], [oh], (g, [o]) => [sumTo(binaryRaw('mul', g, o!), logp.shape)]);
  return sum(y, -1);
}

/** Host ids checked as integers in [0, k) (a tensor of ids is the caller's to get right: checking it needs a readback). */
export function hostIds(op: string, value: unknown, k: number, like: Tensor): Tensor {
  if (!(Array.isArray(value) || ArrayBuffer.isView(value))) {
    fail(op, `argument 'value' must be a Tensor of category ids or an array of them, got ${describe(value)}`);
  }
  const ids = value as ArrayLike<number>;
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < k)) {
      fail(op, `argument 'value' has ${describe(v)} at index ${i}; needs an integer category id in [0, ${k - 1}]`);
    }
  }
  return tensor(Float32Array.from(ids), [ids.length], { device: like.device });
}

/** numpy broadcasting of two shapes, or an error naming both. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[], what: string): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) fail(op, `${what}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
    return x === 1 ? y : x;
  });
}
