// What the distributions share: checked sample options, host noise uploaded
// to a tensor's device, and the pick of log-probabilities by category id.
import { tensor } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { noGrad, record } from '../autograd.js';
import { integerTensor, type Integers } from '../integers.js';
import { binaryRaw } from '../ops/elementwise.js';
import { oneHotRaw } from '../ops/gather.js';
import { sum, sumTo } from '../ops/reduce.js';
import { integer, instanceOf, accepts, options } from '../options.js';
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
 * @internal log p[id] along the last axis for category ids checked by the integer-data
 * rule (src/integers.ts): the toolkit's one-hot rows (made on the host from
 * visible ids, else gathered from an identity on the device, NaN for a bad
 * id) times the log-probabilities, summed. The one-hot broadcasts against
 * the batch shape. The product is `xmul` (0 where the one-hot is 0, even
 * against a −inf log-probability of a masked category), as crossEntropy's;
 * the gradient reaches only the picked entries.
 */
export function pick(op: string, logp: Tensor, ids: Integers, k: number): Tensor {
  if (ids.tensor) integerTensor(op, 'value', ids, logp.backend); // refuses ids on another device
  const oh = noGrad(() => oneHotRaw(op, ids, k, logp.backend));
  const y = record(op, binaryRaw('xmul', oh, logp, op), [logp], [oh], (g, [o]) => [sumTo(binaryRaw('mul', g, o!), logp.shape)]);
  return sum(y, -1);
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
