// Convolution forward and input gradient (backward-data) as indirect GEMMs,
// NHWC input, HWIO filter, groups (each group its own product).
//
// Forward, per group: C[m, o] = Σ_k A[m, k] B[k, o] with m an output pixel,
// k = (kh, kw, ci) and B the filter [Kh·Kw·Cg, Og], packed once per call into
// 8-column panels (mode packForward, one part). The output pixels are cut
// into tiles of MR; for each tile the segments (conv-kernel.ts) are built
// once: one per tap (Cg steps), or one per filter row (Kw·Cg steps) where
// the whole row lies inside the input (groups 1, dilation 1 across), each row
// pointing into the input pixel itself or at a zeroed block for padding;
// taps that are padding for the whole tile are dropped. Then every panel of
// 8 output channels runs the kernel over the same segments: the input is
// read in place, never copied into an im2col matrix. With few channels per
// group (`indirect` 0) the tile's A rows are gathered into a packed panel
// once instead and shared by the panels (a per-tap run of 1-4 steps costs
// more in pointer set-up than its multiply-adds). A tile lying in one output
// row with every tap inside the input across needs no segments of its own:
// its row's segments are built once (rowSegments) and offset to the tile's
// column and group, as the grey path does with its rows. The bias is where
// the accumulators start; the activation is applied to each finished block.
//
// Backward-data, per group: dx[i, ci] = Σ_(tap, o) dy[pixel(i, tap), o] ·
// w[tap, ci, o]: the same kernel with the filter packed transposed (panels of
// 8 input channels over k = (tap, o)). With stride s only the taps with
// kh·dh ≡ ih + padTop (mod s) reach input row ih, so input pixels are
// grouped by that residue (row and column): a tile holds pixels of one
// class and its segments are exactly the taps that reach them.
//
// A 3×3 forward at stride 1 with enough channels takes conv-winograd.ts instead.
//
// Threads: parts take contiguous ranges of tiles; each has its own scratch.
import { ACT_NONE } from '../build/gen/activation';
import {
  CONV_DATA, CONV_DEPTHWISE, CONV_DEPTHWISE_DATA, CONV_DEPTHWISE_FILTER, CONV_FILTER, CONV_FILTER_REDUCE,
  CONV_FORWARD, CONV_PACK_DATA, CONV_PACK_FORWARD, CONV_PACK_WINOGRAD, CONV_PACK_WINOGRAD_DATA, CONV_WINOGRAD, ConvJob,
} from '../build/gen/conv';
import { convFilterPart, convFilterReducePart, filterPartialBytes } from './conv-filter';
import { depthwiseDataPart, depthwiseFilterPart, depthwisePart } from './conv-depthwise';
import { winogradPack, winogradPart, winogradScratch } from './conv-winograd';
import { copyRows, gatherSegments, kernelInd, kernelStr, MR, NR, padBias, SEG_BYTES } from './conv-kernel';
import { activate4, align64 } from './math';
import { partStart } from './parts';

// @ts-ignore: decorator
@inline function u(desc: usize, at: usize): i32 { return load<i32>(desc + at); }

/** Per tile row: the image's first row (n·H), and the input row and column its window starts at (12 bytes each). */
const ROW_INFO_BYTES: usize = <usize>MR * 12;
// @ts-ignore: decorator
@inline function ptr(desc: usize, at: usize): usize { return <usize>load<u32>(desc + at); }

/** Rows of the micro-kernel: the JS side sizes scratch with it. */
export function convTileRows(): i32 { return MR; }

/** Bytes of one part's filter-gradient partial (dW and its f64 bias sums). */
export function convPartialBytes(T: i32, Cg: i32, O: i32): f64 { return <f64>filterPartialBytes(T, Cg, O); }

/**
 * Scratch bytes one part needs (mode: a CONV_* code; sizes as in the job).
 * `chunk` is the filter gradient's staged pixels.
 */
export function convScratch(mode: i32, C: i32, O: i32, Kh: i32, Kw: i32, groups: i32, chunk: i32): f64 {
  const Cg = C / groups, Og = O / groups, T = Kh * Kw;
  const segs = align64(<usize>(T + 1) * SEG_BYTES + ROW_INFO_BYTES);
  const tile = align64(<usize>(MR * NR) << 2);
  if (mode == CONV_FORWARD) {
    const panelA = align64(<usize>(T * Cg * MR) << 2);
    const bias = align64(<usize>(groups * ((Og + NR - 1) / NR) * NR) << 2);
    return <f64>(segs + panelA + tile + bias + <usize>T * SEG_BYTES); // last: an output row's segments (grey or rowSegments)
  }
  if (mode == CONV_DATA) return <f64>(segs + align64(<usize>(T * Og * MR) << 2) + tile);
  if (mode == CONV_FILTER) {
    const staged = align64(<usize>(groups * ((Og + NR - 1) / NR) * NR * chunk) << 2);
    const runs = align64(<usize>(chunk + 2) * SEG_BYTES);
    const panelA = align64(<usize>(((T * Cg + MR - 1) / MR) * MR * chunk) << 2);
    return <f64>(staged + runs + panelA + tile);
  }
  if (mode == CONV_WINOGRAD) return <f64>winogradScratch(C, O);
  if (mode == CONV_DEPTHWISE_DATA) return <f64>align64(<usize>T * 8);
  if (mode == CONV_DEPTHWISE_FILTER) return <f64>(align64(<usize>(C * chunk) << 2) + align64(<usize>(chunk + 2) * SEG_BYTES));
  return 0;
}

/** Runs part `part` of the conv job at `desc` (a ConvJob) with scratch slot `slot`. */
export function convPart(desc: usize, part: i32, slot: i32): void {
  switch (u(desc, ConvJob.mode)) {
    case CONV_PACK_FORWARD: packForward(desc); break;
    case CONV_FORWARD: forwardPart(desc, part, slot); break;
    case CONV_PACK_DATA: packData(desc); break;
    case CONV_DATA: dataPart(desc, part, slot); break;
    case CONV_FILTER: convFilterPart(desc, part, slot); break;
    case CONV_FILTER_REDUCE: convFilterReducePart(desc, part); break;
    case CONV_DEPTHWISE: depthwisePart(desc, part); break;
    case CONV_DEPTHWISE_DATA: depthwiseDataPart(desc, part, slot); break;
    case CONV_DEPTHWISE_FILTER: depthwiseFilterPart(desc, part, slot); break;
    case CONV_PACK_WINOGRAD: winogradPack(desc, false); break;
    case CONV_PACK_WINOGRAD_DATA: winogradPack(desc, true); break;
    case CONV_WINOGRAD: winogradPart(desc, part, slot); break;
    default: break;
  }
}

/** Filter [T·Cg, O] → per group, 8-column panels [k][8] of its Og columns (zero-padded). */
function packForward(desc: usize): void {
  const w = ptr(desc, ConvJob.w), packed = ptr(desc, ConvJob.packed);
  const O = u(desc, ConvJob.O), G = u(desc, ConvJob.groups), Cg = u(desc, ConvJob.C) / G, Og = O / G;
  const K = u(desc, ConvJob.Kh) * u(desc, ConvJob.Kw) * Cg;
  const np = (Og + NR - 1) / NR;
  let d = packed;
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < np; j++) {
      const nr = min(NR, Og - j * NR);
      let src = w + (<usize>(g * Og + j * NR) << 2);
      for (let k = 0; k < K; k++, src += <usize>O << 2, d += NR * 4) {
        if (nr == NR) {
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
        } else {
          v128.store(d, f32x4.splat(0));
          v128.store(d, f32x4.splat(0), 16);
          for (let c = 0; c < nr; c++) store<f32>(d + (<usize>c << 2), load<f32>(src + (<usize>c << 2)));
        }
      }
    }
  }
}

/** Filter → per group, panels of 8 input channels over k = (tap, o): [tap·Og + o][8]. */
function packData(desc: usize): void {
  const w = ptr(desc, ConvJob.w), packed = ptr(desc, ConvJob.packed);
  const O = u(desc, ConvJob.O), G = u(desc, ConvJob.groups), Cg = u(desc, ConvJob.C) / G, Og = O / G;
  const T = u(desc, ConvJob.Kh) * u(desc, ConvJob.Kw);
  const np = (Cg + NR - 1) / NR;
  let d = packed;
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < np; j++) {
      for (let t = 0; t < T; t++) {
        for (let o = 0; o < Og; o++, d += NR * 4) {
          for (let c = 0; c < NR; c++) {
            const ci = j * NR + c;
            store<f32>(d + (<usize>c << 2), ci < Cg ? load<f32>(w + (<usize>((t * Cg + ci) * O + g * Og + o) << 2)) : 0);
          }
        }
      }
    }
  }
}

/** Applies the activation to `rows` rows of 8 floats (row stride ld bytes). */
function activateRows(c: usize, ld: usize, rows: i32, act: i32): void {
  for (let r = 0; r < rows; r++, c += ld) {
    v128.store(c, activate4(act, v128.load(c)));
    v128.store(c, activate4(act, v128.load(c, 16)), 16);
  }
}

function forwardPart(desc: usize, part: i32, slot: i32): void {
  const x = ptr(desc, ConvJob.x), out = ptr(desc, ConvJob.out), bias = ptr(desc, ConvJob.bias);
  const packed = ptr(desc, ConvJob.packed), zero = ptr(desc, ConvJob.zero);
  const N = u(desc, ConvJob.N), H = u(desc, ConvJob.H), W = u(desc, ConvJob.W), C = u(desc, ConvJob.C);
  const Ho = u(desc, ConvJob.Ho), Wo = u(desc, ConvJob.Wo), O = u(desc, ConvJob.O);
  const Kh = u(desc, ConvJob.Kh), Kw = u(desc, ConvJob.Kw), sh = u(desc, ConvJob.sh), sw = u(desc, ConvJob.sw);
  const dh = u(desc, ConvJob.dh), dw = u(desc, ConvJob.dw), pt = u(desc, ConvJob.padTop), pl = u(desc, ConvJob.padLeft);
  const G = u(desc, ConvJob.groups), act = u(desc, ConvJob.act), indirect = u(desc, ConvJob.indirect) != 0;
  const Cg = C / G, Og = O / G, T = Kh * Kw, np = (Og + NR - 1) / NR;
  const M = N * Ho * Wo, tiles = (M + MR - 1) / MR, parts = u(desc, ConvJob.parts);
  const t0 = partStart(tiles, parts, part, 1), t1 = partStart(tiles, parts, part + 1, 1);
  if (t0 >= t1) return;
  const scratch = ptr(desc, ConvJob.scratch) + <usize>slot * ptr(desc, ConvJob.scratchPart);
  const segs = scratch;
  const rows = segs + <usize>(T + 1) * SEG_BYTES;
  const panelA = segs + align64(<usize>(T + 1) * SEG_BYTES + ROW_INFO_BYTES);
  const tile = panelA + align64(<usize>(T * Cg * MR) << 2);
  const biasPad = tile + align64(<usize>(MR * NR) << 2);
  const rowSegs = biasPad + align64(<usize>(G * np * NR) << 2); // T records: one output row's segments (grey or rowSegments)
  padBias(biasPad, bias, G, Og);
  // Rows merge into one segment per filter row where the filter row is contiguous in x.
  const mergeRows = G == 1 && dw == 1;
  // One input channel at stride 1 across (a grey first layer): see greySegments.
  const grey = !indirect && C == 1 && sw == 1, span = MR + (Kw - 1) * dw;
  let rowKey = -1, rowCount = 0;
  const ldo = <usize>O << 2;
  // The tile's first pixel (n0, oh0, ow0), stepped MR pixels per tile (no divisions in the loop).
  let n0 = (t0 * MR) / (Ho * Wo), oh0 = ((t0 * MR) % (Ho * Wo)) / Wo, ow0 = (t0 * MR) % Wo;
  for (let tl = t0; tl < t1; tl++) {
    if (tl > t0) {
      ow0 += MR;
      while (ow0 >= Wo) { ow0 -= Wo; if (++oh0 == Ho) { oh0 = 0; n0++; } }
    }
    const m0 = tl * MR, R = min(MR, M - m0);
    let tileSegs = segs, aOff: usize = 0, aStep = <usize>MR << 2, nseg = -1;
    if (grey && ow0 + R <= Wo) {
      // The tile lies in one output row: its windows start at input column iw0 of rows ihb + kh·dh.
      const ihb = oh0 * sh - pt, iw0 = ow0 - pl;
      aStep = <usize>dw << 2;
      if (iw0 >= 0 && iw0 + R + (Kw - 1) * dw <= W) {
        // Inside across: the row's segments (built once per output row) read x in place, offset to iw0.
        if (n0 * Ho + oh0 != rowKey) {
          rowCount = greySegments(rowSegs, x, 0, n0 * H, ihb, 0, R, H, W, Kh, Kw, dh, dw, false);
          rowKey = n0 * Ho + oh0;
        }
        tileSegs = rowSegs; nseg = rowCount; aOff = <usize>iw0 << 2;
      } else if (span <= Kw * MR) {
        nseg = greySegments(segs, x, panelA, n0 * H, ihb, iw0, R, H, W, Kh, Kw, dh, dw, true);
      }
    }
    // A tile in one output row with every tap inside across reads its row's segments (built once, at input
    // column 0) offset to its first window's column; group g adds its channel offset.
    const iwt = ow0 * sw - pl;
    const rowTile = indirect && ow0 + R <= Wo && iwt >= 0 && iwt + (R - 1) * sw + (Kw - 1) * dw < W;
    if (rowTile) {
      if (n0 * Ho + oh0 != rowKey) {
        rowCount = rowSegments(rowSegs, x, n0 * H, oh0 * sh - pt, H, W, C, Cg, Kh, Kw, dh, dw, sw, mergeRows);
        rowKey = n0 * Ho + oh0;
      }
      tileSegs = rowSegs; nseg = rowCount; aOff = (<usize>iwt * C) << 2;
    } else if (nseg < 0) {
      aStep = <usize>MR << 2;
      // Decode the tile's pixels once (one division each way, then steps).
      let n = n0, oh = oh0, ow = ow0;
      for (let r = 0; r < R; r++) {
        const at = rows + <usize>r * 12;
        store<i32>(at, n * H);
        store<i32>(at, oh * sh - pt, 4);
        store<i32>(at, ow * sw - pl, 8);
        if (++ow == Wo) { ow = 0; if (++oh == Ho) { oh = 0; n++; } }
      }
    }
    const gather = !indirect && nseg < 0;
    for (let g = 0; g < G; g++) {
      if (indirect && !rowTile) nseg = forwardSegments(segs, rows, x, zero, R, g, H, W, C, Kh, Kw, dh, dw, Cg, mergeRows);
      else if (gather) { nseg = 1; gatherForward(segs, panelA, rows, R, x, g, H, W, C, Kh, Kw, dh, dw, Cg); }
      const gOff = rowTile ? aOff + (<usize>(g * Cg) << 2) : aOff;
      for (let j = 0; j < np; j++) {
        const panel = packed + (<usize>((g * np + j) * T * Cg * NR) << 2);
        const init = biasPad + (<usize>((g * np + j) * NR) << 2);
        const nr = min(NR, Og - j * NR);
        const dst = out + ((<usize>m0 * O + g * Og + j * NR) << 2);
        if (nr == NR) {
          if (indirect) kernelInd(R, tileSegs, nseg, panel, gOff, init, 0, dst, ldo);
          else kernelStr(R, tileSegs, nseg, panel, aOff, aStep, init, 0, dst, ldo);
          if (act != ACT_NONE) activateRows(dst, ldo, R, act);
        } else {
          if (indirect) kernelInd(R, tileSegs, nseg, panel, gOff, init, 0, tile, NR * 4);
          else kernelStr(R, tileSegs, nseg, panel, aOff, aStep, init, 0, tile, NR * 4);
          if (act != ACT_NONE) activateRows(tile, NR * 4, R, act);
          copyRows(tile, NR * 4, dst, ldo, R, nr);
        }
      }
    }
  }
}

/**
 * One input channel at stride 1 across (a first layer on grey images): the
 * pixels of one output row see consecutive floats of each input row, so for
 * a tile in one output row the im2col panel [k][MR] *is* an input row: per
 * filter row, one str segment of Kw steps (rows 4 bytes apart, steps dw
 * floats). Where the windows lie inside the input across, the segments read
 * x in place (the caller builds them once per output row at column 0 and
 * offsets them to each tile); where they cross the left or right edge
 * (`padded`), they read a copy of the span at `lines`, zeros for padding.
 * Filter rows in the top or bottom padding are dropped. Returns the count.
 */
function greySegments(segs: usize, x: usize, lines: usize, nH: i32, ihb: i32, iw0: i32, R: i32,
  H: i32, W: i32, Kh: i32, Kw: i32, dh: i32, dw: i32, padded: bool): i32 {
  const span = R + (Kw - 1) * dw;
  let nseg = 0, line = lines;
  for (let kh = 0; kh < Kh; kh++) {
    const ih = ihb + kh * dh;
    if (ih < 0 || ih >= H) continue;
    const row = x + ((<usize>(nH + ih) * W) << 2);
    let a = row + (<usize>max(iw0, 0) << 2);
    if (padded) {
      // The span [iw0, iw0 + span) clipped to [0, W): zeros before, the row's floats, zeros after.
      // (Loops, not memory.fill/copy: a span is a few floats, and each bulk call costs more than it moves.)
      // (The leading zeros are capped at the span: a tile can lie wholly in a wide left padding.)
      const lo = max(iw0, 0), hi = max(min(iw0 + span, W), lo), lead = min(lo - iw0, span);
      let i = 0;
      for (; i < lead; i++) store<f32>(line + (<usize>i << 2), 0);
      for (let iw = lo; iw < hi; iw++, i++) store<f32>(line + (<usize>i << 2), load<f32>(row + (<usize>iw << 2)));
      for (; i < span; i++) store<f32>(line + (<usize>i << 2), 0);
      a = line;
      line += <usize>span << 2;
    }
    const rec = segs + (<usize>nseg << 5);
    store<u32>(rec, <u32>(kh * Kw) << 5);
    store<i32>(rec, Kw, 4);
    store<u32>(rec, <u32>a, 8);
    nseg++;
  }
  return nseg;
}

/**
 * The segments of output row (n, oh) for its tiles whose taps all lie inside
 * the input across, as if the tile's first window started at input column 0
 * and for group 0: the caller offsets them to the tile's column and group.
 * Row r of a tile reads row 0's input moved r·sw pixels. One record per
 * filter row (Kw·Cg steps) where `merge`, else one per tap (Cg steps);
 * filter rows in the top or bottom padding are dropped. Returns the count.
 */
function rowSegments(segs: usize, x: usize, nH: i32, ihb: i32, H: i32, W: i32, C: i32, Cg: i32,
  Kh: i32, Kw: i32, dh: i32, dw: i32, sw: i32, merge: bool): i32 {
  const taps = merge ? 1 : Kw;
  let nseg = 0;
  for (let kh = 0; kh < Kh; kh++) {
    const ih = ihb + kh * dh;
    if (ih < 0 || ih >= H) continue;
    const row = x + ((<usize>(nH + ih) * W * C) << 2);
    for (let kq = 0; kq < taps; kq++, nseg++) {
      const rec = segs + (<usize>nseg << 5);
      store<u32>(rec, <u32>((kh * Kw + kq) * Cg) << 5);
      store<i32>(rec, merge ? Kw * Cg : Cg, 4);
      for (let r = 0; r < MR; r++) store<u32>(rec + 8 + (<usize>r << 2), <u32>(row + (<usize>((kq * dw + r * sw) * C) << 2)));
    }
  }
  return nseg;
}

/**
 * Few channels per group: the tile's im2col rows gathered straight into a
 * packed panel [k][MR] (zeros for padding), one str segment reading it.
 */
function gatherForward(segs: usize, panel: usize, rows: usize, R: i32, x: usize, g: i32,
  H: i32, W: i32, C: i32, Kh: i32, Kw: i32, dh: i32, dw: i32, Cg: i32): void {
  const step = <usize>MR << 2;
  for (let r = 0; r < R; r++) {
    const at = rows + <usize>r * 12;
    const nH = load<i32>(at), ihb = load<i32>(at, 4), iwb = load<i32>(at, 8);
    let d = panel + (<usize>r << 2);
    for (let kh = 0; kh < Kh; kh++) {
      const ih = ihb + kh * dh;
      const rowOk = ih >= 0 && ih < H;
      const row = x + ((((<usize>nH + ih) * W) * C + g * Cg) << 2);
      for (let kw = 0; kw < Kw; kw++) {
        const iw = iwb + kw * dw;
        if (rowOk && iw >= 0 && iw < W) {
          let src = row + ((<usize>iw * C) << 2);
          for (let ci = 0; ci < Cg; ci++, src += 4, d += step) store<f32>(d, load<f32>(src));
        } else {
          for (let ci = 0; ci < Cg; ci++, d += step) store<f32>(d, 0);
        }
      }
    }
  }
  store<u32>(segs, 0);
  store<i32>(segs, Kh * Kw * Cg, 4);
  store<u32>(segs, <u32>panel, 8);
}

/**
 * The segments of the tile's R output pixels (their windows at `rows`) for
 * group g; returns their count. One record per tap (Cg steps at the tap's
 * input pixel), or per filter row (Kw·Cg steps) where `merge` and every row's
 * window lies inside the input across. Rows whose tap is padding read `zero`;
 * all-padding taps are dropped.
 */
function forwardSegments(segs: usize, rows: usize, x: usize, zero: usize, R: i32, g: i32,
  H: i32, W: i32, C: i32, Kh: i32, Kw: i32, dh: i32, dw: i32, Cg: i32, merge: bool): i32 {
  let nseg = 0;
  for (let kh = 0; kh < Kh; kh++) {
    // Which rows see a real input row, and whether all their windows lie inside across.
    let anyRow = false, inside = merge;
    for (let r = 0; r < R; r++) {
      const at = rows + <usize>r * 12;
      const ih = load<i32>(at, 4) + kh * dh;
      if (ih < 0 || ih >= H) continue;
      anyRow = true;
      const iw0 = load<i32>(at, 8);
      if (iw0 < 0 || iw0 + (Kw - 1) * dw >= W) inside = false;
    }
    if (!anyRow) continue;
    const kwSteps = inside ? 1 : Kw;
    for (let kq = 0; kq < kwSteps; kq++) {
      const rec = segs + (<usize>nseg << 5);
      let any = false;
      for (let r = 0; r < MR; r++) {
        let p = zero;
        if (r < R) {
          const at = rows + <usize>r * 12;
          const ih = load<i32>(at, 4) + kh * dh, iw = load<i32>(at, 8) + kq * dw;
          if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
            p = x + ((((<usize>load<i32>(at) + ih) * W + iw) * C + g * Cg) << 2);
            any = true;
          }
        }
        store<u32>(rec + 8 + (<usize>r << 2), <u32>p);
      }
      if (!any) continue;
      store<u32>(rec, <u32>((kh * Kw + kq) * Cg) << 5);
      store<i32>(rec, inside ? Kw * Cg : Cg, 4);
      nseg++;
    }
  }
  return nseg;
}

function dataPart(desc: usize, part: i32, slot: i32): void {
  const dy = ptr(desc, ConvJob.x), dx = ptr(desc, ConvJob.out);
  const packed = ptr(desc, ConvJob.packed), zero = ptr(desc, ConvJob.zero);
  const N = u(desc, ConvJob.N), H = u(desc, ConvJob.H), W = u(desc, ConvJob.W), C = u(desc, ConvJob.C);
  const Ho = u(desc, ConvJob.Ho), Wo = u(desc, ConvJob.Wo), O = u(desc, ConvJob.O);
  const Kh = u(desc, ConvJob.Kh), Kw = u(desc, ConvJob.Kw), sh = u(desc, ConvJob.sh), sw = u(desc, ConvJob.sw);
  const dh = u(desc, ConvJob.dh), dw = u(desc, ConvJob.dw), pt = u(desc, ConvJob.padTop), pl = u(desc, ConvJob.padLeft);
  const G = u(desc, ConvJob.groups), indirect = u(desc, ConvJob.indirect) != 0;
  const Cg = C / G, Og = O / G, T = Kh * Kw, np = (Cg + NR - 1) / NR;
  const scratch = ptr(desc, ConvJob.scratch) + <usize>slot * ptr(desc, ConvJob.scratchPart);
  const segs = scratch;
  const rows = segs + <usize>(T + 1) * SEG_BYTES;
  const panelA = segs + align64(<usize>(T + 1) * SEG_BYTES + ROW_INFO_BYTES);
  const tile = panelA + align64(<usize>(T * Og * MR) << 2);
  // Tiles are numbered class by class (row residue a, column residue b).
  let total = 0;
  for (let a = 0; a < sh; a++) for (let b = 0; b < sw; b++) total += (classPixels(N, H, W, sh, sw, pt, pl, a, b) + MR - 1) / MR;
  const parts = u(desc, ConvJob.parts);
  const t0 = partStart(total, parts, part, 1), t1 = partStart(total, parts, part + 1, 1);
  let base = 0;
  for (let a = 0; a < sh; a++) {
    for (let b = 0; b < sw; b++) {
      const count = classPixels(N, H, W, sh, sw, pt, pl, a, b);
      const tiles = (count + MR - 1) / MR;
      const lo = max(t0 - base, 0), hi = min(t1 - base, tiles);
      base += tiles;
      if (lo >= hi) continue;
      const ih0 = residueStart(a, pt, sh), iw0 = residueStart(b, pl, sw);
      const Hc = ih0 < H ? (H - ih0 + sh - 1) / sh : 0, Wc = iw0 < W ? (W - iw0 + sw - 1) / sw : 0;
      for (let tl = lo; tl < hi; tl++) {
        const q0 = tl * MR, R = min(MR, count - q0);
        // Decode the tile's pixels once: image, input row and column of each.
        let n = q0 / (Hc * Wc), rem = q0 % (Hc * Wc), i = rem / Wc, jj = rem % Wc;
        for (let r = 0; r < R; r++) {
          const at = rows + <usize>r * 12;
          store<i32>(at, n);
          store<i32>(at, ih0 + i * sh, 4);
          store<i32>(at, iw0 + jj * sw, 8);
          if (++jj == Wc) { jj = 0; if (++i == Hc) { i = 0; n++; } }
        }
        for (let g = 0; g < G; g++) {
          let nseg = 0;
          for (let kh = 0; kh < Kh; kh++) {
            if ((kh * dh) % sh != a) continue;
            for (let kw = 0; kw < Kw; kw++) {
              if ((kw * dw) % sw != b) continue;
              const rec = segs + (<usize>nseg << 5);
              let any = false;
              for (let r = 0; r < MR; r++) {
                let p = zero;
                if (r < R) {
                  const at = rows + <usize>r * 12;
                  const nh = load<i32>(at, 4) + pt - kh * dh, nw = load<i32>(at, 8) + pl - kw * dw;
                  if (nh >= 0 && nw >= 0) {
                    // nh, nw are multiples of the strides here (the class's taps).
                    const oh = nh / sh, ow = nw / sw;
                    if (oh < Ho && ow < Wo) {
                      p = dy + ((((<usize>load<i32>(at) * Ho + oh) * Wo + ow) * O + g * Og) << 2);
                      any = true;
                    }
                  }
                }
                store<u32>(rec + 8 + (<usize>r << 2), <u32>p);
              }
              if (!any) continue;
              store<u32>(rec, <u32>((kh * Kw + kw) * Og) << 5);
              store<i32>(rec, Og, 4);
              nseg++;
            }
          }
          if (!indirect) nseg = gatherSegments(segs, nseg, R, panelA);
          for (let j = 0; j < np; j++) {
            const panel = packed + (<usize>((g * np + j) * T * Og * NR) << 2);
            if (indirect) kernelInd(R, segs, nseg, panel, 0, zero, 0, tile, NR * 4);
            else kernelStr(R, segs, nseg, panel, 0, <usize>MR << 2, zero, 0, tile, NR * 4);
            const nr = min(NR, Cg - j * NR);
            for (let r = 0; r < R; r++) {
              const at = rows + <usize>r * 12;
              const pix = (<usize>load<i32>(at) * H + load<i32>(at, 4)) * W + load<i32>(at, 8);
              memory.copy(dx + ((pix * C + g * Cg + j * NR) << 2), tile + (<usize>r << 5), <usize>nr << 2);
            }
          }
        }
      }
    }
  }
}

/** The first row (column) ≥ 0 whose index + pad ≡ a (mod s). */
// @ts-ignore: decorator
@inline function residueStart(a: i32, pad: i32, s: i32): i32 { return ((a - pad) % s + s) % s; }

/** Input pixels of residue class (a, b). */
function classPixels(N: i32, H: i32, W: i32, sh: i32, sw: i32, pt: i32, pl: i32, a: i32, b: i32): i32 {
  const ih0 = residueStart(a, pt, sh), iw0 = residueStart(b, pl, sw);
  const Hc = ih0 < H ? (H - ih0 + sh - 1) / sh : 0, Wc = iw0 < W ? (W - iw0 + sw - 1) / sw : 0;
  return N * Hc * Wc;
}
