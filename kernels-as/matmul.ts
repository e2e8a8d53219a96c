// Batched matmul with fused bias + activation: C = act(op(A) op(B) + bias).
//
// BLIS-style blocking around a register-blocked f32x4 micro-kernel:
//   for each NC-wide column block of B:
//     for each KC-deep slice of K:  pack B[KC x NC] into NR-wide panels
//       for each MC-tall block of A: pack A[MC x KC] into MR-tall panels
//         for each NR panel, for each MR panel: micro-kernel -> MR x NR tile of C
// Packing turns any transpose into the same contiguous layout, so the inner
// loop never changes: per k, NR/4 vector loads of B, MR broadcast loads of A,
// MR * NR/4 fused multiply-adds into accumulators held in registers.
// Panels are zero-padded to MR / NR, so edge tiles compute a full tile into a
// small buffer and copy back only the valid part: nothing reads or writes
// past the caller's buffers. Matrix-vector shapes (M = 1 or N = 1) go to
// gemv.ts instead.
import { gemv } from './gemv';
import { ACT_NONE, activate4, fma4 } from './math';

/** Micro-tile rows: 6 with fused multiply-add, 5 without (register budget, see the kernels). */
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
/** Micro-tile columns (two f32x4). */
const NR = 8;
/** K slice: an MR x KC panel of A and a KC x NR panel of B fit in L1 together. */
const KC = 256;
/** Rows of A packed at once (MC x KC floats, 120 KiB, stays in L2); a multiple of both MRs. */
const MC = 120;
/** Columns of B packed at once (KC x NC floats, 2 MiB). */
const NC = 2048;

// @ts-ignore: decorator
@inline function roundUp(x: i32, m: i32): i32 { return (x + m - 1) / m * m; }

// @ts-ignore: decorator
@inline function align64(x: usize): usize { return (x + 63) & ~<usize>63; }

/** Scratch layout for one call: packed B, packed A, padded bias, edge tile. */
// @ts-ignore: decorator
@inline function bBytes(N: i32, K: i32): usize { return align64(<usize>min(roundUp(N, NR), NC) * <usize>min(max(K, 1), KC) << 2); }
// @ts-ignore: decorator
@inline function aBytes(M: i32, K: i32): usize { return align64(<usize>min(roundUp(M, MR), MC) * <usize>min(max(K, 1), KC) << 2); }
// @ts-ignore: decorator
@inline function biasBytes(N: i32): usize { return align64(<usize>roundUp(N, NR) << 2); }
const TILE_BYTES: usize = MR * NR * 4;

/** Bytes of scratch `matmul` needs for these sizes (as f64: the sum can pass 2^32). */
export function matmulScratch(M: i32, N: i32, K: i32): f64 {
  if (M == 1 || N == 1) return 0; // matrix-vector: no packing
  return <f64>bBytes(N, K) + <f64>aBytes(M, K) + <f64>biasBytes(N) + <f64>TILE_BYTES;
}

// The micro-kernels: MR x 8 accumulators in registers, C tile = init + A panel . B panel.
// `init` is the padded bias row (first K slice) unless `accumulate` (later slices: C itself).
// V8 keeps 15 xmm registers for values: 6 x 2 accumulators + 2 B vectors + 1 broadcast A fit
// with fused multiply-add; mul + add needs a temporary, so the plain SIMD build uses 5 rows.

/** 6 x 8 tile with f32x4.relaxed_madd (relaxed SIMD build). */
function kernel6x8(a: usize, b: usize, kc: i32, c: usize, ldc: usize, init: usize, accumulate: bool): void {
  const r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128;
  let c30: v128, c31: v128, c40: v128, c41: v128, c50: v128, c51: v128;
  if (accumulate) {
    c00 = v128.load(c); c01 = v128.load(c, 16); c10 = v128.load(r1); c11 = v128.load(r1, 16);
    c20 = v128.load(r2); c21 = v128.load(r2, 16); c30 = v128.load(r3); c31 = v128.load(r3, 16);
    c40 = v128.load(r4); c41 = v128.load(r4, 16); c50 = v128.load(r5); c51 = v128.load(r5, 16);
  } else {
    c00 = v128.load(init); c01 = v128.load(init, 16);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01; c40 = c00; c41 = c01; c50 = c00; c51 = c01;
  }
  for (let k = 0; k < kc; k++, a += 24, b += 32) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21);
    x = v128.load32_splat(a, 12);
    c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31);
    x = v128.load32_splat(a, 16);
    c40 = fma4(x, b0, c40); c41 = fma4(x, b1, c41);
    x = v128.load32_splat(a, 20);
    c50 = fma4(x, b0, c50); c51 = fma4(x, b1, c51);
  }
  v128.store(c, c00); v128.store(c, c01, 16); v128.store(r1, c10); v128.store(r1, c11, 16);
  v128.store(r2, c20); v128.store(r2, c21, 16); v128.store(r3, c30); v128.store(r3, c31, 16);
  v128.store(r4, c40); v128.store(r4, c41, 16); v128.store(r5, c50); v128.store(r5, c51, 16);
}

/** 5 x 8 tile with mul + add (plain SIMD build). */
function kernel5x8(a: usize, b: usize, kc: i32, c: usize, ldc: usize, init: usize, accumulate: bool): void {
  const r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc;
  let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128;
  let c30: v128, c31: v128, c40: v128, c41: v128;
  if (accumulate) {
    c00 = v128.load(c); c01 = v128.load(c, 16); c10 = v128.load(r1); c11 = v128.load(r1, 16);
    c20 = v128.load(r2); c21 = v128.load(r2, 16); c30 = v128.load(r3); c31 = v128.load(r3, 16);
    c40 = v128.load(r4); c41 = v128.load(r4, 16);
  } else {
    c00 = v128.load(init); c01 = v128.load(init, 16);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01; c40 = c00; c41 = c01;
  }
  for (let k = 0; k < kc; k++, a += 20, b += 32) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21);
    x = v128.load32_splat(a, 12);
    c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31);
    x = v128.load32_splat(a, 16);
    c40 = fma4(x, b0, c40); c41 = fma4(x, b1, c41);
  }
  v128.store(c, c00); v128.store(c, c01, 16); v128.store(r1, c10); v128.store(r1, c11, 16);
  v128.store(r2, c20); v128.store(r2, c21, 16); v128.store(r3, c30); v128.store(r3, c31, 16);
  v128.store(r4, c40); v128.store(r4, c41, 16);
}

// @ts-ignore: decorator
@inline function kernel(a: usize, b: usize, kc: i32, c: usize, ldc: usize, init: usize, accumulate: bool): void {
  if (ASC_FEATURE_RELAXED_SIMD) kernel6x8(a, b, kc, c, ldc, init, accumulate);
  else kernel5x8(a, b, kc, c, ldc, init, accumulate);
}

/** Packs B[pc:pc+kc, jc:jc+nc] into NR-wide panels [nc/NR][kc][NR], zero-padded. */
function packB(b: usize, dst: usize, pc: i32, kc: i32, jc: i32, nc: i32, N: i32, K: i32, trans: bool): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const panel = dst + ((<usize>jr * kc) << 2);
    if (!trans) {
      // Row k of the panel is NR consecutive floats of row pc + k of B.
      let src = b + ((<usize>pc * N + jc + jr) << 2);
      const srcStride = <usize>N << 2;
      let d = panel;
      if (nr == NR) {
        for (let k = 0; k < kc; k++, src += srcStride, d += NR * 4) {
          for (let j: usize = 0; j < <usize>NR * 4; j += 16) v128.store(d + j, v128.load(src + j));
        }
      } else {
        for (let k = 0; k < kc; k++, src += srcStride, d += NR * 4) {
          for (let j: usize = 0; j < <usize>NR * 4; j += 16) v128.store(d + j, f32x4.splat(0));
          for (let j = 0; j < nr; j++) store<f32>(d + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
        }
      }
    } else {
      // B is [N, K]: column j of the panel is a contiguous run of row jc + jr + j.
      for (let j = 0; j < NR; j++) {
        let d = panel + (<usize>j << 2);
        if (j < nr) {
          let src = b + ((<usize>(jc + jr + j) * K + pc) << 2);
          for (let k = 0; k < kc; k++, src += 4, d += NR * 4) store<f32>(d, load<f32>(src));
        } else {
          for (let k = 0; k < kc; k++, d += NR * 4) store<f32>(d, 0);
        }
      }
    }
  }
}

/** Packs A[ic:ic+mc, pc:pc+kc] into MR-tall panels [mc/MR][kc][MR], zero-padded. */
function packA(a: usize, dst: usize, ic: i32, mc: i32, pc: i32, kc: i32, M: i32, K: i32, trans: bool): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const panel = dst + ((<usize>ir * kc) << 2);
    if (trans) {
      // A is [K, M]: row k of the panel is mr consecutive floats of row pc + k.
      let src = a + ((<usize>pc * M + ic + ir) << 2);
      const srcStride = <usize>M << 2;
      let d = panel;
      for (let k = 0; k < kc; k++, src += srcStride, d += MR * 4) {
        for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
      }
    } else {
      for (let r = 0; r < MR; r++) {
        let d = panel + (<usize>r << 2);
        if (r < mr) {
          let src = a + ((<usize>(ic + ir + r) * K + pc) << 2);
          for (let k = 0; k < kc; k++, src += 4, d += MR * 4) store<f32>(d, load<f32>(src));
        } else {
          for (let k = 0; k < kc; k++, d += MR * 4) store<f32>(d, 0);
        }
      }
    }
  }
}

/** Applies the activation to `rows` rows of NR floats (row stride ldc bytes). */
function activateTile(c: usize, ldc: usize, rows: i32, act: i32): void {
  for (let r = 0; r < rows; r++, c += ldc) {
    for (let j: usize = 0; j < <usize>NR * 4; j += 16) v128.store(c + j, activate4(act, v128.load(c + j)));
  }
}

/** Copies a rows x cols block of floats between row strides sLd and dLd (bytes). */
function copyBlock(src: usize, sLd: usize, dst: usize, dLd: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++, src += sLd, dst += dLd) memory.copy(dst, src, <usize>cols << 2);
}

/**
 * out[z] = act(op(A[z]) op(B[z]) + bias) for z < batch, with A[z] at a + z strideA
 * and B[z] at b + z strideB (elements; 0 broadcasts), C[z] contiguous M x N.
 * `bias` (N floats) may be 0 (none). `scratch` holds matmulScratch(M, N, K) bytes.
 */
export function matmul(
  a: usize, b: usize, bias: usize, out: usize,
  batch: i32, M: i32, N: i32, K: i32, transA: bool, transB: bool, strideA: i32, strideB: i32,
  act: i32, scratch: usize,
): void {
  if (batch <= 0 || M <= 0 || N <= 0 || K < 0) return;
  if (M == 1 || N == 1) {
    gemv(a, b, bias, out, batch, M, N, K, transA, transB, strideA, strideB, act);
    return;
  }
  const bp = scratch;
  const ap = bp + bBytes(N, K);
  const biasPad = ap + aBytes(M, K);
  const tile = biasPad + biasBytes(N);
  // Zero-padded bias: the micro-kernel starts its accumulators from it.
  const Npad = roundUp(N, NR);
  for (let j = 0; j < Npad; j++) store<f32>(biasPad + (<usize>j << 2), bias != 0 && j < N ? load<f32>(bias + (<usize>j << 2)) : 0);
  const ldc = <usize>N << 2;
  for (let z = 0; z < batch; z++) {
    const A = a + ((<usize>z * strideA) << 2);
    const B = b + ((<usize>z * strideB) << 2);
    const C = out + ((<usize>z * M * N) << 2);
    for (let jc = 0; jc < N; jc += NC) {
      const nc = min(NC, N - jc);
      let pc = 0;
      do {
        const kc = min(KC, K - pc);
        const first = pc == 0;
        const last = pc + kc >= K;
        packB(B, bp, pc, kc, jc, nc, N, K, transB);
        for (let ic = 0; ic < M; ic += MC) {
          const mc = min(MC, M - ic);
          packA(A, ap, ic, mc, pc, kc, M, K, transA);
          for (let jr = 0; jr < nc; jr += NR) {
            const nr = min(NR, nc - jr);
            const bPanel = bp + ((<usize>jr * kc) << 2);
            const init = biasPad + (<usize>(jc + jr) << 2);
            for (let ir = 0; ir < mc; ir += MR) {
              const mr = min(MR, mc - ir);
              const aPanel = ap + ((<usize>ir * kc) << 2);
              const c = C + ((<usize>(ic + ir) * N + jc + jr) << 2);
              if (mr == MR && nr == NR) {
                kernel(aPanel, bPanel, kc, c, ldc, init, !first);
                if (last && act != ACT_NONE) activateTile(c, ldc, MR, act);
              } else {
                // Edge tile: compute a full tile in `tile`, copy the valid part.
                if (!first) copyBlock(c, ldc, tile, NR * 4, mr, nr);
                kernel(aPanel, bPanel, kc, tile, NR * 4, init, !first);
                if (last && act != ACT_NONE) activateTile(tile, NR * 4, mr, act);
                copyBlock(tile, NR * 4, c, ldc, mr, nr);
              }
            }
          }
        }
        pc += kc;
      } while (pc < K);
    }
  }
}
