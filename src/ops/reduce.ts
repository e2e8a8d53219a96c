// sum / mean / max over any set of axes, and sumTo (the gradient of a
// broadcast). The kernel reduces the middle axis of [outer, reduce, inner];
// adjacent reduced axes merge into one such call, separated groups take one
// call each, innermost first.
import { record } from '../autograd.js';
import type { ReduceOp } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { describe } from '../options.js';
import { normalizeAxes, sameShape, sizeOf, type Shape } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { binaryRaw, unaryRaw } from './elementwise.js';
import { expandRaw } from './shape.js';
import { arg } from './util.js';

interface Group { size: number; reduced: boolean }

/** Merges adjacent axes of the same kind; axes of size 1 drop out. */
function groups(shape: Shape, axes: ReadonlySet<number>): Group[] {
  const out: Group[] = [];
  shape.forEach((size, i) => {
    if (size === 1) return;
    const reduced = axes.has(i);
    const last = out[out.length - 1];
    if (last && last.reduced === reduced) last.size *= size;
    else out.push({ size, reduced });
  });
  return out;
}

/** Reduction without gradient; the result has `outShape` (keepDims or not, same values). */
function reduceRaw(op: ReduceOp, x: Tensor, axes: number[], outShape: Shape): Tensor {
  const be = x.backend;
  let gs = groups(x.shape, new Set(axes));
  // Reducing an empty axis (sum 0, max -inf, mean NaN) or only size-1 axes: one kernel call still defines the result.
  if (x.size === 0 || !gs.some((g) => g.reduced)) {
    const reduce = axes.reduce((a, i) => a * x.shape[i], 1);
    const out = empty(be, outShape, op);
    if (out.size > 0) be.reduce(op, x.handle(op, 'x'), out.handle(op, 'out'), { outer: out.size, reduce, inner: 1 });
    return out;
  }
  // Each pass's input is freed with this scope; the result is a view of the last.
  return scope(() => {
    let cur = x;
    // mean of means over equal-sized groups is the mean, so every step can use the same op.
    while (gs.some((g) => g.reduced)) {
      const k = gs.map((g) => g.reduced).lastIndexOf(true);
      const outer = sizeOf(gs.slice(0, k).map((g) => g.size));
      const inner = sizeOf(gs.slice(k + 1).map((g) => g.size));
      const next = empty(be, [outer * inner], op);
      be.reduce(op, cur.handle(op, 'x'), next.handle(op, 'out'), { outer, reduce: gs[k].size, inner });
      cur = next;
      gs = gs.filter((_, i) => i !== k);
      // Re-merge the now-adjacent kept groups.
      gs = gs.reduce<Group[]>((acc, g) => {
        const last = acc[acc.length - 1];
        if (last && last.reduced === g.reduced) last.size *= g.size;
        else acc.push({ ...g });
        return acc;
      }, []);
    }
    return cur.view(outShape);
  });
}

function keptShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/**
 * The axes to reduce. A rank-0 tensor takes axis 0 or −1 (or none) and is its
 * own reduction, as in PyTorch: there is no axis to reduce.
 */
function reducedAxes(name: ReduceOp, x: Tensor, axis: number | number[] | undefined): number[] {
  if (x.rank > 0 || !(axis === undefined || typeof axis === 'number' || Array.isArray(axis))) return normalizeAxes(name, axis, x.rank);
  const list = axis === undefined ? [] : typeof axis === 'number' ? [axis] : axis;
  for (const a of list) {
    if (a !== 0 && a !== -1) fail(name, `axis ${a} is out of range for a scalar (rank 0) tensor (needs axis 0 or -1)`);
  }
  if (list.length > 1) fail(name, `axis ${list[1]} is given twice (a scalar has one axis, 0 or -1)`);
  return [];
}

function reduction(name: ReduceOp, x: Tensor, axis: number | number[] | undefined, keepDims: boolean): Tensor {
  arg(name, 'x', x);
  const axes = reducedAxes(name, x, axis);
  if (typeof keepDims !== 'boolean') fail(name, `argument 'keepDims' must be a boolean, got ${describe(keepDims)}`);
  // The max of nothing is undefined (sum gives 0 and mean NaN, as PyTorch); PyTorch raises too.
  const empty = axes.find((i) => x.shape[i] === 0);
  if (name === 'max' && empty !== undefined) {
    fail('max', `cannot take the max over axis ${empty} of size 0 (x has shape ${fmtShape(x.shape)}): it has no identity; sum gives 0 and mean NaN`);
  }
  const keep = keptShape(x.shape, axes);
  const outShape = keepDims ? keep : x.shape.filter((_, i) => !axes.includes(i));
  const y = reduceRaw(name, x, axes, outShape);
  if (name === 'max') {
    // Ties share the gradient equally, as PyTorch's amax does.
    record(name, y, [x], [x, y], (g, [x, y]) => {
      const mask = binaryRaw('eq', x, y.view(keep));
      return [binaryRaw('mul', binaryRaw('div', mask, reduceRaw('sum', mask, axes, keep)), g.view(keep))];
    });
  } else {
    const r = sizeOf(axes.map((i) => x.shape[i])), shape = x.shape;
    record(name, y, [x], [], (g) => {
      const gk = g.view(keep);
      return [expandRaw(name === 'mean' ? unaryRaw('affine', gk, 1 / r, 0) : gk, shape)];
    });
  }
  return y;
}

export const sum = (x: Tensor, axis?: number | number[], keepDims = false) => reduction('sum', x, axis, keepDims);
export const mean = (x: Tensor, axis?: number | number[], keepDims = false) => reduction('mean', x, axis, keepDims);
export const max = (x: Tensor, axis?: number | number[], keepDims = false) => reduction('max', x, axis, keepDims);

/**
 * @internal Sums `t` (the shape of a broadcast result) down to `shape`, the
 * operand it was broadcast from. Returns `t` itself when nothing to reduce.
 */
export function sumTo(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = t.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < t.rank; i++) if (i < lead || (shape[i - lead] === 1 && t.shape[i] !== 1)) axes.push(i);
  return reduceRaw('sum', t, axes, shape);
}

/** @internal Column sums of a 2-D [rows, cols] tensor (the bias gradient); no gradient. */
export function reduceSumRows(t: Tensor): Tensor {
  const [rows, cols] = t.shape;
  const out = empty(t.backend, [cols], 'sum');
  if (cols > 0) t.backend.reduce('sum', t.handle('sum', 'x'), out.handle('sum', 'out'), { outer: 1, reduce: rows, inner: cols });
  return out;
}
