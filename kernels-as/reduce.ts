// Reductions over the middle axis of a contiguous [outer, reduce, inner] view.
// Op codes (REDUCE_*) and the job layout come from src/backends/primitives/reduce.ts.
//
// Accuracy: sums run in f32 SIMD over blocks (ROW_BLOCK values along a row,
// BLOCK rows across rows), and the block totals are added in f64. A block's
// f32 error is that of a short sum, so 100000 values stay near f32 rounding
// instead of growing with the count.
import { REDUCE_MAX, REDUCE_MEAN, ReduceJob } from '../build/gen/reduce';
import { hmax4, hsum4, load4, loadPartial, store4 } from './math';
import { partStart } from './parts';


/** Values per f32 block along a contiguous row (16 lanes each see 64). */
const ROW_BLOCK = 1024;
/** Rows per f32 block when reducing across rows (inner > 1). */
const BLOCK = 64;

/** Sum of `n` contiguous floats: f32x4 partial sums per block, f64 across blocks. */
export function sumRow(p: usize, n: i32): f64 {
  let total: f64 = 0;
  let i = 0;
  while (i < n) {
    const m = min(n - i, ROW_BLOCK);
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    let q = p + (<usize>i << 2);
    let j = 0;
    for (; j + 16 <= m; j += 16, q += 64) {
      s0 = f32x4.add(s0, v128.load(q));
      s1 = f32x4.add(s1, v128.load(q, 16));
      s2 = f32x4.add(s2, v128.load(q, 32));
      s3 = f32x4.add(s3, v128.load(q, 48));
    }
    for (; j + 4 <= m; j += 4, q += 16) s0 = f32x4.add(s0, v128.load(q));
    const r = m - j;
    if (r) s1 = f32x4.add(s1, loadPartial(q, r, 0));
    total += <f64>hsum4(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
    i += m;
  }
  return total;
}

/** Maximum of `n` contiguous floats (n >= 1). */
export function maxRow(p: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity), m1 = m0;
  let q = p;
  let j = 0;
  for (; j + 8 <= n; j += 8, q += 32) {
    m0 = f32x4.max(m0, v128.load(q));
    m1 = f32x4.max(m1, v128.load(q, 16));
  }
  for (; j + 4 <= n; j += 4, q += 16) m0 = f32x4.max(m0, v128.load(q));
  const r = n - j;
  if (r) m1 = f32x4.max(m1, loadPartial(q, r, -Infinity));
  return hmax4(f32x4.max(m0, m1));
}

/** dst[j] = op(dst[j], rows r < count of src) for j < n: `count` (1..4) rows of stride ld bytes. */
// @ts-ignore: decorator
@inline function combineRows(dst: usize, src: usize, ld: usize, n: i32, count: i32, isMax: bool): void {
  const s1 = src + ld, s2 = s1 + ld, s3 = s2 + ld;
  for (let j = 0; j < n; j += 4) {
    const at = <usize>j << 2;
    const w = min(n - j, 4);
    let v = load4(dst + at, w);
    if (isMax) {
      v = f32x4.max(v, load4(src + at, w));
      if (count > 1) v = f32x4.max(v, load4(s1 + at, w));
      if (count > 2) v = f32x4.max(v, load4(s2 + at, w));
      if (count > 3) v = f32x4.max(v, load4(s3 + at, w));
    } else {
      v = f32x4.add(v, load4(src + at, w));
      if (count > 1) v = f32x4.add(v, load4(s1 + at, w));
      if (count > 2) v = f32x4.add(v, load4(s2 + at, w));
      if (count > 3) v = f32x4.add(v, load4(s3 + at, w));
    }
    store4(dst + at, v, w);
  }
}

/** dst[j] = op over k < rows of src[k, j] (rows >= 1, `ld` bytes apart), streaming four rows at a time. */
function reduceRowsInto(dst: usize, src: usize, rows: i32, n: i32, ld: usize, isMax: bool): void {
  memory.copy(dst, src, <usize>n << 2);
  let k = 1;
  for (; k + 4 <= rows; k += 4) combineRows(dst, src + <usize>k * ld, ld, n, 4, isMax);
  for (; k < rows; k++) combineRows(dst, src + <usize>k * ld, ld, n, 1, isMax);
}

/**
 * Reduces `rows` rows of `inner` floats (rows `ld` bytes apart) column-wise
 * into `out`, which stays in cache while the rows stream past. Sums longer
 * than BLOCK rows run in f32 per block, and the block totals add up in the
 * f64 row `acc`.
 */
function reduceColumns(op: i32, x: usize, out: usize, rows: i32, inner: i32, ld: usize, acc: usize): void {
  if (op == REDUCE_MAX || rows <= BLOCK) {
    reduceRowsInto(out, x, rows, inner, ld, op == REDUCE_MAX);
    if (op == REDUCE_MEAN) {
      const r = f32x4.splat(<f32>rows);
      for (let j = 0; j < inner; j += 4) {
        const at = <usize>j << 2;
        const w = min(inner - j, 4);
        store4(out + at, f32x4.div(load4(out + at, w), r), w);
      }
    }
    return;
  }
  memory.fill(acc, 0, <usize>inner << 3);
  for (let k = 0; k < rows; k += BLOCK) {
    reduceRowsInto(out, x + <usize>k * ld, min(BLOCK, rows - k), inner, ld, false);
    for (let j = 0; j < inner; j++) {
      const at = acc + (<usize>j << 3);
      store<f64>(at, load<f64>(at) + <f64>load<f32>(out + (<usize>j << 2)));
    }
  }
  const scale: f64 = op == REDUCE_MEAN ? 1 / <f64>rows : 1;
  for (let j = 0; j < inner; j++) store<f32>(out + (<usize>j << 2), <f32>(load<f64>(acc + (<usize>j << 3)) * scale));
}

/** Bytes of scratch `reduce` needs: an f64 row for sums longer than BLOCK rows across rows. */
export function reduceScratch(op: i32, rows: i32, inner: i32): f64 {
  return op != REDUCE_MAX && inner > 1 && rows > BLOCK ? <f64>inner * 8 : 0;
}

/**
 * out[o, i] = op over k of x[o, k, i] for columns [c0, c1) of a contiguous
 * [outer, rows, inner] view; `scratch` holds reduceScratch(op, rows, inner) bytes.
 */
function reduce(op: i32, x: usize, out: usize, outer: i32, rows: i32, inner: i32, c0: i32, c1: i32, scratch: usize): void {
  if (outer <= 0 || inner <= 0) return;
  if (rows <= 0) {
    // An empty reduction: sum 0, mean NaN (0/0), max -inf, as numpy's identities.
    const v: f32 = op == REDUCE_MAX ? -Infinity : op == REDUCE_MEAN ? NaN : 0;
    for (let o = 0; o < outer; o++) for (let i = c0; i < c1; i++) store<f32>(out + ((<usize>o * inner + i) << 2), v);
    return;
  }
  const slab = <usize>rows * inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * slab;
    if (inner == 1) {
      let v: f32;
      if (op == REDUCE_MAX) v = maxRow(xo, rows);
      else {
        const s = sumRow(xo, rows);
        v = <f32>(op == REDUCE_MEAN ? s / <f64>rows : s);
      }
      store<f32>(out + (<usize>o << 2), v);
    } else {
      reduceColumns(op, xo + (<usize>c0 << 2), out + ((<usize>o * inner + c0) << 2), rows, c1 - c0, <usize>inner << 2, scratch);
    }
  }
}

/**
 * Part `part` of the ReduceJob at `desc`: parts split `outer`, or with
 * splitInner the columns of `inner` (a single output row reduces on one thread).
 */
export function reducePart(desc: usize, part: i32, slot: i32): void {
  const op = load<i32>(desc + ReduceJob.op);
  const x = <usize>load<u32>(desc + ReduceJob.x), out = <usize>load<u32>(desc + ReduceJob.out);
  const outer = load<i32>(desc + ReduceJob.outer), rows = load<i32>(desc + ReduceJob.rows), inner = load<i32>(desc + ReduceJob.inner);
  const parts = load<i32>(desc + ReduceJob.parts);
  const scratch = <usize>load<u32>(desc + ReduceJob.scratch) + <usize>slot * <usize>load<u32>(desc + ReduceJob.scratchPart);
  if (load<u32>(desc + ReduceJob.splitInner) != 0) {
    const c0 = partStart(inner, parts, part, 16), c1 = partStart(inner, parts, part + 1, 16);
    if (c0 < c1) reduce(op, x, out, outer, rows, inner, c0, c1, scratch);
    return;
  }
  const o0 = partStart(outer, parts, part, 1), o1 = partStart(outer, parts, part + 1, 1);
  if (o0 >= o1) return;
  const slab = (<usize>rows * inner) << 2;
  reduce(op, x + <usize>o0 * slab, out + ((<usize>o0 * inner) << 2), o1 - o0, rows, inner, 0, inner, scratch);
}
