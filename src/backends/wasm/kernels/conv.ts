// The convolution family on WASM (kernels-as/conv*.ts): the forward and the
// input gradient as indirect GEMMs (the filter packed once per call by a
// one-part job, then the pixel tiles split over the threads), depthwise
// convolutions on their own kernels, and the filter gradient as per-thread
// partials over the pixels, added by a last job.
import { ACTIVATIONS } from '../../primitives/activation.js';
import {
  CONV, ConvJob, convSizes, isDepthwise, useWinograd, type Conv2dParams, type ConvBackwardDataParams, type ConvBackwardFilterParams, type ConvGeometry,
} from '../../primitives/conv.js';
import { BINARY_OPS } from '../../primitives/elementwise.js';
import type { Values } from '../../primitives/declare.js';
import { WHO, type WasmHandle, type WasmRuntime } from '../runtime.js';
import { binary } from './elementwise.js';

/**
 * Channels per group from which the input is read in place (indirect);
 * below it the tile's rows are gathered into a panel (a tap of a few
 * channels costs more in pointer set-up than in multiply-adds).
 */
const INDIRECT_FROM = 8;
/** Pixels per staged chunk of the filter gradient (dZ panels stay in L1: 128 × 32 bytes per panel). */
const CHUNK = 128;
const NR = 8;

type Job = Values<typeof ConvJob.fields>;

const align64 = (n: number) => Math.ceil(n / 64) * 64;

/**
 * The Winograd sums stay finite where the direct product's do: every input and filter value is finite and
 * 81·C·max|x|·max|w| (the largest output-transform sum) is below f32's range. Otherwise (±inf, NaN, values near
 * the range) the transforms could give inf − inf = NaN or overflow where the direct product gives a number.
 * The scan is a second pass over x (~4% of a small forward); checking each tile's window in the input
 * transform, which reads x anyway, and computing only the flagged tiles directly would avoid it.
 */
function winogradSafe(rt: WasmRuntime, x: WasmHandle, nx: number, w: WasmHandle, nw: number, C: number): boolean {
  const X = rt.k.convAbsMax(x.ptr, nx), W = rt.k.convAbsMax(w.ptr, nw);
  return 81 * C * X * W < 1e38; // false for NaN
}

function baseJob(p: ConvGeometry): Job {
  return {
    mode: 0, x: 0, w: 0, bias: 0, out: 0, t: 0, pro: 0, act: 0, sumB: 0, dzOut: 0, packed: 0, zero: 0,
    scratch: 0, scratchPart: 0, parts: 1, indirect: 0,
    N: p.N, H: p.H, W: p.W, C: p.C, Ho: p.Ho, Wo: p.Wo, O: p.O, Kh: p.Kh, Kw: p.Kw,
    sh: p.sh, sw: p.sw, dh: p.dh, dw: p.dw, padTop: p.padTop, padLeft: p.padLeft, groups: p.groups, chunk: 0,
  };
}

/** Scratch laid out as [shared bytes][zeroed block][one slot per thread]; runs `body` with the addresses. */
function withLayout(rt: WasmRuntime, shared: number, zeroFloats: number, perSlot: number, slots: number,
  body: (shared: number, zero: number, slots: number) => void): void {
  const a = align64(shared), z = align64(zeroFloats * 4), s = align64(perSlot);
  rt.withScratch(a + z + s * slots + 64, (base) => {
    const at = Math.ceil(base / 64) * 64;
    if (zeroFloats > 0) rt.mem.f32.fill(0, (at + a) / 4, (at + a) / 4 + zeroFloats);
    body(at, at + a, at + a + z);
  });
}

/**
 * A 3×3 stride-1 convolution by Winograd F(2×2, 3×3) (useWinograd holds for `p`): the filter
 * transformed by `pack` (as is, or flipped and transposed for an input gradient), then the tiles.
 */
function winograd(rt: WasmRuntime, job: Job, p: ConvGeometry, work: number, pack: number): void {
  const groups = Math.ceil(p.N * Math.ceil(p.Ho / 2) * Math.ceil(p.Wo / 2) / rt.k.convTileRows());
  const parts = rt.partsFor(work, groups);
  const perSlot = rt.k.convScratch(CONV.codes.winograd, p.C, p.O, 3, 3, 1, 0);
  withLayout(rt, Math.ceil(p.O / NR) * NR * 16 * p.C * 4, NR, perSlot, parts > 1 ? rt.threads : 1, (pk, zero, scratch) => {
    const j = { ...job, packed: pk, zero, scratch, scratchPart: align64(perSlot) };
    rt.job('conv', ConvJob, { ...j, mode: pack }, 1);
    rt.job('conv', ConvJob, { ...j, mode: CONV.codes.winograd, parts }, parts);
  });
}

export function conv2d(rt: WasmRuntime, x: WasmHandle, w: WasmHandle, bias: WasmHandle | null, out: WasmHandle, p: Conv2dParams): void {
  const s = convSizes(p, WHO);
  const act = ACTIVATIONS[p.act];
  if (act === undefined) throw new Error(`${WHO}: conv2d: unknown activation ${p.act}`);
  rt.check(out, s.y, 'conv2d out');
  if (s.y === 0) return;
  rt.check(x, s.x, 'conv2d x');
  rt.check(w, s.w, 'conv2d w');
  if (bias) rt.check(bias, p.O, 'conv2d bias');
  const job = { ...baseJob(p), x: x.ptr, w: w.ptr, bias: bias ? bias.ptr : 0, out: out.ptr, act };
  const M = p.N * p.Ho * p.Wo, Cg = p.C / p.groups, Og = p.O / p.groups, T = p.Kh * p.Kw;
  const work = 2 * M * p.O * T * Cg;
  if (isDepthwise(p)) {
    const parts = rt.partsFor(work, M);
    rt.job('conv', ConvJob, { ...job, mode: CONV.codes.depthwise, parts }, parts);
    return;
  }
  if (useWinograd(p) && winogradSafe(rt, x, s.x, w, s.w, p.C)) return winograd(rt, job, p, work, CONV.codes.packWinograd);
  const tiles = Math.ceil(M / rt.k.convTileRows());
  const parts = rt.partsFor(work, tiles);
  const packed = p.groups * Math.ceil(Og / NR) * NR * T * Cg * 4;
  const perSlot = rt.k.convScratch(CONV.codes.forward, p.C, p.O, p.Kh, p.Kw, p.groups, 0);
  withLayout(rt, packed, Math.max(p.Kw * p.C, NR), perSlot, parts > 1 ? rt.threads : 1, (pk, zero, scratch) => {
    const j = { ...job, packed: pk, zero, scratch, scratchPart: align64(perSlot), indirect: +(Cg >= INDIRECT_FROM) };
    rt.job('conv', ConvJob, { ...j, mode: CONV.codes.packForward }, 1);
    rt.job('conv', ConvJob, { ...j, mode: CONV.codes.forward, parts }, parts);
  });
}

/** dy read as op(t, dy) when a prologue is given: formed once here (the ops layer avoids asking for it). */
function withPrologue(rt: WasmRuntime, dy: WasmHandle, n: number, pro: ConvBackwardDataParams<WasmHandle>['prologue'],
  body: (g: WasmHandle) => void): void {
  if (!pro) return body(dy);
  rt.check(pro.t, n, 'conv2d prologue t');
  const dz = rt.alloc(n);
  try {
    binary(rt, pro.op, pro.t, dy, dz, { shape: [n], aStrides: [1], bStrides: [1] });
    body(dz);
  } finally {
    rt.free(dz);
  }
}

export function conv2dBackwardData(rt: WasmRuntime, dy: WasmHandle, w: WasmHandle, dx: WasmHandle, p: ConvBackwardDataParams<WasmHandle>): void {
  const s = convSizes(p, WHO);
  rt.check(dx, s.x, 'conv2d backward-data dx');
  if (s.x === 0) return;
  rt.check(dy, s.y, 'conv2d backward-data dy');
  rt.check(w, s.w, 'conv2d backward-data w');
  const Cg = p.C / p.groups, Og = p.O / p.groups, T = p.Kh * p.Kw;
  const pixels = p.N * p.H * p.W;
  const work = 2 * p.N * p.Ho * p.Wo * p.O * T * Cg;
  withPrologue(rt, dy, s.y, p.prologue, (g) => {
    const job = { ...baseJob(p), x: g.ptr, w: w.ptr, out: dx.ptr };
    if (isDepthwise(p)) {
      const parts = rt.partsFor(work, pixels);
      const perSlot = rt.k.convScratch(CONV.codes.depthwiseData, p.C, p.O, p.Kh, p.Kw, p.groups, 0);
      withLayout(rt, 0, 0, perSlot, parts > 1 ? rt.threads : 1, (_, __, scratch) => rt.job('conv', ConvJob, {
        ...job, mode: CONV.codes.depthwiseData, parts, scratch, scratchPart: align64(perSlot),
      }, parts));
      return;
    }
    // Stride 1: dx is the convolution of dy with the filter turned 180° and transposed (in O, out C),
    // padded 2 − pad (the output is the input's size): a forward, on the Winograd path where it applies.
    const q: ConvGeometry = { ...p, H: p.Ho, W: p.Wo, C: p.O, Ho: p.H, Wo: p.W, O: p.C, padTop: 2 - p.padTop, padLeft: 2 - p.padLeft };
    if (p.padTop <= 2 && p.padLeft <= 2 && useWinograd(q) && winogradSafe(rt, g, s.y, w, s.w, p.O)) {
      return winograd(rt, { ...baseJob(q), x: g.ptr, w: w.ptr, out: dx.ptr }, q, work, CONV.codes.packWinogradData);
    }
    const parts = rt.partsFor(work, Math.ceil(pixels / rt.k.convTileRows()));
    const packed = p.groups * Math.ceil(Cg / NR) * NR * T * Og * 4;
    const perSlot = rt.k.convScratch(CONV.codes.data, p.C, p.O, p.Kh, p.Kw, p.groups, 0);
    withLayout(rt, packed, Math.max(Og, NR), perSlot, parts > 1 ? rt.threads : 1, (pk, zero, scratch) => {
      const j = { ...job, packed: pk, zero, scratch, scratchPart: align64(perSlot), indirect: +(Og >= INDIRECT_FROM) };
      rt.job('conv', ConvJob, { ...j, mode: CONV.codes.packData }, 1);
      rt.job('conv', ConvJob, { ...j, mode: CONV.codes.data, parts }, parts);
    });
  });
}

export function conv2dBackwardFilter(rt: WasmRuntime, x: WasmHandle, dy: WasmHandle, dw: WasmHandle, p: ConvBackwardFilterParams<WasmHandle>): void {
  const s = convSizes(p, WHO);
  rt.check(dw, s.w, 'conv2d backward-filter dw');
  if (p.sumB) rt.check(p.sumB, p.O, 'conv2d backward-filter sumB');
  if (p.dzOut) rt.check(p.dzOut, s.y, 'conv2d backward-filter dzOut');
  if (s.w === 0 && !p.sumB && !p.dzOut) return;
  if (s.y > 0) rt.check(dy, s.y, 'conv2d backward-filter dy');
  if (s.x > 0) rt.check(x, s.x, 'conv2d backward-filter x');
  const pro = p.prologue ?? null;
  if (pro) rt.check(pro.t, s.y, 'conv2d backward-filter prologue t');
  const Cg = p.C / p.groups, T = p.Kh * p.Kw;
  const M = p.N * p.Ho * p.Wo;
  const depthwise = isDepthwise(p);
  const parts = rt.partsFor(2 * M * p.O * T * Cg, Math.ceil(M / 16));
  const mode = depthwise ? CONV.codes.depthwiseFilter : CONV.codes.filter;
  const partial = rt.k.convPartialBytes(T, Cg, p.O);
  const perSlot = rt.k.convScratch(mode, p.C, p.O, p.Kh, p.Kw, p.groups, CHUNK);
  withLayout(rt, partial * parts, 0, perSlot, parts > 1 ? rt.threads : 1, (partials, _, scratch) => {
    const job = {
      ...baseJob(p), x: x.ptr, w: dy.ptr, out: dw.ptr, t: pro ? pro.t.ptr : 0, pro: pro ? BINARY_OPS[pro.op] : 0,
      sumB: p.sumB ? p.sumB.ptr : 0, dzOut: p.dzOut ? p.dzOut.ptr : 0, packed: partials, scratch,
      scratchPart: align64(perSlot), indirect: +(Cg >= 4), chunk: CHUNK,
    };
    rt.job('conv', ConvJob, { ...job, mode, parts }, parts);
    // The sum of the partials: `chunk` carries their count.
    const rparts = rt.partsFor(s.w * parts * 40, Math.ceil(s.w / 16));
    rt.job('conv', ConvJob, { ...job, mode: CONV.codes.filterReduce, chunk: parts, parts: rparts }, rparts);
  });
}
