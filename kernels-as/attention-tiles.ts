// The tile operations of the fused attention kernels (attention.ts): packing,
// and the two small products every pass is made of, each a register-blocked
// f32x4 micro-kernel of MR rows by 8 columns (as matmul.ts's):
//   scores: S[rows × keys] = A·Bᵀ, A packed into MR-row panels [D][MR]
//           (queries, or output gradients), Bᵀ packed as [D][LD] (keys, or values)
//   accumulate: C[rows × D] += A[rows × n]·B[n × D], A a score tile (row-major,
//           or read transposed), B rows of a tensor read in place
// Tiles are LD floats wide, so both orientations of a score tile read A
// with constant offsets. Rows past the valid ones are zero in every A
// operand, so the micro-kernels always run full MR-row panels.
import { fma4, loadPartial } from './math';

/** Rows of a micro-tile: 6 with fused multiply-add, 5 without (register budget, as matmul.ts). */
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
/** Query rows per block and keys per tile: a multiple of both MRs. */
export const BQ: i32 = 60;
export const BK: i32 = 60;
/** Row stride (floats) of score tiles and packed key/value tiles: BK rounded up to 8 columns. */
export const LD: i32 = 64;

// @ts-ignore: decorator
@inline export function roundUp(x: i32, m: i32): i32 { return (x + m - 1) / m * m; }

/**
 * Packs rows [0, m) of a tensor (rows `ld` bytes apart, D floats each) times
 * `scale` into MR-row panels [D][MR] at `dst`, zero-padding the last panel.
 */
export function packRows(src: usize, ld: usize, m: i32, D: i32, scale: f32, dst: usize): void {
  for (let p = 0; p < m; p += MR) {
    const panel = dst + ((<usize>p * D) << 2);
    for (let r = 0; r < MR; r++) {
      let o = panel + (<usize>r << 2);
      if (p + r < m) {
        let s = src + <usize>(p + r) * ld;
        for (let d = 0; d < D; d++, s += 4, o += MR * 4) store<f32>(o, load<f32>(s) * scale);
      } else {
        for (let d = 0; d < D; d++, o += MR * 4) store<f32>(o, 0);
      }
    }
  }
}

/** Packs rows [0, n) of a tensor (rows D floats apart) transposed into [D][LD] at `dst`; columns n .. n rounded to 8 are zero. */
export function packT(src: usize, n: i32, D: i32, dst: usize): void {
  const n8 = roundUp(n, 8);
  const ld = <usize>D << 2;
  let j = 0;
  // 4 rows at a time: four loads of a column group, one 4x4 transpose.
  for (; j + 4 <= n; j += 4) {
    const s0 = src + <usize>j * ld, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld;
    let d = 0;
    for (; d + 4 <= D; d += 4) {
      const at = <usize>d << 2;
      const a = v128.load(s0 + at), b = v128.load(s1 + at), c = v128.load(s2 + at), e = v128.load(s3 + at);
      const ab0 = i32x4.shuffle(a, b, 0, 4, 1, 5), ab1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
      const ce0 = i32x4.shuffle(c, e, 0, 4, 1, 5), ce1 = i32x4.shuffle(c, e, 2, 6, 3, 7);
      const o = dst + ((<usize>d * LD + j) << 2);
      v128.store(o, i64x2.shuffle(ab0, ce0, 0, 2));
      v128.store(o + LD * 4, i64x2.shuffle(ab0, ce0, 1, 3));
      v128.store(o + LD * 8, i64x2.shuffle(ab1, ce1, 0, 2));
      v128.store(o + LD * 12, i64x2.shuffle(ab1, ce1, 1, 3));
    }
    for (; d < D; d++) {
      const at = <usize>d << 2;
      const o = dst + ((<usize>d * LD + j) << 2);
      store<f32>(o, load<f32>(s0 + at)); store<f32>(o, load<f32>(s1 + at), 4);
      store<f32>(o, load<f32>(s2 + at), 8); store<f32>(o, load<f32>(s3 + at), 12);
    }
  }
  for (; j < n; j++) {
    let s = src + <usize>j * ld;
    let o = dst + (<usize>j << 2);
    for (let d = 0; d < D; d++, s += 4, o += LD * 4) store<f32>(o, load<f32>(s));
  }
  for (; j < n8; j++) {
    let o = dst + (<usize>j << 2);
    for (let d = 0; d < D; d++, o += LD * 4) store<f32>(o, 0);
  }
}

// S[MR × 8] (rows LD floats apart) = panel a [D][MR] · bt [D][LD] (8 columns from bt).
// @ts-ignore: decorator
@inline function scoresTile(a: usize, bt: usize, D: i32, s: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (let d = 0; d < D; d++, a += MR * 4, bt += LD * 4) {
    const b0 = v128.load(bt), b1 = v128.load(bt, 16);
    let x = v128.load32_splat(a);
    c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
    x = v128.load32_splat(a, 4); c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11);
    x = v128.load32_splat(a, 8); c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21);
    x = v128.load32_splat(a, 12); c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31);
    x = v128.load32_splat(a, 16); c40 = fma4(x, b0, c40); c41 = fma4(x, b1, c41);
    if (MR > 5) { x = v128.load32_splat(a, 20); c50 = fma4(x, b0, c50); c51 = fma4(x, b1, c51); }
  }
  v128.store(s, c00); v128.store(s, c01, 16);
  v128.store(s, c10, LD * 4); v128.store(s, c11, LD * 4 + 16);
  v128.store(s, c20, LD * 8); v128.store(s, c21, LD * 8 + 16);
  v128.store(s, c30, LD * 12); v128.store(s, c31, LD * 12 + 16);
  v128.store(s, c40, LD * 16); v128.store(s, c41, LD * 16 + 16);
  if (MR > 5) { v128.store(s, c50, LD * 20); v128.store(s, c51, LD * 20 + 16); }
}

/**
 * S[rows × n8] = A·Bᵀ for the m packed rows at `ap` (panels [D][MR]) and the
 * packed [D][LD] tile `bt`, n8 a multiple of 8; S rows are LD floats apart.
 */
export function scores(ap: usize, m: i32, bt: usize, n8: i32, D: i32, s: usize): void {
  for (let p = 0; p < m; p += MR) {
    const a = ap + ((<usize>p * D) << 2);
    const sp = s + ((<usize>p * LD) << 2);
    for (let j = 0; j < n8; j += 8) scoresTile(a, bt + (<usize>j << 2), D, sp + (<usize>j << 2));
  }
}

// C[MR × 8] += Σ_t A[r][t] · B[t][0..8]. A[r][t] is a[t·4 + r·LD·4] (row-major
// tile) or a[t·LD·4 + r·4] (trans); B rows `ldb` bytes apart; C rows `ldc`
// bytes apart. `w` < 8 valid B columns when `partial` (the rest read as 0).
// @ts-ignore: decorator
@inline function accTile(trans: bool, partial: bool, w: i32, a: usize, n: i32, b: usize, ldb: usize, c: usize, ldc: usize): void {
  const r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
  let c00 = v128.load(c), c01 = v128.load(c, 16), c10 = v128.load(r1), c11 = v128.load(r1, 16);
  let c20 = v128.load(r2), c21 = v128.load(r2, 16), c30 = v128.load(r3), c31 = v128.load(r3, 16);
  let c40 = v128.load(r4), c41 = v128.load(r4, 16), c50 = c40, c51 = c41;
  if (MR > 5) { c50 = v128.load(r5); c51 = v128.load(r5, 16); }
  const zero = f32x4.splat(0);
  for (let t = 0; t < n; t++, b += ldb) {
    let b0: v128, b1: v128;
    if (partial) {
      b0 = w >= 4 ? v128.load(b) : loadPartial(b, w, 0);
      b1 = w > 4 ? loadPartial(b + 16, w - 4, 0) : zero;
    } else {
      b0 = v128.load(b); b1 = v128.load(b, 16);
    }
    let x: v128;
    if (trans) {
      x = v128.load32_splat(a); c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
      x = v128.load32_splat(a, 4); c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11);
      x = v128.load32_splat(a, 8); c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21);
      x = v128.load32_splat(a, 12); c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31);
      x = v128.load32_splat(a, 16); c40 = fma4(x, b0, c40); c41 = fma4(x, b1, c41);
      if (MR > 5) { x = v128.load32_splat(a, 20); c50 = fma4(x, b0, c50); c51 = fma4(x, b1, c51); }
      a += LD * 4;
    } else {
      x = v128.load32_splat(a); c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
      x = v128.load32_splat(a, LD * 4); c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11);
      x = v128.load32_splat(a, LD * 8); c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21);
      x = v128.load32_splat(a, LD * 12); c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31);
      x = v128.load32_splat(a, LD * 16); c40 = fma4(x, b0, c40); c41 = fma4(x, b1, c41);
      if (MR > 5) { x = v128.load32_splat(a, LD * 20); c50 = fma4(x, b0, c50); c51 = fma4(x, b1, c51); }
      a += 4;
    }
  }
  v128.store(c, c00); v128.store(c, c01, 16); v128.store(r1, c10); v128.store(r1, c11, 16);
  v128.store(r2, c20); v128.store(r2, c21, 16); v128.store(r3, c30); v128.store(r3, c31, 16);
  v128.store(r4, c40); v128.store(r4, c41, 16);
  if (MR > 5) { v128.store(r5, c50); v128.store(r5, c51, 16); }
}

function accRowMajor(a: usize, n: i32, b: usize, ldb: usize, c: usize, ldc: usize): void { accTile(false, false, 8, a, n, b, ldb, c, ldc); }
function accRowMajorPartial(w: i32, a: usize, n: i32, b: usize, ldb: usize, c: usize, ldc: usize): void { accTile(false, true, w, a, n, b, ldb, c, ldc); }
function accTrans(a: usize, n: i32, b: usize, ldb: usize, c: usize, ldc: usize): void { accTile(true, false, 8, a, n, b, ldb, c, ldc); }
function accTransPartial(w: i32, a: usize, n: i32, b: usize, ldb: usize, c: usize, ldc: usize): void { accTile(true, true, w, a, n, b, ldb, c, ldc); }

/**
 * C[rows × D] += A·B over n: A is the score tile at `a` (row-major [rows][LD],
 * or with `trans` [n][LD] read transposed), B the n rows of a tensor at `b`
 * (D floats each, read in place), C rows `ldc` bytes apart (at least D
 * rounded up to 8 floats). Rows past the valid ones must be zero in A.
 */
export function accumulate(trans: bool, a: usize, rows: i32, n: i32, b: usize, D: i32, c: usize, ldc: usize): void {
  const ldb = <usize>D << 2;
  for (let p = 0; p < rows; p += MR) {
    const ap = a + (trans ? <usize>p << 2 : (<usize>p * LD) << 2);
    const cp = c + <usize>p * ldc;
    let d = 0;
    for (; d + 8 <= D; d += 8) {
      const at = <usize>d << 2;
      if (trans) accTrans(ap, n, b + at, ldb, cp + at, ldc);
      else accRowMajor(ap, n, b + at, ldb, cp + at, ldc);
    }
    if (d < D) {
      const at = <usize>d << 2;
      if (trans) accTransPartial(D - d, ap, n, b + at, ldb, cp + at, ldc);
      else accRowMajorPartial(D - d, ap, n, b + at, ldb, cp + at, ldc);
    }
  }
}
