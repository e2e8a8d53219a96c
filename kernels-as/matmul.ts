// Batched matmul with fused bias + activation: C = act(op(A) op(B) + bias),
// optionally with an activation-derivative prologue on A or B and the column
// sums of (prologued) B as a by-product.
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
//
// Threads: the JS side splits C into parts (a batch range, a row range or a
// column range each); threads claim parts and run `matmulPart` on each with
// their own scratch. Parts never write the same bytes.
import { gemvPart, gemvScratch } from './gemv';
import { ACT_NONE } from '../build/gen/activation';
import { MatmulJob } from '../build/gen/matmul';
import { activate4, align64, fma4 } from './math';
import { actGradRun } from './prologue';

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
/**
 * Up to this many rows of C (one A panel), a row-major B is read in place
 * instead of packed (see gemm). Not more: a second A panel would re-read the
 * B panel, whose rows N floats apart all fall in one L1 set, from L2.
 */
const DIRECT_ROWS = MR;

// @ts-ignore: decorator
@inline function roundUp(x: i32, m: i32): i32 { return (x + m - 1) / m * m; }

// @ts-ignore: decorator

// Scratch layout of one part: packed B, packed A, a panel for packing t, padded bias, edge tile, f64 column sums.
// @ts-ignore: decorator
@inline function bBytes(N: i32, K: i32): usize { return align64(<usize>min(roundUp(N, NR), NC) * <usize>min(max(K, 1), KC) << 2); }
// @ts-ignore: decorator
@inline function aBytes(M: i32, K: i32): usize { return align64(<usize>min(roundUp(M, MR), MC) * <usize>min(max(K, 1), KC) << 2); }
const T_PANEL_BYTES: usize = <usize>max(MR, NR) * KC * 4;
// @ts-ignore: decorator
@inline function biasBytes(N: i32): usize { return align64(<usize>roundUp(N, NR) << 2); }
const TILE_BYTES: usize = 64 * 4; // MR x NR floats, rounded up
// @ts-ignore: decorator
@inline function sumBytes(N: i32): usize { return align64(<usize>roundUp(N, NR) << 3); }

/**
 * Bytes of scratch one part of `matmul` needs: M, N, K are the product's,
 * partM x partN bounds the part's block of C (as f64: the sum can pass 2^32).
 */
export function matmulScratch(M: i32, N: i32, K: i32, partM: i32, partN: i32): f64 {
  if (M == 1 || N == 1) return <f64>gemvScratch(K, N == 1 ? partM : partN);
  return <f64>bBytes(partN, K) + <f64>aBytes(partM, K) + <f64>T_PANEL_BYTES + <f64>biasBytes(partN)
    + <f64>TILE_BYTES + <f64>sumBytes(partN);
}

/** Rows of the micro-tile: the JS side aligns row splits to it. */
export function matmulTileRows(): i32 {
  return MR;
}

// The micro-kernels: R x 8 accumulators in registers, C tile = init + A panel . B panel.
// `init` is the padded bias row (first K slice) unless `accumulate` (later slices: C itself).
// V8 keeps 15 xmm registers for values: 6 x 2 accumulators + 2 B vectors + 1 broadcast A fit
// with fused multiply-add; mul + add needs a temporary, so the plain SIMD build uses 5 rows.
// One template serves every R <= MR: edge panels (the last M % MR rows, and products with
// M < MR) run only their rows instead of a zero-padded full tile. The A panel stays MR wide.

// @ts-ignore: decorator
@inline function kernelRows(R: i32, a: usize, b: usize, ldb: usize, kc: i32, c: usize, ldc: usize, init: usize, accumulate: bool): void {
  const r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc, r4 = r3 + ldc, r5 = r4 + ldc;
  let c00: v128, c01: v128, c10 = f32x4.splat(0), c11 = c10, c20 = c10, c21 = c10;
  let c30 = c10, c31 = c10, c40 = c10, c41 = c10, c50 = c10, c51 = c10;
  if (accumulate) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    if (R > 1) { c10 = v128.load(r1); c11 = v128.load(r1, 16); }
    if (R > 2) { c20 = v128.load(r2); c21 = v128.load(r2, 16); }
    if (R > 3) { c30 = v128.load(r3); c31 = v128.load(r3, 16); }
    if (R > 4) { c40 = v128.load(r4); c41 = v128.load(r4, 16); }
    if (R > 5) { c50 = v128.load(r5); c51 = v128.load(r5, 16); }
  } else {
    c00 = v128.load(init); c01 = v128.load(init, 16);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01; c40 = c00; c41 = c01; c50 = c00; c51 = c01;
  }
  for (let k = 0; k < kc; k++, a += MR * 4, b += ldb) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
    if (R > 1) { x = v128.load32_splat(a, 4); c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11); }
    if (R > 2) { x = v128.load32_splat(a, 8); c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21); }
    if (R > 3) { x = v128.load32_splat(a, 12); c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31); }
    if (R > 4) { x = v128.load32_splat(a, 16); c40 = fma4(x, b0, c40); c41 = fma4(x, b1, c41); }
    if (R > 5) { x = v128.load32_splat(a, 20); c50 = fma4(x, b0, c50); c51 = fma4(x, b1, c51); }
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  if (R > 1) { v128.store(r1, c10); v128.store(r1, c11, 16); }
  if (R > 2) { v128.store(r2, c20); v128.store(r2, c21, 16); }
  if (R > 3) { v128.store(r3, c30); v128.store(r3, c31, 16); }
  if (R > 4) { v128.store(r4, c40); v128.store(r4, c41, 16); }
  if (R > 5) { v128.store(r5, c50); v128.store(r5, c51, 16); }
}

function kernel1(a: usize, b: usize, ldb: usize, kc: i32, c: usize, ldc: usize, init: usize, acc: bool): void { kernelRows(1, a, b, ldb, kc, c, ldc, init, acc); }
function kernel2(a: usize, b: usize, ldb: usize, kc: i32, c: usize, ldc: usize, init: usize, acc: bool): void { kernelRows(2, a, b, ldb, kc, c, ldc, init, acc); }
function kernel3(a: usize, b: usize, ldb: usize, kc: i32, c: usize, ldc: usize, init: usize, acc: bool): void { kernelRows(3, a, b, ldb, kc, c, ldc, init, acc); }
function kernel4(a: usize, b: usize, ldb: usize, kc: i32, c: usize, ldc: usize, init: usize, acc: bool): void { kernelRows(4, a, b, ldb, kc, c, ldc, init, acc); }
function kernel5(a: usize, b: usize, ldb: usize, kc: i32, c: usize, ldc: usize, init: usize, acc: bool): void { kernelRows(5, a, b, ldb, kc, c, ldc, init, acc); }
function kernel6(a: usize, b: usize, ldb: usize, kc: i32, c: usize, ldc: usize, init: usize, acc: bool): void { kernelRows(6, a, b, ldb, kc, c, ldc, init, acc); }

/** The kernel for the `rows` (1..MR) valid rows of an A panel; B rows are `ldb` bytes apart. */
function kernel(rows: i32, a: usize, b: usize, ldb: usize, kc: i32, c: usize, ldc: usize, init: usize, acc: bool): void {
  if (rows >= MR) {
    if (ASC_FEATURE_RELAXED_SIMD) kernel6(a, b, ldb, kc, c, ldc, init, acc);
    else kernel5(a, b, ldb, kc, c, ldc, init, acc);
    return;
  }
  switch (rows) {
    case 1: kernel1(a, b, ldb, kc, c, ldc, init, acc); break;
    case 2: kernel2(a, b, ldb, kc, c, ldc, init, acc); break;
    case 3: kernel3(a, b, ldb, kc, c, ldc, init, acc); break;
    case 4: kernel4(a, b, ldb, kc, c, ldc, init, acc); break;
    default: kernel5(a, b, ldb, kc, c, ldc, init, acc); break;
  }
}

/** Packs columns j0 .. j0+nr of B[pc:pc+kc, :] into one NR-wide panel [kc][NR], zero-padded. */
function packBPanel(b: usize, panel: usize, pc: i32, kc: i32, j0: i32, nr: i32, N: i32, K: i32, trans: bool): void {
  if (!trans) {
    // Row k of the panel is NR consecutive floats of row pc + k of B.
    let src = b + ((<usize>pc * N + j0) << 2);
    const srcStride = <usize>N << 2;
    let d = panel;
    if (nr == NR) {
      for (let k = 0; k < kc; k++, src += srcStride, d += NR * 4) {
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
      }
    } else {
      for (let k = 0; k < kc; k++, src += srcStride, d += NR * 4) {
        v128.store(d, f32x4.splat(0));
        v128.store(d, f32x4.splat(0), 16);
        for (let j = 0; j < nr; j++) store<f32>(d + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
      }
    }
  } else {
    // B is [N, K]: column j of the panel is a contiguous run of row j0 + j.
    for (let j = 0; j < NR; j++) {
      let d = panel + (<usize>j << 2);
      if (j < nr) {
        let src = b + ((<usize>(j0 + j) * K + pc) << 2);
        for (let k = 0; k < kc; k++, src += 4, d += NR * 4) store<f32>(d, load<f32>(src));
      } else {
        for (let k = 0; k < kc; k++, d += NR * 4) store<f32>(d, 0);
      }
    }
  }
}

/**
 * Packs B[pc:pc+kc, jc:jc+nc] into NR-wide panels [nc/NR][kc][NR]. With a
 * prologue, t is packed the same way into `tPanel` and each panel becomes
 * op(t, B) while it is in L1 (zero padding stays zero: op(0, 0) = 0).
 */
function packB(b: usize, t: usize, pro: i32, dst: usize, tPanel: usize, pc: i32, kc: i32, jc: i32, nc: i32, N: i32, K: i32, trans: bool): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const panel = dst + ((<usize>jr * kc) << 2);
    packBPanel(b, panel, pc, kc, jc + jr, nr, N, K, trans);
    if (pro != 0) {
      packBPanel(t, tPanel, pc, kc, jc + jr, nr, N, K, trans);
      actGradRun(pro, tPanel, panel, panel, NR * kc);
    }
  }
}

/** Adds the column sums of the packed B panels (nc columns, kc rows) to the f64 `sums`. */
function sumPanels(bp: usize, kc: i32, nc: i32, sums: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    let p = bp + ((<usize>jr * kc) << 2);
    // kc <= KC rows in f32, then f64 across slices (as the reduce kernels do).
    let s0 = f32x4.splat(0), s1 = s0;
    for (let k = 0; k < kc; k++, p += NR * 4) {
      s0 = f32x4.add(s0, v128.load(p));
      s1 = f32x4.add(s1, v128.load(p, 16));
    }
    const s = sums + (<usize>jr << 3);
    v128.store(s, f64x2.add(v128.load(s), f64x2.promote_low_f32x4(s0)));
    v128.store(s, f64x2.add(v128.load(s, 16), f64x2.promote_low_f32x4(i32x4.shuffle(s0, s0, 2, 3, 0, 1))), 16);
    v128.store(s, f64x2.add(v128.load(s, 32), f64x2.promote_low_f32x4(s1)), 32);
    v128.store(s, f64x2.add(v128.load(s, 48), f64x2.promote_low_f32x4(i32x4.shuffle(s1, s1, 2, 3, 0, 1))), 48);
  }
}

/** Packs rows i0 .. i0+mr of A[:, pc:pc+kc] into one MR-tall panel [kc][MR], zero-padded. */
function packAPanel(a: usize, panel: usize, i0: i32, mr: i32, pc: i32, kc: i32, M: i32, K: i32, trans: bool): void {
  if (trans) {
    // A is [K, M]: row k of the panel is mr consecutive floats of row pc + k.
    let src = a + ((<usize>pc * M + i0) << 2);
    const srcStride = <usize>M << 2;
    let d = panel;
    for (let k = 0; k < kc; k++, src += srcStride, d += MR * 4) {
      for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
    }
  } else {
    for (let r = 0; r < MR; r++) {
      let d = panel + (<usize>r << 2);
      if (r < mr) {
        let src = a + ((<usize>(i0 + r) * K + pc) << 2);
        for (let k = 0; k < kc; k++, src += 4, d += MR * 4) store<f32>(d, load<f32>(src));
      } else {
        for (let k = 0; k < kc; k++, d += MR * 4) store<f32>(d, 0);
      }
    }
  }
}

/** Packs A[ic:ic+mc, pc:pc+kc] into MR-tall panels [mc/MR][kc][MR]; the prologue as in packB. */
function packA(a: usize, t: usize, pro: i32, dst: usize, tPanel: usize, ic: i32, mc: i32, pc: i32, kc: i32, M: i32, K: i32, trans: bool): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const panel = dst + ((<usize>ir * kc) << 2);
    packAPanel(a, panel, ic + ir, mr, pc, kc, M, K, trans);
    if (pro != 0) {
      packAPanel(t, tPanel, ic + ir, mr, pc, kc, M, K, trans);
      actGradRun(pro, tPanel, panel, panel, MR * kc);
    }
  }
}

/** Applies the activation to `rows` rows of NR floats (row stride ldc bytes). */
function activateTile(c: usize, ldc: usize, rows: i32, act: i32): void {
  for (let r = 0; r < rows; r++, c += ldc) {
    v128.store(c, activate4(act, v128.load(c)));
    v128.store(c, activate4(act, v128.load(c, 16)), 16);
  }
}

/** Copies a rows x cols block of floats between row strides sLd and dLd (bytes). */
function copyBlock(src: usize, sLd: usize, dst: usize, dLd: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++, src += sLd, dst += dLd) memory.copy(dst, src, <usize>cols << 2);
}

/**
 * C[m0:m1, n0:n1] of one matrix product (C contiguous M x N). `biasPad` holds the
 * bias of columns n0 .. n0 + roundUp(n1 - n0, NR), zero-padded; `sums` (f64 per
 * column from n0, or 0) receives the column sums of prologued B.
 */
function gemm(
  A: usize, B: usize, C: usize, tA: usize, tB: usize, proA: i32, proB: i32,
  M: i32, N: i32, K: i32, transA: bool, transB: bool, m0: i32, m1: i32, n0: i32, n1: i32,
  biasPad: usize, act: i32, sums: usize, bp: usize, ap: usize, tPanel: usize, tile: usize,
): void {
  const ldc = <usize>N << 2;
  // At most one A panel: each B element is used once, so packing B would only
  // add a pass over it; the kernel reads full NR-wide panels of a row-major B
  // in place (only a ragged last panel is packed). 2-3x faster for M = 2..6.
  const direct = !transB && proB == 0 && sums == 0 && m1 - m0 <= DIRECT_ROWS;
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    let pc = 0;
    do {
      const kc = min(KC, K - pc);
      const first = pc == 0;
      const last = pc + kc >= K;
      if (direct) {
        const ragged = nc % NR;
        if (ragged != 0) packBPanel(B, bp + ((<usize>(nc - ragged) * kc) << 2), pc, kc, jc + nc - ragged, ragged, N, K, false);
      } else {
        // B is packed once per (column block, K slice): the sums see each element once.
        packB(B, tB, proB, bp, tPanel, pc, kc, jc, nc, N, K, transB);
        if (sums != 0) sumPanels(bp, kc, nc, sums + (<usize>(jc - n0) << 3));
      }
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = min(MC, m1 - ic);
        packA(A, tA, proA, ap, tPanel, ic, mc, pc, kc, M, K, transA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const inPlace = direct && nr == NR;
          const bPanel = inPlace ? B + ((<usize>pc * N + jc + jr) << 2) : bp + ((<usize>jr * kc) << 2);
          const ldb: usize = inPlace ? ldc : NR * 4;
          const init = biasPad + (<usize>(jc - n0 + jr) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const aPanel = ap + ((<usize>ir * kc) << 2);
            const c = C + ((<usize>(ic + ir) * N + jc + jr) << 2);
            if (nr == NR) {
              kernel(mr, aPanel, bPanel, ldb, kc, c, ldc, init, !first);
              if (last && act != ACT_NONE) activateTile(c, ldc, mr, act);
            } else {
              // Edge columns: compute into `tile`, copy back the valid part.
              if (!first) copyBlock(c, ldc, tile, NR * 4, mr, nr);
              kernel(mr, aPanel, bPanel, ldb, kc, tile, NR * 4, init, !first);
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

// @ts-ignore: decorator
@inline function word(desc: usize, at: usize): u32 { return load<u32>(desc + at); }

/**
 * Runs part `part` of the matmul described at `desc` (a MatmulJob,
 * src/backends/primitives/matmul.ts) with
 * scratch slot `slot` (one per thread: any thread may run any part):
 * out[z] = act(op(A[z]) op(B[z]) + bias) over the part's batch, row and column
 * range, with A[z] at a + z strideA and B[z] at b + z strideB (elements; 0
 * broadcasts), C[z] contiguous M x N, bias (N floats) optional (0).
 */
export function matmulPart(desc: usize, part: i32, slot: i32): void {
  const r = desc + MatmulJob.ranges + (<usize>(6 * part) << 2);
  const z0 = load<i32>(r), z1 = load<i32>(r, 4), m0 = load<i32>(r, 8), m1 = load<i32>(r, 12);
  const n0 = load<i32>(r, 16), n1 = load<i32>(r, 20);
  if (z0 >= z1 || m0 >= m1 || n0 >= n1) return;
  const a = <usize>word(desc, MatmulJob.a), b = <usize>word(desc, MatmulJob.b), bias = <usize>word(desc, MatmulJob.bias);
  const out = <usize>word(desc, MatmulJob.out);
  const M = <i32>word(desc, MatmulJob.M), N = <i32>word(desc, MatmulJob.N), K = <i32>word(desc, MatmulJob.K);
  const transA = word(desc, MatmulJob.transA) != 0, transB = word(desc, MatmulJob.transB) != 0;
  const strideA = <usize>word(desc, MatmulJob.strideA), strideB = <usize>word(desc, MatmulJob.strideB);
  const act = <i32>word(desc, MatmulJob.act);
  const pro = <i32>word(desc, MatmulJob.pro), proOnB = word(desc, MatmulJob.proOnB) != 0;
  const proA = proOnB ? 0 : pro, proB = proOnB ? pro : 0;
  const t = <usize>word(desc, MatmulJob.t);
  // Batch 1 only; with a row split the part holding row 0 does the sums.
  const sumB = m0 == 0 ? <usize>word(desc, MatmulJob.sumB) : 0;
  const scratch = <usize>word(desc, MatmulJob.scratch) + <usize>slot * <usize>word(desc, MatmulJob.scratchPart);

  if (M == 1 || N == 1) {
    for (let z = z0; z < z1; z++) {
      const oa = (<usize>z * strideA) << 2, ob = (<usize>z * strideB) << 2;
      gemvPart(a + oa, b + ob, out + ((<usize>z * M * N) << 2), proA ? t + oa : 0, proB ? t + ob : 0, proA, proB,
        M, N, K, transA, transB, N == 1 ? m0 : n0, N == 1 ? m1 : n1, bias, act, sumB, scratch);
    }
    return;
  }

  const pn = n1 - n0, pm = m1 - m0;
  const bp = scratch;
  const ap = bp + bBytes(pn, K);
  const tPanel = ap + aBytes(pm, K);
  const biasPad = tPanel + T_PANEL_BYTES;
  const tile = biasPad + biasBytes(pn);
  const sums = sumB != 0 ? tile + TILE_BYTES : 0;
  // Zero-padded bias of this part's columns: the micro-kernel starts its accumulators from it.
  const npad = roundUp(pn, NR);
  for (let j = 0; j < npad; j++) {
    store<f32>(biasPad + (<usize>j << 2), bias != 0 && j < pn ? load<f32>(bias + (<usize>(n0 + j) << 2)) : 0);
  }
  if (sums != 0) memory.fill(sums, 0, <usize>npad << 3);
  for (let z = z0; z < z1; z++) {
    const oa = (<usize>z * strideA) << 2, ob = (<usize>z * strideB) << 2;
    gemm(a + oa, b + ob, out + ((<usize>z * M * N) << 2), proA ? t + oa : 0, proB ? t + ob : 0, proA, proB,
      M, N, K, transA, transB, m0, m1, n0, n1, biasPad, act, sums, bp, ap, tPanel, tile);
  }
  if (sums != 0) {
    for (let j = 0; j < pn; j++) store<f32>(sumB + (<usize>(n0 + j) << 2), <f32>load<f64>(sums + (<usize>j << 3)));
  }
}
