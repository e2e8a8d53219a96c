// The filter gradient of a convolution: dW[tap, ci, o] = Σ_pixels
// x[pixel + tap, ci] · dZ[pixel, o], dZ = op(t, dy) (the activation
// derivative, or dy itself), a product whose reduction runs over every
// output pixel. Parts split the pixels; each sums into its own partial dW
// (mode filter) and a last job adds the partials (mode filterReduce).
//
// A part walks its pixels in chunks. Per chunk, dZ is staged once into
// 8-column panels [chunk][8] per group: the prologue is applied there (once
// per element, while in L1), the bias gradient summed from the staged
// panels (f32 per chunk, f64 across), and dZ optionally written out
// (`dzOut`) for the input gradient to read plain. Then for each tap the
// chunk's pixels form *runs* (a stretch of one output row whose tap pixels
// are inside the input: a pointer and a pixel stride, no padding checks in
// the loop), and the str micro-kernel (conv-kernel.ts) accumulates MR (4) input
// channels × 8 outputs over all runs, adding into the partial dW. With few
// channels per group (`indirect` 0) the chunk's im2col rows are gathered
// into packed panels instead, so the MR rows of a block span taps.
import { ConvJob } from '../build/gen/conv';
import { copyRows, kernelStr, MR, NR, SEG_BYTES } from './conv-kernel';
import { actGrad4, align64, loadPartial, storePartial } from './math';
import { partStart } from './parts';

// @ts-ignore: decorator
@inline function u(desc: usize, at: usize): i32 { return load<i32>(desc + at); }
// @ts-ignore: decorator
@inline function ptr(desc: usize, at: usize): usize { return <usize>load<u32>(desc + at); }

/** Words (f32) of one part's partial: dW, then the f64 bias sums (8-aligned). */
export function filterPartialBytes(T: i32, Cg: i32, O: i32): usize {
  return align64(<usize>(T * Cg * O) << 2) + align64(<usize>O << 3);
}

/** Loads `n` (0..4) floats at p, the other lanes 0. */
// @ts-ignore: decorator
@inline function loadN(p: usize, n: i32): v128 {
  return n >= 4 ? v128.load(p) : n <= 0 ? f32x4.splat(0) : loadPartial(p, n, 0);
}

// @ts-ignore: decorator
@inline function storeN(p: usize, v: v128, n: i32): void {
  if (n >= 4) v128.store(p, v);
  else if (n > 0) storePartial(p, v, n);
}

/**
 * Stages dZ rows c0 .. c0+cn (row-major [pixel][O]) into per-group panels
 * [g][j][cn][8] at `staged` (panel stride `cap` rows), applying the prologue,
 * writing dZ to dzOut and adding the bias sums (f64 per column) when asked.
 */
export function stageChunk(dy: usize, t: usize, pro: i32, dzOut: usize, sums: usize, staged: usize, cap: i32,
  c0: i32, cn: i32, O: i32, G: i32): void {
  const Og = O / G, np = (Og + NR - 1) / NR;
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < np; j++) {
      const col = g * Og + j * NR, nr = min(NR, Og - j * NR);
      const n0 = min(nr, 4), n1 = nr - n0;
      let d = staged + (<usize>((g * np + j) * cap) << 5);
      let s0 = f32x4.splat(0), s1 = s0;
      let at = (<usize>c0 * O + col) << 2;
      for (let m = 0; m < cn; m++, d += 32, at += <usize>O << 2) {
        let v0 = loadN(dy + at, n0), v1 = loadN(dy + at + 16, n1);
        if (pro != 0) {
          v0 = actGrad4(pro, loadN(t + at, n0), v0);
          v1 = actGrad4(pro, loadN(t + at + 16, n1), v1);
        }
        v128.store(d, v0);
        v128.store(d, v1, 16);
        if (dzOut != 0) { storeN(dzOut + at, v0, n0); storeN(dzOut + at + 16, v1, n1); }
        s0 = f32x4.add(s0, v0);
        s1 = f32x4.add(s1, v1);
      }
      if (sums != 0) {
        const s = sums + (<usize>col << 3);
        for (let c = 0; c < nr; c++) {
          store<f64>(s + (<usize>c << 3), load<f64>(s + (<usize>c << 3)) + <f64>lane(c < 4 ? s0 : s1, c & 3));
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function lane(v: v128, i: i32): f32 {
  switch (i) {
    case 0: return f32x4.extract_lane(v, 0);
    case 1: return f32x4.extract_lane(v, 1);
    case 2: return f32x4.extract_lane(v, 2);
    default: return f32x4.extract_lane(v, 3);
  }
}

/**
 * Runs of tap (kh, kw) over pixels c0 .. c0+cn: records [bOff, len, p] with
 * p the first tap pixel's x address (channel 0), bOff = (pixel − c0)·rowBytes.
 * Returns the count.
 */
export function tapRuns(runs: usize, x: usize, c0: i32, cn: i32, kh: i32, kw: i32, rowBytes: i32,
  H: i32, W: i32, C: i32, Ho: i32, Wo: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32): i32 {
  // Output columns whose tap column lies inside the input: [owLo, owHi).
  const nl = pl - kw * dw;
  const owLo = nl <= 0 ? 0 : (nl + sw - 1) / sw;
  const nh = W - 1 + pl - kw * dw;
  const owHi = nh < 0 ? 0 : min(Wo, nh / sw + 1);
  let count = 0;
  const HW = Ho * Wo, c1 = c0 + cn;
  let m = c0;
  while (m < c1) {
    const n = m / HW, rem = m % HW, oh = rem / Wo, ow = rem % Wo;
    const e = min(m + (Wo - ow), c1);
    const ih = oh * sh - pt + kh * dh;
    if (ih >= 0 && ih < H) {
      const a = max(ow, owLo), b = min(ow + (e - m), owHi);
      if (a < b) {
        const rec = runs + (<usize>count << 5);
        store<u32>(rec, <u32>((m + (a - ow) - c0) * rowBytes));
        store<i32>(rec, b - a, 4);
        store<u32>(rec, <u32>(x + ((((<usize>n * H + ih) * W + a * sw - pl + kw * dw) * C) << 2)), 8);
        count++;
      }
    }
    m = e;
  }
  return count;
}

export function convFilterPart(desc: usize, part: i32, slot: i32): void {
  const x = ptr(desc, ConvJob.x), dy = ptr(desc, ConvJob.w), t = ptr(desc, ConvJob.t), pro = u(desc, ConvJob.pro);
  const dzOut = ptr(desc, ConvJob.dzOut), wantSums = ptr(desc, ConvJob.sumB) != 0;
  const N = u(desc, ConvJob.N), H = u(desc, ConvJob.H), W = u(desc, ConvJob.W), C = u(desc, ConvJob.C);
  const Ho = u(desc, ConvJob.Ho), Wo = u(desc, ConvJob.Wo), O = u(desc, ConvJob.O);
  const Kh = u(desc, ConvJob.Kh), Kw = u(desc, ConvJob.Kw), sh = u(desc, ConvJob.sh), sw = u(desc, ConvJob.sw);
  const dh = u(desc, ConvJob.dh), dw = u(desc, ConvJob.dw), pt = u(desc, ConvJob.padTop), pl = u(desc, ConvJob.padLeft);
  const G = u(desc, ConvJob.groups), indirect = u(desc, ConvJob.indirect) != 0, cap = u(desc, ConvJob.chunk);
  const Cg = C / G, Og = O / G, T = Kh * Kw, np = (Og + NR - 1) / NR, Kg = T * Cg;
  const M = N * Ho * Wo, parts = u(desc, ConvJob.parts);
  // The partial of this part (every part has one, even an empty one: the reduce adds them all).
  const partial = ptr(desc, ConvJob.packed) + <usize>part * filterPartialBytes(T, Cg, O);
  const sums = partial + align64(<usize>(T * Cg * O) << 2);
  memory.fill(partial, 0, filterPartialBytes(T, Cg, O));
  const p0 = partStart(M, parts, part, 1), p1 = partStart(M, parts, part + 1, 1);
  if (p0 >= p1) return;
  const scratch = ptr(desc, ConvJob.scratch) + <usize>slot * ptr(desc, ConvJob.scratchPart);
  const staged = scratch;
  const runs = staged + align64(<usize>(G * np * NR * cap) << 2);
  const panelA = runs + align64(<usize>(cap + 2) * SEG_BYTES);
  const tile = panelA + align64(<usize>(((Kg + MR - 1) / MR) * MR * cap) << 2);
  const ldo = <usize>O << 2;
  for (let c0 = p0; c0 < p1; c0 += cap) {
    const cn = min(cap, p1 - c0);
    stageChunk(dy, t, pro, dzOut, wantSums ? sums : 0, staged, cap, c0, cn, O, G);
    for (let g = 0; g < G; g++) {
      if (indirect) {
        for (let kh = 0; kh < Kh; kh++) {
          for (let kw = 0; kw < Kw; kw++) {
            const nr0 = tapRuns(runs, x, c0, cn, kh, kw, 32, H, W, C, Ho, Wo, sh, sw, dh, dw, pt, pl);
            if (nr0 == 0) continue;
            const tap = kh * Kw + kw;
            for (let cb = 0; cb < Cg; cb += MR) {
              const R = min(MR, Cg - cb);
              const aOff = <usize>(g * Cg + cb) << 2;
              for (let j = 0; j < np; j++) {
                const panel = staged + (<usize>((g * np + j) * cap) << 5);
                const dst = partial + ((<usize>(tap * Cg + cb) * O + g * Og + j * NR) << 2);
                accumulate(R, runs, nr0, panel, aOff, <usize>(sw * C) << 2, dst, ldo, min(NR, Og - j * NR), tile);
              }
            }
          }
        }
      } else {
        // im2col rows of the chunk, packed [k / MR][pixel][MR] (zero where the tap is padding).
        const kb = (Kg + MR - 1) / MR;
        memory.fill(panelA, 0, <usize>(kb * MR * cn) << 2);
        for (let kh = 0; kh < Kh; kh++) {
          for (let kw = 0; kw < Kw; kw++) {
            const nr0 = tapRuns(runs, x, c0, cn, kh, kw, 1, H, W, C, Ho, Wo, sh, sw, dh, dw, pt, pl);
            for (let s = 0; s < nr0; s++) {
              const rec = runs + (<usize>s << 5);
              const m = load<i32>(rec), len = load<i32>(rec, 4);
              let src = <usize>load<u32>(rec, 8) + (<usize>(g * Cg) << 2);
              for (let i = 0; i < len; i++, src += <usize>(sw * C) << 2) {
                for (let ci = 0; ci < Cg; ci++) {
                  const k = (kh * Kw + kw) * Cg + ci;
                  store<f32>(panelA + (<usize>(((k / MR) * cn + m + i) * MR + k % MR) << 2), load<f32>(src + (<usize>ci << 2)));
                }
              }
            }
          }
        }
        for (let b = 0; b < kb; b++) {
          const R = min(MR, Kg - b * MR);
          // One segment: the whole chunk.
          store<u32>(runs, 0);
          store<i32>(runs, cn, 4);
          store<u32>(runs, <u32>(panelA + (<usize>(b * cn * MR) << 2)), 8);
          for (let j = 0; j < np; j++) {
            const panel = staged + (<usize>((g * np + j) * cap) << 5);
            const dst = partial + ((<usize>(b * MR) * O + g * Og + j * NR) << 2);
            accumulate(R, runs, 1, panel, 0, <usize>MR << 2, dst, ldo, min(NR, Og - j * NR), tile);
          }
        }
      }
    }
  }
}

/** dst (R rows × nr columns, row stride ld) += the str kernel's block; edge columns go through `tile`. */
function accumulate(R: i32, segs: usize, nseg: i32, panel: usize, aOff: usize, aStep: usize, dst: usize, ld: usize, nr: i32, tile: usize): void {
  if (nr == NR) {
    kernelStr(R, segs, nseg, panel, aOff, aStep, dst, ld, dst, ld);
    return;
  }
  copyRows(dst, ld, tile, NR * 4, R, nr);
  kernelStr(R, segs, nseg, panel, aOff, aStep, tile, NR * 4, tile, NR * 4);
  copyRows(tile, NR * 4, dst, ld, R, nr);
}

/** dW = Σ of the parts' partials (and the bias gradient, from their f64 sums); parts split dW. */
export function convFilterReducePart(desc: usize, part: i32): void {
  const dwOut = ptr(desc, ConvJob.out), sumB = ptr(desc, ConvJob.sumB), partials = ptr(desc, ConvJob.packed);
  const C = u(desc, ConvJob.C), O = u(desc, ConvJob.O), G = u(desc, ConvJob.groups);
  const T = u(desc, ConvJob.Kh) * u(desc, ConvJob.Kw), Cg = C / G;
  const count = u(desc, ConvJob.chunk), parts = u(desc, ConvJob.parts);
  const stride = filterPartialBytes(T, Cg, O);
  const n = T * Cg * O;
  const e0 = partStart(n, parts, part, 16), e1 = partStart(n, parts, part + 1, 16);
  for (let e = e0; e < e1; e++) {
    let s: f32 = 0;
    for (let q = 0; q < count; q++) s += load<f32>(partials + <usize>q * stride + (<usize>e << 2));
    store<f32>(dwOut + (<usize>e << 2), s);
  }
  if (part == 0 && sumB != 0) {
    const at = align64(<usize>n << 2);
    for (let o = 0; o < O; o++) {
      let s: f64 = 0;
      for (let q = 0; q < count; q++) s += load<f64>(partials + <usize>q * stride + at + (<usize>o << 3));
      store<f32>(sumB + (<usize>o << 2), <f32>s);
    }
  }
}
