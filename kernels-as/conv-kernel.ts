// The register-blocked micro-kernels of the convolutions (conv.ts,
// conv-filter.ts): an R x 8 block of outputs (R <= MR rows, two f32x4 per
// row) accumulated over a list of *segments*, the indirect GEMM of XNNPACK
// (Dukhan, "The Indirect Convolution Algorithm"). A segment is a run of
// `len` steps of k; at each step every row broadcasts one float of its A
// operand and multiplies it into 8 floats of B, read from a packed panel
// (8 floats per step). The two kinds differ in where A comes from:
//
//   ind  each row has its own pointer (an input pixel's channels, or a
//        zeroed block for a padded tap), stepping 4 bytes: the input is read
//        in place, never copied into an im2col matrix;
//   str  the rows are 4 bytes apart at one pointer that steps `aStep`
//        bytes: a packed panel [k][MR] (aStep = 4 MR), or the filter
//        gradient's consecutive channels of one pixel (aStep = a pixel);
//
// Segment record (SEG_BYTES): bOff (bytes into the B panel), len, then the
// row pointers (ind: MR of them; str: one). Both kernels add aOff bytes to every
// row pointer (records built once for an output row, reused at each tile's column). Accumulators start from R rows
// at `init` (initLd bytes apart; 0 repeats one row, e.g. the bias) and end
// in R rows at `dst` (dstLd apart): init = dst accumulates in place.
import { fma4 } from './math';

/**
 * Rows of the block. Four, with or without fused multiply-add: 8 accumulators,
 * 2 B vectors and the broadcast stay in registers. Six rows (12 accumulators)
 * filled V8's 15 xmm registers and spilled inside the loop: 4 rows measured
 * 1.9x faster on every conv shape (ResNet 3x3x64: 24 -> 50 GFLOP/s, 1 thread).
 */
export const MR: i32 = 4;
/** Columns of the block (two f32x4). */
export const NR = 8;
export const SEG_BYTES: usize = 32;

// @ts-ignore: decorator
@inline function indRows(R: i32, segs: usize, nseg: i32, panel: usize, aOff: usize, init: usize, initLd: usize, dst: usize, dstLd: usize): void {
  const i1 = init + initLd, i2 = i1 + initLd, i3 = i2 + initLd;
  let c00 = v128.load(init), c01 = v128.load(init, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  if (R > 1) { c10 = v128.load(i1); c11 = v128.load(i1, 16); }
  if (R > 2) { c20 = v128.load(i2); c21 = v128.load(i2, 16); }
  if (R > 3) { c30 = v128.load(i3); c31 = v128.load(i3, 16); }
  for (let s = 0; s < nseg; s++) {
    const rec = segs + (<usize>s << 5);
    let b = panel + <usize>load<u32>(rec);
    const end = b + (<usize>load<u32>(rec, 4) << 5);
    let p0 = <usize>load<u32>(rec, 8) + aOff, p1 = <usize>load<u32>(rec, 12) + aOff, p2 = <usize>load<u32>(rec, 16) + aOff, p3 = <usize>load<u32>(rec, 20) + aOff;
    while (b < end) {
      const b0 = v128.load(b), b1 = v128.load(b, 16);
      let x = v128.load32_splat(p0);
      c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
      if (R > 1) { x = v128.load32_splat(p1); c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11); }
      if (R > 2) { x = v128.load32_splat(p2); c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21); }
      if (R > 3) { x = v128.load32_splat(p3); c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31); }
      b += 32; p0 += 4;
      if (R > 1) p1 += 4;
      if (R > 2) p2 += 4;
      if (R > 3) p3 += 4;
    }
  }
  const d1 = dst + dstLd, d2 = d1 + dstLd, d3 = d2 + dstLd;
  v128.store(dst, c00); v128.store(dst, c01, 16);
  if (R > 1) { v128.store(d1, c10); v128.store(d1, c11, 16); }
  if (R > 2) { v128.store(d2, c20); v128.store(d2, c21, 16); }
  if (R > 3) { v128.store(d3, c30); v128.store(d3, c31, 16); }
}

// @ts-ignore: decorator
@inline function strRows(R: i32, segs: usize, nseg: i32, panel: usize, aOff: usize, aStep: usize,
  init: usize, initLd: usize, dst: usize, dstLd: usize): void {
  const i1 = init + initLd, i2 = i1 + initLd, i3 = i2 + initLd;
  let c00 = v128.load(init), c01 = v128.load(init, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  if (R > 1) { c10 = v128.load(i1); c11 = v128.load(i1, 16); }
  if (R > 2) { c20 = v128.load(i2); c21 = v128.load(i2, 16); }
  if (R > 3) { c30 = v128.load(i3); c31 = v128.load(i3, 16); }
  for (let s = 0; s < nseg; s++) {
    const rec = segs + (<usize>s << 5);
    let b = panel + <usize>load<u32>(rec);
    const end = b + (<usize>load<u32>(rec, 4) << 5);
    let a = <usize>load<u32>(rec, 8) + aOff;
    while (b < end) {
      const b0 = v128.load(b), b1 = v128.load(b, 16);
      let x = v128.load32_splat(a);
      c00 = fma4(x, b0, c00); c01 = fma4(x, b1, c01);
      if (R > 1) { x = v128.load32_splat(a, 4); c10 = fma4(x, b0, c10); c11 = fma4(x, b1, c11); }
      if (R > 2) { x = v128.load32_splat(a, 8); c20 = fma4(x, b0, c20); c21 = fma4(x, b1, c21); }
      if (R > 3) { x = v128.load32_splat(a, 12); c30 = fma4(x, b0, c30); c31 = fma4(x, b1, c31); }
      b += 32; a += aStep;
    }
  }
  const d1 = dst + dstLd, d2 = d1 + dstLd, d3 = d2 + dstLd;
  v128.store(dst, c00); v128.store(dst, c01, 16);
  if (R > 1) { v128.store(d1, c10); v128.store(d1, c11, 16); }
  if (R > 2) { v128.store(d2, c20); v128.store(d2, c21, 16); }
  if (R > 3) { v128.store(d3, c30); v128.store(d3, c31, 16); }
}

// One function per row count, each its own straight loop (V8 optimises functions whole).
function ind1(s: usize, n: i32, p: usize, ao: usize, i: usize, il: usize, d: usize, dl: usize): void { indRows(1, s, n, p, ao, i, il, d, dl); }
function ind2(s: usize, n: i32, p: usize, ao: usize, i: usize, il: usize, d: usize, dl: usize): void { indRows(2, s, n, p, ao, i, il, d, dl); }
function ind3(s: usize, n: i32, p: usize, ao: usize, i: usize, il: usize, d: usize, dl: usize): void { indRows(3, s, n, p, ao, i, il, d, dl); }
function ind4(s: usize, n: i32, p: usize, ao: usize, i: usize, il: usize, d: usize, dl: usize): void { indRows(4, s, n, p, ao, i, il, d, dl); }
function str1(s: usize, n: i32, p: usize, ao: usize, as: usize, i: usize, il: usize, d: usize, dl: usize): void { strRows(1, s, n, p, ao, as, i, il, d, dl); }
function str2(s: usize, n: i32, p: usize, ao: usize, as: usize, i: usize, il: usize, d: usize, dl: usize): void { strRows(2, s, n, p, ao, as, i, il, d, dl); }
function str3(s: usize, n: i32, p: usize, ao: usize, as: usize, i: usize, il: usize, d: usize, dl: usize): void { strRows(3, s, n, p, ao, as, i, il, d, dl); }
function str4(s: usize, n: i32, p: usize, ao: usize, as: usize, i: usize, il: usize, d: usize, dl: usize): void { strRows(4, s, n, p, ao, as, i, il, d, dl); }

/** The ind kernel for `rows` (1..MR) rows; each row pointer is offset by aOff bytes. */
export function kernelInd(rows: i32, segs: usize, nseg: i32, panel: usize, aOff: usize, init: usize, initLd: usize, dst: usize, dstLd: usize): void {
  switch (rows) {
    case 1: ind1(segs, nseg, panel, aOff, init, initLd, dst, dstLd); break;
    case 2: ind2(segs, nseg, panel, aOff, init, initLd, dst, dstLd); break;
    case 3: ind3(segs, nseg, panel, aOff, init, initLd, dst, dstLd); break;
    default: ind4(segs, nseg, panel, aOff, init, initLd, dst, dstLd);
  }
}

/** The str kernel for `rows` (1..MR) rows; each segment's A pointer is offset by aOff bytes. */
export function kernelStr(rows: i32, segs: usize, nseg: i32, panel: usize, aOff: usize, aStep: usize,
  init: usize, initLd: usize, dst: usize, dstLd: usize): void {
  switch (rows) {
    case 1: str1(segs, nseg, panel, aOff, aStep, init, initLd, dst, dstLd); break;
    case 2: str2(segs, nseg, panel, aOff, aStep, init, initLd, dst, dstLd); break;
    case 3: str3(segs, nseg, panel, aOff, aStep, init, initLd, dst, dstLd); break;
    default: str4(segs, nseg, panel, aOff, aStep, init, initLd, dst, dstLd);
  }
}

/**
 * The bias as the kernels' accumulators start from it: per group, its Og
 * columns padded with zeros to whole panels of NR (zeros throughout where
 * `bias` is 0, i.e. absent).
 */
export function padBias(dst: usize, bias: usize, G: i32, Og: i32): void {
  const np = (Og + NR - 1) / NR;
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < np * NR; j++) {
      store<f32>(dst + (<usize>(g * np * NR + j) << 2), bias != 0 && j < Og ? load<f32>(bias + (<usize>(g * Og + j) << 2)) : 0);
    }
  }
}

/** Copies a rows x cols block of floats between row strides sLd and dLd (bytes). */
export function copyRows(src: usize, sLd: usize, dst: usize, dLd: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++, src += sLd, dst += dLd) memory.copy(dst, src, <usize>cols << 2);
}

/**
 * Gathers the A rows of `nseg` ind segments into a packed panel [k][MR] at
 * `panel` and rewrites each record as a str segment reading it (aStep 4 MR);
 * neighbouring segments whose B runs are contiguous merge into one. Rows at
 * and past `rows` are left unwritten (the kernel for `rows` never reads them).
 * Returns the number of segments left.
 */
export function gatherSegments(segs: usize, nseg: i32, rows: i32, panel: usize): i32 {
  let out = 0;
  let at = panel;
  for (let s = 0; s < nseg; s++) {
    const rec = segs + (<usize>s << 5);
    const bOff = load<u32>(rec), len = load<i32>(rec, 4);
    for (let r = 0; r < rows; r++) {
      let src = <usize>load<u32>(rec + 8 + (<usize>r << 2));
      let d = at + (<usize>r << 2);
      for (let k = 0; k < len; k++, src += 4, d += <usize>MR << 2) store<f32>(d, load<f32>(src));
    }
    const prev = segs + (<usize>(out - 1) << 5);
    if (out > 0 && load<u32>(prev) + (<u32>load<i32>(prev, 4) << 5) == bOff) {
      store<i32>(prev, load<i32>(prev, 4) + len, 4);
    } else {
      const o = segs + (<usize>out << 5);
      store<u32>(o, bOff);
      store<i32>(o, len, 4);
      store<u32>(o, <u32>at, 8);
      out++;
    }
    at += (<usize>len * MR) << 2;
  }
  return out;
}
