// 3×3 convolution at stride 1, dilation 1, groups 1 by Winograd's minimal
// filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks"): each 2×2 block of outputs comes from its 4×4 input
// window d and the filter g as Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A. Summed over
// the input channels, the elementwise product is 16 independent GEMMs (one
// per position ξ of the 4×4 transform): M_ξ[tile, o] = Σ_c V_ξ[tile, c] U_ξ[c, o],
// 16·C multiply-adds per tile and output channel where the direct product
// needs 4·9·C: 2.25x fewer.
//
//   pack   U = G g Gᵀ per (c, o), in 8-column panels [ξ][c][8] (one part);
//   part   per four tiles: V = Bᵀ d B for every channel ([ξ][tile][c] in
//          scratch, zeros for padding), then per panel the 16 GEMMs on the
//          conv micro-kernel (ind: four row pointers, one per tile) into
//          M [ξ][tile][8], and Y = Aᵀ M A plus the bias, the activation,
//          stored to the outputs inside the image.
//
// The transforms' coefficients are ±1 and ½; their sums round like any f32
// sum, and the error stays near the direct product's (tests: conv.test.ts)
// for finite inputs away from f32's range (the host sends others to the
// direct path: convAbsMax).
import { ACT_NONE } from '../build/gen/activation';
import { ConvJob } from '../build/gen/conv';
import { kernelInd, MR, NR, padBias, SEG_BYTES } from './conv-kernel';
import { activate4, align64, load4, store4 } from './math';
import { partStart } from './parts';

// @ts-ignore: decorator
@inline function u(desc: usize, at: usize): i32 { return load<i32>(desc + at); }
// @ts-ignore: decorator
@inline function ptr(desc: usize, at: usize): usize { return <usize>load<u32>(desc + at); }

/** Floats per tile row of V: the channels rounded up to whole vectors. */
// @ts-ignore: decorator
@inline function padC(C: i32): i32 { return (C + 3) & ~3; }

/** Scratch bytes one part needs: V, M, 16 segment records, the padded bias, the group's tile records. */
export function winogradScratch(C: i32, O: i32): usize {
  const np = (O + NR - 1) / NR;
  return align64(<usize>(16 * MR * padC(C)) << 2) + align64(<usize>(16 * MR * NR) << 2) + align64(16 * SEG_BYTES) + align64(<usize>(np * NR) << 2) + align64(<usize>MR << 3);
}

/**
 * Filter w [3, 3, C, O] → U panels [O/8][16][C][8] (columns past O zero).
 * `flip`: w is [3, 3, O, C] and is read turned 180° and transposed (tap 8 − t,
 * w[., ., o, c]): the filter of an input gradient run as a forward.
 */
export function winogradPack(desc: usize, flip: bool): void {
  const w = ptr(desc, ConvJob.w), packed = ptr(desc, ConvJob.packed);
  const C = u(desc, ConvJob.C), O = u(desc, ConvJob.O), np = (O + NR - 1) / NR;
  const ldw = <usize>(C * O) << 2; // one tap to the next
  for (let o = 0; o < np * NR; o++) {
    const panel = packed + (<usize>((o / NR) * 16 * C * NR) << 2), col = <usize>(o % NR) << 2;
    for (let c = 0; c < C; c++) {
      const dst = panel + (<usize>(c * NR) << 2) + col, step = <usize>(C * NR) << 2; // ξ to ξ + 1
      if (o >= O) {
        for (let e: usize = 0; e < 16; e++) store<f32>(dst + e * step, 0);
        continue;
      }
      // g[kh][kw] = w[kh, kw, c, o]; t = G g (4×3, per column kw), U = t Gᵀ (4×4, per row i).
      const g = w + ((<usize>(flip ? o * C + c : c * O + o)) << 2);
      for (let kw = 0; kw < 3; kw++) {
        const t0 = flip ? 8 - kw : kw, t1 = flip ? 5 - kw : 3 + kw, t2 = flip ? 2 - kw : 6 + kw;
        const g0 = load<f32>(g + <usize>t0 * ldw), g1 = load<f32>(g + <usize>t1 * ldw), g2 = load<f32>(g + <usize>t2 * ldw);
        // Column kw of t, parked in U's rows ξ = 4i + kw until the rows are combined below.
        store<f32>(dst + <usize>kw * step, g0);
        store<f32>(dst + <usize>(4 + kw) * step, 0.5 * (g0 + g1 + g2));
        store<f32>(dst + <usize>(8 + kw) * step, 0.5 * (g0 - g1 + g2));
        store<f32>(dst + <usize>(12 + kw) * step, g2);
      }
      for (let i: usize = 0; i < 4; i++) {
        const row = dst + i * 4 * step;
        const a = load<f32>(row), b = load<f32>(row + step), e = load<f32>(row + 2 * step);
        store<f32>(row + step, 0.5 * (a + b + e));
        store<f32>(row + 2 * step, 0.5 * (a - b + e));
        store<f32>(row + 3 * step, e);
      }
    }
  }
}

export function winogradPart(desc: usize, part: i32, slot: i32): void {
  const x = ptr(desc, ConvJob.x), out = ptr(desc, ConvJob.out), bias = ptr(desc, ConvJob.bias);
  const packed = ptr(desc, ConvJob.packed), zero = ptr(desc, ConvJob.zero);
  const N = u(desc, ConvJob.N), H = u(desc, ConvJob.H), W = u(desc, ConvJob.W), C = u(desc, ConvJob.C);
  const Ho = u(desc, ConvJob.Ho), Wo = u(desc, ConvJob.Wo), O = u(desc, ConvJob.O);
  const pt = u(desc, ConvJob.padTop), pl = u(desc, ConvJob.padLeft), act = u(desc, ConvJob.act);
  const Th = (Ho + 1) >> 1, Tw = (Wo + 1) >> 1, tiles = N * Th * Tw, groups = (tiles + MR - 1) / MR;
  const parts = u(desc, ConvJob.parts);
  const g0 = partStart(groups, parts, part, 1), g1 = partStart(groups, parts, part + 1, 1);
  if (g0 >= g1) return;
  const Cp = padC(C), np = (O + NR - 1) / NR;
  const V = ptr(desc, ConvJob.scratch) + <usize>slot * ptr(desc, ConvJob.scratchPart);
  const Mb = V + align64(<usize>(16 * MR * Cp) << 2);
  const segs = Mb + align64(<usize>(16 * MR * NR) << 2);
  const biasPad = segs + align64(16 * SEG_BYTES);
  padBias(biasPad, bias, 1, O);
  // Segment ξ: the C steps of V_ξ, one row pointer per tile, B at U_ξ of the panel.
  const rowV = <usize>Cp << 2;
  for (let e = 0; e < 16; e++) {
    const rec = segs + (<usize>e << 5);
    store<u32>(rec, <u32>(e * C * NR) << 2);
    store<i32>(rec, C, 4);
    for (let r = 0; r < MR; r++) store<u32>(rec + 8 + (<usize>r << 2), <u32>(V + (<usize>(e * MR + r)) * rowV));
  }
  const ldo = <usize>O << 2;
  // Per tile of the group: its first output's byte offset, and whether its right column and bottom row exist.
  const info = biasPad + align64(<usize>(np * NR) << 2);
  // The first tile's (n, th, tw), stepped one tile at a time (no divisions in the loop).
  let n = (g0 * MR) / (Th * Tw), th = ((g0 * MR) / Tw) % Th, tw = (g0 * MR) % Tw;
  for (let gi = g0; gi < g1; gi++) {
    const t0 = gi * MR, R = min(MR, tiles - t0);
    for (let r = 0; r < MR; r++) {
      if (r < R) {
        inputTile(x, V + <usize>r * rowV, rowV * MR, n, th, tw, H, W, C, pt, pl);
        const oh = th * 2, ow = tw * 2, at = info + (<usize>r << 3);
        store<u32>(at, <u32>(((n * Ho + oh) * Wo + ow) * O) << 2);
        store<i32>(at, (ow + 1 < Wo ? 1 : 0) | (oh + 1 < Ho ? 2 : 0), 4);
        if (++tw == Tw) { tw = 0; if (++th == Th) { th = 0; n++; } }
      } else {
        for (let e: usize = 0; e < 16; e++) memory.fill(V + (e * MR + r) * rowV, 0, rowV);
      }
    }
    for (let j = 0; j < np; j++) {
      const panel = packed + (<usize>(j * 16 * C * NR) << 2);
      for (let e = 0; e < 16; e++) {
        kernelInd(MR, segs + (<usize>e << 5), 1, panel, 0, zero, 0, Mb + (<usize>(e * MR * NR) << 2), NR * 4);
      }
      const nr = min(NR, O - j * NR), col = <usize>(j * NR) << 2;
      const b0 = v128.load(biasPad + col), b1 = v128.load(biasPad + col, 16);
      for (let r = 0; r < R; r++) {
        const at = info + (<usize>r << 3), y = out + <usize>load<u32>(at) + col, edge = load<i32>(at, 4);
        const m = Mb + (<usize>(r * NR) << 2), right = (edge & 1) != 0, below = (edge & 2) != 0;
        outputTile(m, <usize>(MR * NR) << 2, b0, act, y, ldo, <usize>Wo * ldo, right, below, min(4, nr));
        if (nr > 4) outputTile(m + 16, <usize>(MR * NR) << 2, b1, act, y + 16, ldo, <usize>Wo * ldo, right, below, nr - 4);
      }
    }
  }
}

/**
 * V = Bᵀ d B of tile (n, th, tw)'s 4×4 window for every channel, written to V_ξ rows
 * ξ·ldξ apart; window cells outside the input read as 0.
 *   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 */
// @ts-ignore: decorator
@inline function inputTile(x: usize, v: usize, ldE: usize, n: i32, th: i32, tw: i32, H: i32, W: i32, C: i32, pt: i32, pl: i32): void {
  const ih0 = th * 2 - pt, iw0 = tw * 2 - pl;
  const inside = ih0 >= 0 && ih0 + 4 <= H && iw0 >= 0 && iw0 + 4 <= W;
  const px = <usize>C << 2, rowB = <usize>W * px;
  const base = x + (<usize>((n * H + ih0) * W + iw0)) * px; // may lie outside when !inside (only valid cells are read)
  // Row i / column k of the window is inside: one bit each.
  let rowsIn = 0, colsIn = 0;
  for (let i = 0; i < 4; i++) {
    if (ih0 + i >= 0 && ih0 + i < H) rowsIn |= 1 << i;
    if (iw0 + i >= 0 && iw0 + i < W) colsIn |= 1 << i;
  }
  for (let c = 0; c < C; c += 4) {
    const lanes = min(4, C - c), cb = <usize>c << 2;
    // Columns k = 0..3 of Bᵀ d (rows combined), then the rows of that times B.
    let d00: v128, d01: v128, d02: v128, d03: v128, d10: v128, d11: v128, d12: v128, d13: v128, d20: v128, d21: v128, d22: v128, d23: v128, d30: v128, d31: v128, d32: v128, d33: v128;
    if (inside && lanes == 4) {
      const p = base + cb;
      d00 = v128.load(p); d01 = v128.load(p + px); d02 = v128.load(p + 2 * px); d03 = v128.load(p + 3 * px);
      d10 = v128.load(p + rowB); d11 = v128.load(p + rowB + px); d12 = v128.load(p + rowB + 2 * px); d13 = v128.load(p + rowB + 3 * px);
      d20 = v128.load(p + 2 * rowB); d21 = v128.load(p + 2 * rowB + px); d22 = v128.load(p + 2 * rowB + 2 * px); d23 = v128.load(p + 2 * rowB + 3 * px);
      d30 = v128.load(p + 3 * rowB); d31 = v128.load(p + 3 * rowB + px); d32 = v128.load(p + 3 * rowB + 2 * px); d33 = v128.load(p + 3 * rowB + 3 * px);
    } else {
      d00 = cell(base, cb, 0, 0, rowB, px, rowsIn, colsIn, lanes); d01 = cell(base, cb, 0, 1, rowB, px, rowsIn, colsIn, lanes); d02 = cell(base, cb, 0, 2, rowB, px, rowsIn, colsIn, lanes); d03 = cell(base, cb, 0, 3, rowB, px, rowsIn, colsIn, lanes);
      d10 = cell(base, cb, 1, 0, rowB, px, rowsIn, colsIn, lanes); d11 = cell(base, cb, 1, 1, rowB, px, rowsIn, colsIn, lanes); d12 = cell(base, cb, 1, 2, rowB, px, rowsIn, colsIn, lanes); d13 = cell(base, cb, 1, 3, rowB, px, rowsIn, colsIn, lanes);
      d20 = cell(base, cb, 2, 0, rowB, px, rowsIn, colsIn, lanes); d21 = cell(base, cb, 2, 1, rowB, px, rowsIn, colsIn, lanes); d22 = cell(base, cb, 2, 2, rowB, px, rowsIn, colsIn, lanes); d23 = cell(base, cb, 2, 3, rowB, px, rowsIn, colsIn, lanes);
      d30 = cell(base, cb, 3, 0, rowB, px, rowsIn, colsIn, lanes); d31 = cell(base, cb, 3, 1, rowB, px, rowsIn, colsIn, lanes); d32 = cell(base, cb, 3, 2, rowB, px, rowsIn, colsIn, lanes); d33 = cell(base, cb, 3, 3, rowB, px, rowsIn, colsIn, lanes);
    }
    // Bᵀ d, column by column: s_ik.
    const s00 = f32x4.sub(d00, d20), s10 = f32x4.add(d10, d20), s20 = f32x4.sub(d20, d10), s30 = f32x4.sub(d10, d30);
    const s01 = f32x4.sub(d01, d21), s11 = f32x4.add(d11, d21), s21 = f32x4.sub(d21, d11), s31 = f32x4.sub(d11, d31);
    const s02 = f32x4.sub(d02, d22), s12 = f32x4.add(d12, d22), s22 = f32x4.sub(d22, d12), s32 = f32x4.sub(d12, d32);
    const s03 = f32x4.sub(d03, d23), s13 = f32x4.add(d13, d23), s23 = f32x4.sub(d23, d13), s33 = f32x4.sub(d13, d33);
    // Row i of (Bᵀ d) B: [s_i0 - s_i2, s_i1 + s_i2, s_i2 - s_i1, s_i1 - s_i3] at ξ = 4i + k.
    const q = v + cb;
    row4(q, ldE, 0, s00, s01, s02, s03);
    row4(q, ldE, 4, s10, s11, s12, s13);
    row4(q, ldE, 8, s20, s21, s22, s23);
    row4(q, ldE, 12, s30, s31, s32, s33);
  }
}

// @ts-ignore: decorator
@inline function row4(q: usize, ldE: usize, e: usize, a: v128, b: v128, c: v128, d: v128): void {
  v128.store(q + e * ldE, f32x4.sub(a, c));
  v128.store(q + (e + 1) * ldE, f32x4.add(b, c));
  v128.store(q + (e + 2) * ldE, f32x4.sub(c, b));
  v128.store(q + (e + 3) * ldE, f32x4.sub(b, d));
}

/** Window cell (i, k) at channels cb.., or zeros where it lies outside the input. */
// @ts-ignore: decorator
@inline function cell(base: usize, cb: usize, i: i32, k: i32, rowB: usize, px: usize, rowsIn: i32, colsIn: i32, lanes: i32): v128 {
  if (((rowsIn >> i) & (colsIn >> k) & 1) == 0) return f32x4.splat(0);
  return load4(base + cb + <usize>i * rowB + <usize>k * px, lanes);
}

/**
 * Y = Aᵀ m A + bias for four channels of one tile (m: 16 vectors ldE apart,
 * ξ = 4i + k), the activation, stored to the 2×2 outputs that exist.
 *   Aᵀ = [1 1 1 0; 0 1 -1 -1]
 */
// @ts-ignore: decorator
@inline function outputTile(m: usize, ldE: usize, b: v128, act: i32, y: usize, ldo: usize, rowO: usize,
  right: bool, below: bool, lanes: i32): void {
  // Rows of Aᵀ m: r0_k = m0k + m1k + m2k, r1_k = m1k - m2k - m3k.
  let r00: v128, r01: v128, r02: v128, r03: v128, r10: v128, r11: v128, r12: v128, r13: v128;
  {
    const a = v128.load(m), bb = v128.load(m + 4 * ldE), c = v128.load(m + 8 * ldE), d = v128.load(m + 12 * ldE);
    r00 = f32x4.add(f32x4.add(a, bb), c); r10 = f32x4.sub(f32x4.sub(bb, c), d);
  }
  {
    const a = v128.load(m + ldE), bb = v128.load(m + 5 * ldE), c = v128.load(m + 9 * ldE), d = v128.load(m + 13 * ldE);
    r01 = f32x4.add(f32x4.add(a, bb), c); r11 = f32x4.sub(f32x4.sub(bb, c), d);
  }
  {
    const a = v128.load(m + 2 * ldE), bb = v128.load(m + 6 * ldE), c = v128.load(m + 10 * ldE), d = v128.load(m + 14 * ldE);
    r02 = f32x4.add(f32x4.add(a, bb), c); r12 = f32x4.sub(f32x4.sub(bb, c), d);
  }
  {
    const a = v128.load(m + 3 * ldE), bb = v128.load(m + 7 * ldE), c = v128.load(m + 11 * ldE), d = v128.load(m + 15 * ldE);
    r03 = f32x4.add(f32x4.add(a, bb), c); r13 = f32x4.sub(f32x4.sub(bb, c), d);
  }
  let y00 = f32x4.add(f32x4.add(f32x4.add(r00, r01), r02), b);
  let y01 = f32x4.add(f32x4.sub(f32x4.sub(r01, r02), r03), b);
  let y10 = f32x4.add(f32x4.add(f32x4.add(r10, r11), r12), b);
  let y11 = f32x4.add(f32x4.sub(f32x4.sub(r11, r12), r13), b);
  if (act != ACT_NONE) { y00 = activate4(act, y00); y01 = activate4(act, y01); y10 = activate4(act, y10); y11 = activate4(act, y11); }
  store4(y, y00, lanes);
  if (right) store4(y + ldo, y01, lanes);
  if (below) {
    store4(y + rowO, y10, lanes);
    if (right) store4(y + rowO + ldo, y11, lanes);
  }
}

/**
 * The largest |v| of n floats at p: +inf if any is infinite, NaN if any is
 * NaN. The host takes the Winograd path only where the transforms' sums
 * cannot overflow (or turn ±inf into inf − inf) where the direct product
 * gives a number. Integer maxima of the sign-cleared bits: they order like
 * |v|, with inf and then NaN above every finite value (one op per vector).
 */
export function convAbsMax(p: usize, n: i32): f32 {
  const mask = i32x4.splat(0x7fffffff);
  let m0 = i32x4.splat(0), m1 = m0;
  let i = 0;
  for (; i + 8 <= n; i += 8, p += 32) {
    m0 = i32x4.max_s(m0, v128.and(v128.load(p), mask));
    m1 = i32x4.max_s(m1, v128.and(v128.load(p, 16), mask));
  }
  m0 = i32x4.max_s(m0, m1);
  let b = max(max(i32x4.extract_lane(m0, 0), i32x4.extract_lane(m0, 1)), max(i32x4.extract_lane(m0, 2), i32x4.extract_lane(m0, 3)));
  for (; i < n; i++, p += 4) b = max(b, load<i32>(p) & 0x7fffffff);
  return reinterpret<f32>(b);
}
