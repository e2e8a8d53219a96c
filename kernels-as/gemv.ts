// Matrix-vector products: the M = 1 or N = 1 cases of matmul (kernels-as/matmul.ts).
// The packed GEMM would pad the single row or column to a full micro-tile
// (6x or 8x the arithmetic) and copy the matrix into panels first; a
// matrix-vector product is bound by reading the matrix once, which these
// loops do directly. Two shapes cover every transpose:
//   dot:  out[i] = x_i . y   for contiguous rows x_i (summed in f64)
//   axpy: out[j] = sum_k y[k] X[k, j]  over contiguous rows of X
import { activate4, fma4, loadPartial, storePartial } from './math';

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

/** Adds sum over the `rows` (1..4) rows at X (row stride ld bytes) of y[r] X[r, j] into out[j], j < L. */
// @ts-ignore: decorator
@inline function axpyRows(X: usize, ld: usize, L: i32, y: usize, rows: i32, out: usize): void {
  const y0 = v128.load32_splat(y);
  const y1 = rows > 1 ? v128.load32_splat(y, 4) : f32x4.splat(0);
  const y2 = rows > 2 ? v128.load32_splat(y, 8) : f32x4.splat(0);
  const y3 = rows > 3 ? v128.load32_splat(y, 12) : f32x4.splat(0);
  const x1 = X + ld, x2 = x1 + ld, x3 = x2 + ld;
  for (let j = 0; j < L; j += 4) {
    const at = <usize>j << 2;
    const w = min(L - j, 4);
    let o = w == 4 ? v128.load(out + at) : loadPartial(out + at, w, 0);
    o = fma4(y0, w == 4 ? v128.load(X + at) : loadPartial(X + at, w, 0), o);
    if (rows > 1) o = fma4(y1, w == 4 ? v128.load(x1 + at) : loadPartial(x1 + at, w, 0), o);
    if (rows > 2) o = fma4(y2, w == 4 ? v128.load(x2 + at) : loadPartial(x2 + at, w, 0), o);
    if (rows > 3) o = fma4(y3, w == 4 ? v128.load(x3 + at) : loadPartial(x3 + at, w, 0), o);
    if (w == 4) v128.store(out + at, o);
    else storePartial(out + at, o, w);
  }
}

/**
 * out[j] = sum_k y[k] X[k, j] for j < L (X is K rows of L floats). Streams
 * four rows of X at a time through an accumulator row that stays in L1.
 */
function axpy(X: usize, L: i32, y: usize, K: i32, out: usize): void {
  memory.fill(out, 0, <usize>L << 2);
  const ld = <usize>L << 2;
  let k = 0;
  for (; k + 4 <= K; k += 4) axpyRows(X + <usize>k * ld, ld, L, y + (<usize>k << 2), 4, out);
  for (; k < K; k++) axpyRows(X + <usize>k * ld, ld, L, y + (<usize>k << 2), 1, out);
}

/** c[i] = act(c[i] + bias) over n floats; bias is one value (`scalar`) or n values (0: none). */
function biasAct(c: usize, n: i32, bias: usize, scalar: bool, act: i32): void {
  if (bias == 0 && act == 0) return;
  const b0 = bias != 0 && scalar ? v128.load32_splat(bias) : f32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    const w = min(n - i, 4);
    let v = w == 4 ? v128.load(c + at) : loadPartial(c + at, w, 0);
    if (bias != 0) v = f32x4.add(v, scalar ? b0 : w == 4 ? v128.load(bias + at) : loadPartial(bias + at, w, 0));
    v = activate4(act, v);
    if (w == 4) v128.store(c + at, v);
    else storePartial(c + at, v, w);
  }
}

/** matmul for M = 1 or N = 1; same arguments as `matmul`. */
export function gemv(
  a: usize, b: usize, bias: usize, out: usize,
  batch: i32, M: i32, N: i32, K: i32, transA: bool, transB: bool, strideA: i32, strideB: i32, act: i32,
): void {
  for (let z = 0; z < batch; z++) {
    const A = a + ((<usize>z * strideA) << 2);
    const B = b + ((<usize>z * strideB) << 2);
    const C = out + ((<usize>z * M * N) << 2);
    // A single row of A and a single column of B are both contiguous, whatever the transpose flag.
    if (N == 1) {
      if (!transA || M == 1) {
        for (let i = 0; i < M; i++) store<f32>(C + (<usize>i << 2), <f32>dot(A + ((<usize>i * K) << 2), B, K));
      } else {
        axpy(A, M, B, K, C); // A stored [K, M]
      }
      biasAct(C, M, bias, true, act);
    } else {
      if (transB) {
        for (let j = 0; j < N; j++) store<f32>(C + (<usize>j << 2), <f32>dot(B + ((<usize>j * K) << 2), A, K));
      } else {
        axpy(B, N, A, K, C); // B stored [K, N]
      }
      biasAct(C, N, bias, false, act);
    }
  }
}
