// slice (Python/numpy slicing per dimension: negative indices, steps of
// either sign, out-of-range bounds clamped) and narrow (PyTorch's). Both are
// one strided copy; the gradient writes g into a zero tensor of the input's
// shape through the same strides (the strided copy's `outStrides` form).
import { record } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { describe } from '../options.js';
import { stridesOf, type Shape } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { full } from './elementwise.js';
import { arg } from './util.js';

/** One dimension's bound: an index (negative counts from the end), or null/undefined for the default. */
export type Bound = number | null | undefined;

/** A dimension argument normalised against `rank` (negative counts from the end), or a LeptonError. */
export function dimArg(op: string, dim: unknown, rank: number, name = 'dim'): number {
  const r = Math.max(rank, 1);
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < -r || dim >= r) {
    fail(op, `argument '${name}' must be an integer in [${-r}, ${r - 1}] for a tensor of rank ${rank}, got ${describe(dim)}`);
  }
  return dim < 0 ? dim + r : dim;
}

/** @internal The view `x` is read through: shape, element strides and offset into x's storage. */
export interface Region { shape: number[]; strides: number[]; offset: number }

/** @internal Copies `region` of x into a fresh tensor; its gradient writes g back into zeros. */
export function copyRegion(op: string, x: Tensor, r: Region): Tensor {
  const be = x.backend;
  const y = empty(be, r.shape, op);
  if (y.size > 0) be.strided(x.handle(op, 'x'), y.handle(op, 'out'), { shape: r.shape, strides: r.strides, offset: r.offset });
  const shape0 = x.shape;
  return record(op, y, [x], [], (g) => [scatterRegion(op, g, shape0, r)]);
}

/** @internal Zeros of `shape` with `g` written into `region` (the adjoint of copyRegion). */
export function scatterRegion(op: string, g: Tensor, shape: Shape, r: Region): Tensor {
  const out = full(g.backend, shape, 0);
  if (g.size > 0) {
    g.backend.strided(g.handle(op, 'grad'), out.handle(op, 'out'), {
      shape: r.shape, strides: stridesOf(r.shape), offset: 0, outStrides: r.strides, outOffset: r.offset,
    });
  }
  return out;
}

/** Python's slice.indices(n): [start, length] of start:stop:step over n elements. */
function pySlice(op: string, d: number, n: number, start: Bound, stop: Bound, step: number): [number, number] {
  const isBound = (v: Bound) => v === null || v === undefined || (typeof v === 'number' && (Number.isInteger(v) || Math.abs(v) === Infinity));
  if (!isBound(start)) fail(op, `argument 'starts' has ${describe(start)} for dimension ${d}; needs an integer (negative counts from the end) or null`);
  if (!isBound(stop)) fail(op, `argument 'ends' has ${describe(stop)} for dimension ${d}; needs an integer (negative counts from the end) or null`);
  const lower = step > 0 ? 0 : -1, upper = step > 0 ? n : n - 1;
  const fix = (v: Bound, dflt: number) => {
    if (v === null || v === undefined) return dflt;
    const w = v < 0 ? v + n : v;
    return Math.min(Math.max(w, lower), upper);
  };
  const s = fix(start, step > 0 ? lower : upper), e = fix(stop, step > 0 ? upper : lower);
  const len = step > 0 ? Math.ceil((e - s) / step) : Math.ceil((s - e) / -step);
  return [s, Math.max(0, len)];
}

/**
 * `x[starts[0]:ends[0]:steps[0], starts[1]:ends[1]:steps[1], …]` as in
 * Python and numpy: one entry per leading dimension (the rest are kept
 * whole), negative indices count from the end, out-of-range bounds are
 * clamped, `null` takes the default, and a negative step walks backwards
 * (`slice(x, [null], [null], [-1])` reverses the first axis). A copy.
 */
export function slice(x: Tensor, starts: readonly Bound[], ends: readonly Bound[], steps?: readonly number[]): Tensor {
  arg('slice', 'x', x);
  const list = (name: string, v: unknown) => {
    if (!Array.isArray(v)) fail('slice', `argument '${name}' must be an array with one entry per sliced dimension, got ${describe(v)}`);
    if (v.length > x.rank) fail('slice', `argument '${name}' has ${v.length} entries but x has rank ${x.rank} (shape ${fmtShape(x.shape)})`);
    return v as unknown[];
  };
  const st = list('starts', starts), en = list('ends', ends), sp = steps === undefined ? st.map(() => 1) : list('steps', steps);
  if (en.length !== st.length || sp.length !== st.length) {
    fail('slice', `arguments 'starts', 'ends' and 'steps' need one entry per sliced dimension each, got ${st.length}, ${en.length} and ${sp.length}`);
  }
  const xs = stridesOf(x.shape);
  const r: Region = { shape: [...x.shape], strides: [...xs], offset: 0 };
  for (let d = 0; d < st.length; d++) {
    const step = sp[d];
    if (typeof step !== 'number' || !Number.isInteger(step) || step === 0) {
      fail('slice', `argument 'steps' has ${describe(step)} for dimension ${d}; needs a non-zero integer`);
    }
    const [s, len] = pySlice('slice', d, x.shape[d], st[d] as Bound, en[d] as Bound, step);
    r.shape[d] = len;
    r.strides[d] = xs[d] * step;
    if (len > 0) r.offset += s * xs[d];
  }
  return copyRegion('slice', x, r);
}

/** PyTorch's narrow: `length` elements of dimension `dim` from `start` (negative counts from the end). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  arg('narrow', 'x', x);
  if (x.rank === 0) fail('narrow', 'cannot narrow a rank-0 tensor (it has no dimension)');
  const d = dimArg('narrow', dim, x.rank);
  const n = x.shape[d];
  if (typeof start !== 'number' || !Number.isInteger(start) || start < -n || start > n) {
    fail('narrow', `argument 'start' must be an integer in [${-n}, ${n}] for dimension ${d} of size ${n} (x ${fmtShape(x.shape)}), got ${describe(start)}`);
  }
  const s = start < 0 ? start + n : start;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || s + length > n) {
    fail('narrow', `argument 'length' must be an integer in [0, ${n - s}] (start ${s} + length <= size ${n} of dimension ${d}), got ${describe(length)}`);
  }
  const xs = stridesOf(x.shape);
  const shape = [...x.shape];
  shape[d] = length;
  return copyRegion('narrow', x, { shape, strides: xs, offset: length > 0 ? s * xs[d] : 0 });
}
