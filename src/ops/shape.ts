// reshape (a view: no copy), transpose (a strided copy) and broadcasting
// copies. Their gradients are the inverse reshape, the inverse permutation
// and a sum over the broadcast axes.
import { record } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { checkShape, sameShape, sizeOf, stridesIn, stridesOf, type Shape } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { sumTo } from './reduce.js';
import { arg } from './util.js';

/** A view with another shape; one size may be -1 (inferred). */
export function reshape(x: Tensor, shape: number[]): Tensor {
  arg('reshape', 'x', x);
  if (!Array.isArray(shape)) fail('reshape', `argument 'shape' must be an array of sizes, got ${typeof shape}`);
  const free = shape.filter((d) => d === -1).length;
  if (free > 1) fail('reshape', `argument 'shape' ${fmtShape(shape)} has more than one -1`);
  let target = shape;
  if (free === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) fail('reshape', `cannot infer the -1 in ${fmtShape(shape)} for ${x.size} elements (shape ${fmtShape(x.shape)})`);
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  checkShape('reshape', 'shape', target);
  if (sizeOf(target) !== x.size) {
    fail('reshape', `cannot view shape ${fmtShape(x.shape)} (${x.size} elements) as ${fmtShape(shape)} (${sizeOf(target)} elements)`);
  }
  const shape0 = x.shape;
  return record('reshape', x.view(target), [x], [], (g) => [g.view(shape0)]);
}

/** @internal out = x laid out along `shape` with element `strides` into x. */
function stridedRaw(x: Tensor, shape: Shape, strides: number[]): Tensor {
  const be = x.backend;
  const out = empty(be, shape, 'strided');
  if (out.size > 0) be.strided(x.handle('strided', 'x'), out.handle('strided', 'out'), { shape, strides, offset: 0 });
  return out;
}

/** @internal A copy of `x` broadcast to `shape` (numpy rules; no checks). */
export function expandRaw(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x.clone();
  return stridedRaw(x, shape, stridesIn(x.shape, shape));
}

/** A copy of `x` broadcast to `shape`. */
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  arg('broadcastTo', 'x', x);
  checkShape('broadcastTo', 'shape', shape);
  const ok = shape.length >= x.rank && x.shape.every((d, i) => d === 1 || d === shape[shape.length - x.rank + i]);
  if (!ok) fail('broadcastTo', `cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)} (each size must match or be 1)`);
  const shape0 = x.shape;
  return record('broadcastTo', expandRaw(x, shape), [x], [], (g) => [sumTo(g, shape0)]);
}

/** Permutes the axes (a copy). Default: reverse them. */
export function transpose(x: Tensor, perm?: number[]): Tensor {
  arg('transpose', 'x', x);
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  const valid = Array.isArray(p) && p.length === x.rank && [...p].sort((a, b) => a - b).every((v, i) => v === i);
  if (!valid) fail('transpose', `argument 'perm' ${Array.isArray(p) ? fmtShape(p) : String(p)} is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}`);
  const src = stridesOf(x.shape);
  const y = stridedRaw(x, p.map((i) => x.shape[i]), p.map((i) => src[i]));
  const inv = new Array<number>(p.length), shape0 = x.shape;
  p.forEach((v, i) => { inv[v] = i; });
  return record('transpose', y, [x], [], (g) => {
    const gs = stridesOf(g.shape);
    return [stridedRaw(g, shape0, inv.map((i) => gs[i]))];
  });
}
