// Float64 references for the tensor toolkit (slicing, joining, indexing,
// selection, scans), written as plain loops over coordinates: index lists per
// dimension, not strides, so they share no arithmetic with the library.
import type { Nd } from './ops.js';

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Row-major coordinates of element i. */
export function coords(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { c[d] = i % shape[d]; i = Math.floor(i / shape[d]); }
  return c;
}
export function flat(c: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + c[d];
  return i;
}

/**
 * The indices range(n)[start:stop:step] selects, by filtering every index
 * against the normalised bounds (Python's rules, stated as membership).
 */
export function sliceIndices(n: number, start: number | null, stop: number | null, step: number): number[] {
  const out: number[] = [];
  if (step > 0) {
    const lo = start === null ? 0 : start < 0 ? Math.max(start + n, 0) : Math.min(start, n);
    const hi = stop === null ? n : stop < 0 ? Math.max(stop + n, 0) : Math.min(stop, n);
    for (let i = 0; i < n; i++) if (i >= lo && i < hi && (i - lo) % step === 0) out.push(i);
  } else {
    const hi = start === null ? n - 1 : start < 0 ? start + n : Math.min(start, n - 1);
    const lo = stop === null ? -1 : stop < 0 ? Math.max(stop + n, -1) : Math.min(stop, n - 1);
    for (let i = n - 1; i >= 0; i--) if (i <= hi && i > lo && (hi - i) % -step === 0) out.push(i);
  }
  return out;
}

/** x indexed by one list of indices per dimension (an outer product of selections). */
export function select(x: Nd, lists: number[][]): Nd {
  const shape = lists.map((l) => l.length);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) data[i] = x.data[flat(coords(i, shape).map((c, d) => lists[d][c]), x.shape)];
  return { data, shape };
}
/** The adjoint of select: g added into zeros of x's shape at the selected places. */
export function selectVjp(shape: number[], lists: number[][], g: Nd): Nd {
  const data = new Float64Array(size(shape));
  for (let i = 0; i < g.data.length; i++) data[flat(coords(i, g.shape).map((c, d) => lists[d][c]), shape)] += g.data[i];
  return { data, shape };
}

export function sliceLists(shape: number[], starts: (number | null)[], ends: (number | null)[], steps: number[]): number[][] {
  return shape.map((n, d) => (d < starts.length ? sliceIndices(n, starts[d], ends[d], steps[d]) : Array.from({ length: n }, (_, i) => i)));
}

/** Tensors joined along dim: each output element found by walking the pieces' extents. */
export function concat(xs: Nd[], dim: number): Nd {
  const shape = [...xs[0].shape];
  shape[dim] = xs.reduce((n, x) => n + x.shape[dim], 0);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const c = coords(i, shape);
    let k = 0, at = c[dim];
    while (at >= xs[k].shape[dim]) { at -= xs[k].shape[dim]; k++; }
    const cc = [...c];
    cc[dim] = at;
    data[i] = xs[k].data[flat(cc, xs[k].shape)];
  }
  return { data, shape };
}
/** The concat VJP: each input's block of g. */
export function concatVjp(xs: Nd[], dim: number, g: Nd): Nd[] {
  let start = 0;
  return xs.map((x) => {
    const lists = g.shape.map((n, d) => (d === dim ? Array.from({ length: x.shape[d] }, (_, i) => start + i) : Array.from({ length: n }, (_, i) => i)));
    start += x.shape[dim];
    return select(g, lists);
  });
}
