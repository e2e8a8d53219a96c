// Matrix-vector products: the M = 1 or N = 1 cases of matmul (kernels-as/matmul.ts).
// The packed GEMM would pad the single row or column to a full micro-tile
// (6x or 8x the arithmetic) and copy the matrix into panels first; a
// matrix-vector product is bound by reading the matrix once, which these
// loops do directly. Two shapes cover every transpose:
//   dot:  out[i] = x_i . y   for contiguous rows x_i (summed in f64)
//   axpy: out[j] = sum_k y[k] X[k, j]  over contiguous rows of X
// A part covers a range [lo, hi) of the output vector. With a prologue the
// vector operand is made op(t, v) once into scratch, and the matrix is staged
// a row (dot) or four rows (axpy) at a time, so it is still read only once.
import { ACT_NONE } from '../build/gen/activation';
import { activate4, align64, fma4, load4, loadPartial, store4 } from './math';
import { actGradRun } from './prologue';
import { sumRow } from './reduce';


/** Rows per f32 block of the column sums; blocks are added in f64. */
const SUM_BLOCK = 256;

// Scratch of one part: the prologued vector (K floats), a staging area for
// matrix rows (max(K, 4 L) floats), f64 column sums and an f32 block of them (L each).
// @ts-ignore: decorator
@inline function vecBytes(K: i32): usize { return align64(<usize>max(K, 1) << 2); }
// @ts-ignore: decorator
@inline function stageBytes(K: i32, L: i32): usize { return align64(<usize>max(max(K, 4 * L), 1) << 2); }
// @ts-ignore: decorator
@inline function sumsBytes(L: i32): usize { return align64(<usize>max(L, 1) << 3); }
// @ts-ignore: decorator
@inline function blockBytes(L: i32): usize { return align64(<usize>max(L, 1) << 2); }

/** Scratch bytes for a part of length L (outputs) of a K-deep matrix-vector product. */
export function gemvScratch(K: i32, L: i32): usize {
  return vecBytes(K) + stageBytes(K, L) + sumsBytes(L) + blockBytes(L);
}

/** x . y over n floats. f32 products are exact in f64, so the sum is exact but for
 *  f64 rounding: a dot product can cancel to far below its terms (a [1 x K] . [K x 1]
 *  matmul is one), and f32 accumulation would show as relative error there. */
function dot(x: usize, y: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = s0;
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const at = <usize>k << 2;
    const xv = v128.load(x + at), yv = v128.load(y + at);
    s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(xv), f64x2.promote_low_f32x4(yv)));
    s1 = f64x2.add(s1, f64x2.mul(
      f64x2.promote_low_f32x4(i32x4.shuffle(xv, xv, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(yv, yv, 2, 3, 0, 1))));
  }
  if (k < n) {
    const at = <usize>k << 2;
    const r = n - k;
    const xv = loadPartial(x + at, r, 0), yv = loadPartial(y + at, r, 0);
    s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(xv), f64x2.promote_low_f32x4(yv)));
    s1 = f64x2.add(s1, f64x2.mul(
      f64x2.promote_low_f32x4(i32x4.shuffle(xv, xv, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(yv, yv, 2, 3, 0, 1))));
  }
  const s = f64x2.add(s0, s1);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/**
 * Adds sum over the `rows` (1..4) rows at X (row stride ld bytes) of y[r] X[r, j]
 * into out[j], j < L; with `block` != 0 also the plain column sums X[r, j] into
 * block[j], from the same loads.
 */
// @ts-ignore: decorator
@inline function axpyRows(X: usize, ld: usize, L: i32, y: usize, rows: i32, out: usize, block: usize): void {
  const y0 = v128.load32_splat(y);
  const y1 = rows > 1 ? v128.load32_splat(y, 4) : f32x4.splat(0);
  const y2 = rows > 2 ? v128.load32_splat(y, 8) : f32x4.splat(0);
  const y3 = rows > 3 ? v128.load32_splat(y, 12) : f32x4.splat(0);
  const x1 = X + ld, x2 = x1 + ld, x3 = x2 + ld;
  const zero = f32x4.splat(0);
  for (let j = 0; j < L; j += 4) {
    const at = <usize>j << 2;
    const w = min(L - j, 4);
    const v0 = load4(X + at, w);
    const v1 = rows > 1 ? load4(x1 + at, w) : zero;
    const v2 = rows > 2 ? load4(x2 + at, w) : zero;
    const v3 = rows > 3 ? load4(x3 + at, w) : zero;
    let o = fma4(y0, v0, load4(out + at, w));
    if (rows > 1) o = fma4(y1, v1, o);
    if (rows > 2) o = fma4(y2, v2, o);
    if (rows > 3) o = fma4(y3, v3, o);
    store4(out + at, o, w);
    if (block != 0) {
      let b = f32x4.add(load4(block + at, w), v0);
      if (rows > 1) b = f32x4.add(b, v1);
      if (rows > 2) b = f32x4.add(b, v2);
      if (rows > 3) b = f32x4.add(b, v3);
      store4(block + at, b, w);
    }
  }
}

function axpy4(X: usize, ld: usize, L: i32, y: usize, out: usize, block: usize): void { axpyRows(X, ld, L, y, 4, out, block); }
function axpy1(X: usize, ld: usize, L: i32, y: usize, out: usize, block: usize): void { axpyRows(X, ld, L, y, 1, out, block); }

/**
 * out[j] = sum_k y[k] X[k, j] for j < L, X being K rows of L floats `ld` bytes
 * apart. Streams four rows of X at a time through an accumulator row that
 * stays in L1. With `pro`, rows are staged as op(t, X) (t has X's layout).
 * With `sums`, also sums[j] (f64) = sum_k X[k, j], f32 within SUM_BLOCK rows.
 */
function axpy(X: usize, ld: usize, L: i32, y: usize, K: i32, out: usize, t: usize, pro: i32,
  sums: usize, block: usize, stage: usize): void {
  memory.fill(out, 0, <usize>L << 2);
  if (sums != 0) {
    memory.fill(sums, 0, <usize>L << 3);
    memory.fill(block, 0, <usize>L << 2);
  }
  const sld = <usize>L << 2;
  let k = 0;
  while (k < K) {
    const rows = min(4, K - k);
    let src = X + <usize>k * ld, srcLd = ld;
    if (pro != 0) {
      for (let r = 0; r < rows; r++) {
        const at = <usize>(k + r) * ld;
        actGradRun(pro, t + at, X + at, stage + <usize>r * sld, L);
      }
      src = stage;
      srcLd = sld;
    }
    const yk = y + (<usize>k << 2);
    const colSums = sums != 0 ? block : 0;
    if (rows == 4) axpy4(src, srcLd, L, yk, out, colSums);
    else for (let r = 0; r < rows; r++) axpy1(src + <usize>r * srcLd, srcLd, L, yk + (<usize>r << 2), out, colSums);
    k += rows;
    if (sums != 0 && (k % SUM_BLOCK == 0 || k == K)) {
      for (let j = 0; j < L; j++) {
        const s = sums + (<usize>j << 3), f = block + (<usize>j << 2);
        store<f64>(s, load<f64>(s) + <f64>load<f32>(f));
        store<f32>(f, 0);
      }
    }
  }
}

/** c[i] = act(c[i] + bias) over n floats; bias is one value (`scalar`) or n values (0: none). */
function biasAct(c: usize, n: i32, bias: usize, scalar: bool, act: i32): void {
  if (bias == 0 && act == ACT_NONE) return;
  const b0 = bias != 0 && scalar ? v128.load32_splat(bias) : f32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    const w = min(n - i, 4);
    let v = load4(c + at, w);
    if (bias != 0) v = f32x4.add(v, scalar ? b0 : load4(bias + at, w));
    store4(c + at, activate4(act, v), w);
  }
}

/**
 * Outputs lo .. hi of one matrix product with M = 1 or N = 1 (C contiguous).
 * tA / tB: the prologue's t for the operand with proA / proB != 0. sumB (one
 * float for N = 1, else N floats; 0: none) gets Σ_k op(B)[k, n] for this range.
 */
export function gemvPart(
  A: usize, B: usize, C: usize, tA: usize, tB: usize, proA: i32, proB: i32,
  M: i32, N: i32, K: i32, transA: bool, transB: bool, lo: i32, hi: i32,
  bias: usize, act: i32, sumB: usize, scratch: usize,
): void {
  const L = hi - lo;
  const vec = scratch;
  const stage = vec + vecBytes(K);
  const sums = stage + stageBytes(K, L);
  const block = sums + sumsBytes(L);
  const at = <usize>lo << 2;
  // A single row of A and a single column of B are both contiguous, whatever the transpose flag.
  if (N == 1) {
    let y = B;
    if (proB != 0) { actGradRun(proB, tB, B, vec, K); y = vec; }
    if (sumB != 0) store<f32>(sumB, <f32>sumRow(y, K));
    if (!transA || M == 1) {
      for (let i = lo; i < hi; i++) {
        let row = A + ((<usize>i * K) << 2);
        if (proA != 0) { actGradRun(proA, tA + ((<usize>i * K) << 2), row, stage, K); row = stage; }
        store<f32>(C + (<usize>i << 2), <f32>dot(row, y, K));
      }
    } else {
      axpy(A + at, <usize>M << 2, L, y, K, C + at, tA + at, proA, 0, block, stage); // A stored [K, M]
    }
    biasAct(C + at, L, bias, true, act);
  } else {
    let x = A;
    if (proA != 0) { actGradRun(proA, tA, A, vec, K); x = vec; }
    if (transB) {
      for (let j = lo; j < hi; j++) {
        let row = B + ((<usize>j * K) << 2);
        if (proB != 0) { actGradRun(proB, tB + ((<usize>j * K) << 2), row, stage, K); row = stage; }
        store<f32>(C + (<usize>j << 2), <f32>dot(row, x, K));
      }
    } else {
      // B stored [K, N]; its column sums come from the same pass.
      axpy(B + at, <usize>N << 2, L, x, K, C + at, tB + at, proB, sumB != 0 ? sums : 0, block, stage);
      if (sumB != 0) {
        for (let j = 0; j < L; j++) store<f32>(sumB + at + (<usize>j << 2), <f32>load<f64>(sums + (<usize>j << 3)));
      }
    }
    biasAct(C + at, L, bias != 0 ? bias + at : 0, false, act);
  }
}
