// embedding(ids, weight): rows of weight gathered by integer id (PyTorch's
// F.embedding). Ids follow the integer-data rule (src/integers.ts): an
// array, nested arrays, a typed array, or a Tensor on WASM, checked before
// any kernel: out of range is a LeptonError naming the id and where it is. The gradient is a deterministic
// scatter-add: the positions are grouped by id on the host, so each weight
// row's gradient is one worker's sum in position order (Backend.embeddingGrad).
import { record } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { integers } from '../integers.js';
import { accepts, either, integer, options, type OptionSpec } from '../options.js';
import { empty, type Tensor } from '../tensor.js';
import { arg } from './util.js';

/** Ids, positions and offsets travel as f32 values: integers are exact below 2^24. */
const F32_INT_MAX = 2 ** 24;

/** Integer ids: a number, nested arrays of numbers (any depth), or a typed array (a Tensor too, on WASM). */
export type Ids = number | ArrayLike<number> | readonly Ids[];

export interface EmbeddingOptions {
  /** Rows with this id get no gradient (PyTorch's padding_idx); negative counts from the end. */
  paddingIdx?: number | null;
}

/**
 * The ids, checked by the integer-data rule (src/integers.ts). Their values
 * must be on the host: the gradient groups positions by id there. A Tensor
 * on a device that cannot read synchronously (WebGPU) is refused.
 */
function hostIds(op: string, ids: unknown, num: number): { data: Float32Array; shape: number[] } {
  const ints = integers(op, 'ids', ids, 0, num, 'id', ` (the weight has ${num} rows)`);
  if (!ints.values) {
    fail(op, `argument 'ids' is a Tensor on ${ints.tensor!.device}, which cannot be read synchronously to check the ids; pass them as an array (e.g. Array.from(await ids.data())) or a typed array`);
  }
  return { data: ints.values, shape: ints.shape };
}

/**
 * Positions grouped by id (ascending within each id) and where each id's
 * group starts (num + 1 offsets); positions holding `skip` are left out.
 */
function groupById(ids: Float32Array, num: number, skip: number | null): { order: Float32Array; offsets: Float32Array } {
  const offsets = new Float32Array(num + 1);
  for (const id of ids) if (id !== skip) offsets[id + 1]++;
  for (let v = 0; v < num; v++) offsets[v + 1] += offsets[v];
  const next = offsets.slice(0, num);
  const order = new Float32Array(Math.max(1, offsets[num]));
  ids.forEach((id, i) => { if (id !== skip) order[next[id]++] = i; });
  return { order, offsets };
}

const SPEC: OptionSpec<EmbeddingOptions> = { paddingIdx: either(integer(), accepts<null>('null', (v) => v === null)) };

/**
 * Rows of `weight` [num, dim] gathered by `ids`: the result has the ids'
 * shape plus [dim]. PyTorch's F.embedding; `paddingIdx` rows get no gradient.
 */
export function embedding(ids: Ids | Tensor, weight: Tensor, opts?: EmbeddingOptions): Tensor {
  const op = 'embedding';
  arg(op, 'weight', weight);
  if (weight.rank !== 2) fail(op, `argument 'weight' must be 2-D [num, dim], got ${fmtShape(weight.shape)}`);
  const [num, dim] = weight.shape;
  const o = options(op, opts, SPEC, { padding_idx: 'paddingIdx' });
  let pad = o.paddingIdx ?? null;
  if (pad !== null) {
    if (pad < -num || pad >= num) fail(op, `option 'paddingIdx' is ${pad}; needs an integer in [${-num}, ${num - 1}] (the weight has ${num} rows)`);
    if (pad < 0) pad += num;
  }
  if (num >= F32_INT_MAX) fail(op, `argument 'weight' has ${num} rows; at most ${F32_INT_MAX - 1} are supported (ids travel as float32)`);
  const { data, shape } = hostIds(op, ids, num);
  if (data.length >= F32_INT_MAX) fail(op, `argument 'ids' holds ${data.length} ids; at most ${F32_INT_MAX - 1} per call are supported`);
  const be = weight.backend;
  const n = data.length;
  function gradOf(g: Tensor): Tensor {
    const dw = empty(be, [num, dim], op);
    if (n * dim === 0) {
      be.fill(dw.handle(op, 'grad'), num * dim, 0);
      return dw;
    }
    const { order, offsets } = groupById(data, num, pad);
    const hOrder = empty(be, [order.length], op), hOffsets = empty(be, [num + 1], op);
    be.write(hOrder.handle(op, 'order'), order);
    be.write(hOffsets.handle(op, 'offsets'), offsets);
    be.embeddingGrad(g.handle(op, 'grad'), hOrder.handle(op, 'order'), hOffsets.handle(op, 'offsets'), dw.handle(op, 'grad'), num, dim);
    return dw;
  }
  // The uploaded ids die with the scope; the gradient keeps the host copy (`data`) it groups.
  return scope(() => {
    const out = empty(be, [...shape, dim], op);
    if (n * dim > 0) {
      const hIds = empty(be, [n], op);
      be.write(hIds.handle(op, 'ids'), data);
      be.embeddingGather(weight.handle(op, 'weight'), hIds.handle(op, 'ids'), out.handle(op, 'out'), n, dim);
    }
    return record(op, out, [weight], [], (g) => [gradOf(g)]);
  });
}
