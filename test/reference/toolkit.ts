// Float64 references for the tensor toolkit (slicing, joining, indexing,
// selection, scans), written as plain loops over coordinates: index lists per
// dimension, not strides, so they share no arithmetic with the library.
import { pow as cpow } from './math.js';
import { broadcastShape, expand, sumTo, type Nd } from './ops.js';

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

// ---- where / clamp / pow (elementwise with broadcasting; operands given expanded) ----

const bshape = (xs: Nd[]) => xs.reduce((s, x) => broadcastShape(s, x.shape), [] as number[]);

/** a where c is true (non-zero or NaN), else b. */
export function where(c: Nd, a: Nd, b: Nd): Nd {
  const shape = bshape([c, a, b]);
  const C = expand(c, shape), A = expand(a, shape), B = expand(b, shape);
  return { data: C.data.map((v, i) => (v !== 0 ? A.data[i] : B.data[i])), shape };
}
export function whereVjp(c: Nd, a: Nd, b: Nd, g: Nd): Nd[] {
  const C = expand(c, g.shape);
  return [sumTo({ data: g.data.map((v, i) => (C.data[i] !== 0 ? v : 0)), shape: g.shape }, a.shape),
    sumTo({ data: g.data.map((v, i) => (C.data[i] !== 0 ? 0 : v)), shape: g.shape }, b.shape)];
}

/** min(max(x, lo), hi) with NaN propagated; a missing bound is null. */
export function clamp(x: Nd, lo: Nd | null, hi: Nd | null): Nd {
  const shape = bshape([x, ...(lo ? [lo] : []), ...(hi ? [hi] : [])]);
  const X = expand(x, shape), L = lo && expand(lo, shape), H = hi && expand(hi, shape);
  return {
    data: X.data.map((v, i) => {
      let y = v;
      if (L) y = Number.isNaN(y) || Number.isNaN(L.data[i]) ? NaN : Math.max(y, L.data[i]);
      if (H) y = Number.isNaN(y) || Number.isNaN(H.data[i]) ? NaN : Math.min(y, H.data[i]);
      return y;
    }), shape,
  };
}
/** PyTorch's clamp_backward_min_max, written from its definition. */
export function clampVjp(x: Nd, lo: Nd | null, hi: Nd | null, g: Nd): Nd[] {
  const X = expand(x, g.shape), L = lo && expand(lo, g.shape), H = hi && expand(hi, g.shape);
  const gx = new Float64Array(g.data.length), gl = new Float64Array(g.data.length), gh = new Float64Array(g.data.length);
  for (let i = 0; i < g.data.length; i++) {
    const v = X.data[i], l = L ? L.data[i] : -Infinity, h = H ? H.data[i] : Infinity;
    if (v >= l && v <= h) gx[i] = g.data[i];
    if (L && v < l && (!H || l < h)) gl[i] = g.data[i];
    if (H && (v > h || (L !== null && h < l))) gh[i] = g.data[i];
  }
  const out = [sumTo({ data: gx, shape: g.shape }, x.shape)];
  if (lo) out.push(sumTo({ data: gl, shape: g.shape }, lo.shape));
  if (hi) out.push(sumTo({ data: gh, shape: g.shape }, hi.shape));
  return out;
}

export function pow(a: Nd, b: Nd): Nd {
  const shape = bshape([a, b]);
  const A = expand(a, shape), B = expand(b, shape);
  return { data: A.data.map((v, i) => cpow(v, B.data[i])), shape };
}
/** d/da = b·a^(b−1) (0 where b = 0); d/db = a^b·ln a (0 where a = 0 and b >= 0). */
export function powVjp(a: Nd, b: Nd, g: Nd): Nd[] {
  const A = expand(a, g.shape), B = expand(b, g.shape);
  const da = g.data.map((v, i) => (B.data[i] === 0 ? 0 : v * B.data[i] * cpow(A.data[i], B.data[i] - 1)));
  const db = g.data.map((v, i) => (A.data[i] === 0 && B.data[i] >= 0 ? 0 : v * cpow(A.data[i], B.data[i]) * Math.log(A.data[i])));
  return [sumTo({ data: da, shape: g.shape }, a.shape), sumTo({ data: db, shape: g.shape }, b.shape)];
}

// ---- gather / indexSelect / cumsum / topk --------------------------------

/** out[c] = x[c with c[dim] replaced by index[c]] over index's shape. */
export function gather(x: Nd, dim: number, index: Nd): Nd {
  const data = new Float64Array(index.data.length);
  for (let i = 0; i < data.length; i++) {
    const c = coords(i, index.shape);
    c[dim] = index.data[i];
    data[i] = x.data[flat(c, x.shape)];
  }
  return { data, shape: index.shape };
}
export function gatherVjp(x: Nd, dim: number, index: Nd, g: Nd): Nd {
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < g.data.length; i++) {
    const c = coords(i, index.shape);
    c[dim] = index.data[i];
    data[flat(c, x.shape)] += g.data[i];
  }
  return { data, shape: x.shape };
}
/** x's entries at `index` along dim: select() with that dimension's list. */
export function indexSelectLists(shape: number[], dim: number, index: number[]): number[][] {
  return shape.map((n, d) => (d === dim ? index : Array.from({ length: n }, (_, i) => i)));
}

/** Running sums along dim, each from the start of its line. */
export function cumsum(x: Nd, dim: number): Nd {
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const c = coords(i, x.shape);
    let s = 0;
    for (let j = 0; j <= c[dim]; j++) { const cc = [...c]; cc[dim] = j; s += x.data[flat(cc, x.shape)]; }
    data[i] = s;
  }
  return { data, shape: x.shape };
}
/** cumsum's VJP: each x[j] feeds every out[k >= j]. */
export function cumsumVjp(x: Nd, dim: number, g: Nd): Nd {
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const c = coords(i, x.shape);
    let s = 0;
    for (let k = c[dim]; k < x.shape[dim]; k++) { const cc = [...c]; cc[dim] = k; s += g.data[flat(cc, g.shape)]; }
    data[i] = s;
  }
  return { data, shape: x.shape };
}

/** Each line along dim sorted (stable; NaN above everything), the first k kept: values and indices. */
export function topk(x: Nd, k: number, dim: number, largest: boolean): { values: Nd; indices: Nd } {
  const shape = x.shape.map((s, d) => (d === dim ? k : s));
  const values = new Float64Array(size(shape)), indices = new Float64Array(size(shape));
  for (let i = 0; i < values.length; i++) {
    const c = coords(i, shape);
    if (c[dim] !== 0) continue;
    const line = Array.from({ length: x.shape[dim] }, (_, j) => { const cc = [...c]; cc[dim] = j; return { v: x.data[flat(cc, x.shape)], j }; });
    // NaN is the largest; Array.prototype.sort is stable, so ties stay in index order.
    const cmp = (a: number, b: number) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a - b);
    line.sort((p, q) => (largest ? cmp(q.v, p.v) : cmp(p.v, q.v)));
    for (let t = 0; t < k; t++) {
      const cc = [...c]; cc[dim] = t;
      values[flat(cc, shape)] = line[t].v;
      indices[flat(cc, shape)] = line[t].j;
    }
  }
  return { values: { data: values, shape }, indices: { data: indices, shape } };
}
