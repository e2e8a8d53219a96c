// The tile operations of the fused attention kernels (attention.ts): packing,
// and the two small products every pass is made of, each a register-blocked
// f32x4 micro-kernel of MR rows by 8 columns (as matmul.ts's):
//   scores: S[rows × keys] = A·Bᵀ, A packed into MR-row panels [D][MR]
//           (queries, or output gradients), Bᵀ packed into 8-key panels [D][8]
//           (keys, or values)
//   accumulate: C[rows × D] += A[rows × n]·B[n × D], A a score tile (row-major,
//           or read transposed), B packed into 8-column chunks [n][8]
// Every operand a micro-kernel streams is packed, so its loads are sequential.
// Score tiles are LD floats wide, so both orientations read A with constant
// offsets. Rows past the valid ones are zero in every A operand, so the
// micro-kernels always run full MR-row panels.
//
// Why 4 rows, not matmul's 6: V8 issues all of an iteration's loads (the two B
// vectors and the MR broadcasts of A) before its multiply-adds, so a tile needs
// 2·MR accumulators + 2 + MR registers of the 15 it allocates. 6 rows need 20
// and spill three accumulators to the stack on every step; 4 rows need 14 and
// spill nothing (measured: the 6-row tile at 52% of the relaxed_madd ceiling
// here, the 4-row one at 90%; the plain-SIMD build's mul + add temporary still fits).
import { fma4, loadPartial } from './math';

/** Rows of a micro-tile (register budget: see above). */
export const MR: i32 = 4;
/** Query rows per block and keys per tile: multiples of MR and of 8 (a key panel). */
export const BQ: i32 = 64;
export const BK: i32 = 64;
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

// @ts-ignore: decorator
@inline function panelAt(dst: usize, D: i32, d: i32, j: i32): usize { return dst + ((<usize>((j >> 3) * D + d) << 5) + (<usize>(j & 7) << 2)); }

/**
 * Packs rows [0, n) of a tensor (rows D floats apart) transposed into 8-row
 * panels [n8 / 8][D][8] at `dst`; rows n .. n rounded to 8 are zero.
 */
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
      const o = panelAt(dst, D, d, j);
      v128.store(o, i64x2.shuffle(ab0, ce0, 0, 2));
      v128.store(o, i64x2.shuffle(ab0, ce0, 1, 3), 32);
      v128.store(o, i64x2.shuffle(ab1, ce1, 0, 2), 64);
      v128.store(o, i64x2.shuffle(ab1, ce1, 1, 3), 96);
    }
    for (; d < D; d++) {
      const at = <usize>d << 2;
      const o = panelAt(dst, D, d, j);
      store<f32>(o, load<f32>(s0 + at)); store<f32>(o, load<f32>(s1 + at), 4);
      store<f32>(o, load<f32>(s2 + at), 8); store<f32>(o, load<f32>(s3 + at), 12);
    }
  }
  for (; j < n8; j++) {
    const s = src + <usize>j * ld;
    for (let d = 0; d < D; d++) store<f32>(panelAt(dst, D, d, j), j < n ? load<f32>(s + (<usize>d << 2)) : 0);
  }
}

/**
 * Packs rows [0, n) of a tensor (D floats each) into 8-column chunks
 * [D8 / 8][n][8] at `dst` (chunk c at dst + c·n·32 bytes); columns past D are zero.
 */
export function packChunks(src: usize, n: i32, D: i32, dst: usize): void {
  const ld = <usize>D << 2, chunk = <usize>n << 5;
  const full = D & ~7;
  for (let t = 0; t < n; t++) {
    const s = src + <usize>t * ld;
    let o = dst + (<usize>t << 5);
    let d = 0;
    for (; d < full; d += 8, o += chunk) {
      v128.store(o, v128.load(s + (<usize>d << 2)));
      v128.store(o, v128.load(s + (<usize>d << 2), 16), 16);
    }
    if (d < D) {
      const w = D - d, p = s + (<usize>d << 2);
      v128.store(o, w >= 4 ? v128.load(p) : loadPartial(p, w, 0));
      v128.store(o, w > 4 ? loadPartial(p + 16, w - 4, 0) : f32x4.splat(0), 16);
    }
  }
}

// S[MR × 8] (rows LD floats apart) = panel a [D][MR] · panel bt [D][8].
// @ts-ignore: decorator
@inline function scoresTile(a: usize, bt: usize, D: i32, s: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let d = 0; d < D; d++, a += MR * 4, bt += 32) {
    const b0 = v128.load(bt), b1 = v128.load(bt, 16);
    let x = v128.load32_splat(a);
    c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
    x = v128.load32_splat(a, 4); c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11);
    x = v128.load32_splat(a, 8); c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21);
    x = v128.load32_splat(a, 12); c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31);
  }
  v128.store(s, c00); v128.store(s, c01, 16);
  v128.store(s, c10, LD * 4); v128.store(s, c11, LD * 4 + 16);
  v128.store(s, c20, LD * 8); v128.store(s, c21, LD * 8 + 16);
  v128.store(s, c30, LD * 12); v128.store(s, c31, LD * 12 + 16);
}

/**
 * S[rows × n8] = A·Bᵀ for the m packed rows at `ap` (panels [D][MR]) and the
 * n8 (a multiple of 8) packed rows at `bt` (panels [D][8]); S rows are LD floats apart.
 */
export function scores(ap: usize, m: i32, bt: usize, n8: i32, D: i32, s: usize): void {
  for (let p = 0; p < m; p += MR) {
    const a = ap + ((<usize>p * D) << 2);
    const sp = s + ((<usize>p * LD) << 2);
    for (let j = 0; j < n8; j += 8) scoresTile(a, bt + ((<usize>j * D) << 2), D, sp + (<usize>j << 2));
  }
}

// C[MR × 8] += Σ_t A[r][t] · B[t][0..8]. A[r][t] is a[t·4 + r·LD·4] (row-major
// tile) or a[t·LD·4 + r·4] (trans); B is a packed chunk [n][8]; C rows `ldc` bytes apart.
// @ts-ignore: decorator
@inline function accTile(trans: bool, a: usize, n: i32, b: usize, c: usize, ldc: usize): void {
  const r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
  let c00 = v128.load(c), c01 = v128.load(c, 16), c10 = v128.load(r1), c11 = v128.load(r1, 16);
  let c20 = v128.load(r2), c21 = v128.load(r2, 16), c30 = v128.load(r3), c31 = v128.load(r3, 16);
  for (let t = 0; t < n; t++, b += 32) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x: v128;
    if (trans) {
      x = v128.load32_splat(a); c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
      x = v128.load32_splat(a, 4); c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11);
      x = v128.load32_splat(a, 8); c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21);
      x = v128.load32_splat(a, 12); c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31);
      a += LD * 4;
    } else {
      x = v128.load32_splat(a); c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
      x = v128.load32_splat(a, LD * 4); c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11);
      x = v128.load32_splat(a, LD * 8); c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21);
      x = v128.load32_splat(a, LD * 12); c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31);
      a += 4;
    }
  }
  v128.store(c, c00); v128.store(c, c01, 16); v128.store(r1, c10); v128.store(r1, c11, 16);
  v128.store(r2, c20); v128.store(r2, c21, 16); v128.store(r3, c30); v128.store(r3, c31, 16);
}

function accRowMajor(a: usize, n: i32, b: usize, c: usize, ldc: usize): void { accTile(false, a, n, b, c, ldc); }
function accTrans(a: usize, n: i32, b: usize, c: usize, ldc: usize): void { accTile(true, a, n, b, c, ldc); }

/**
 * C[rows × D8] += A·B over n: A is the score tile at `a` (row-major [rows][LD],
 * or with `trans` [n][LD] read transposed), B the n rows packed by packChunks
 * at `b`, C rows `ldc` bytes apart (D rounded up to 8 floats). Rows past the
 * valid ones must be zero in A.
 */
export function accumulate(trans: bool, a: usize, rows: i32, n: i32, b: usize, D: i32, c: usize, ldc: usize): void {
  const chunk = <usize>n << 5;
  for (let d = 0; d < D; d += 8) {
    const bc = b + <usize>(d >> 3) * chunk, cd = c + (<usize>d << 2);
    for (let p = 0; p < rows; p += MR) {
      const ap = a + (trans ? <usize>p << 2 : (<usize>p * LD) << 2);
      if (trans) accTrans(ap, n, bc, cd + <usize>p * ldc, ldc);
      else accRowMajor(ap, n, bc, cd + <usize>p * ldc, ldc);
    }
  }
}
