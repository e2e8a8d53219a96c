// Dispatch of the convolution family (kernels-wgsl/conv.wgsl): register
// blocks of 4 pixels × 4·CN channels per invocation; depthwise forwards on
// their own entry point (conv-depthwise.wgsl: 4 channels × 4 pixels of a row);
// the filter gradient's pixel sum split into chunks (partials added by
// conv_filter_sum) when its blocks alone would leave the device idle.
import {
  checkAct, ConvDims, convSizes, isDepthwise, type Conv2dParams, type ConvBackwardDataParams, type ConvBackwardFilterParams, type ConvGeometry,
} from '../../primitives/conv.js';
import { BINARY_OPS } from '../../primitives/elementwise.js';
import { params, WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';

/** Invocations per workgroup. */
const WGC = 64;
/**
 * The filter gradient's split of its pixel sum: chunks are added until there
 * are `target` invocations, none shorter than `minChunk` pixels. @internal
 * Tests lower them to cover the partial sums on small problems.
 */
export const filterSplit = { target: { gpu: 16384, cpu: 512 }, minChunk: 64 };

const dims = (p: ConvGeometry, extra: { M: number; bx: number; chunk?: number; chunks?: number; total: number }) => params(ConvDims, {
  N: p.N, H: p.H, W: p.W, C: p.C, Ho: p.Ho, Wo: p.Wo, O: p.O, Kh: p.Kh, Kw: p.Kw, sh: p.sh, sw: p.sw, dh: p.dh, dw: p.dw,
  padTop: p.padTop, padLeft: p.padLeft, groups: p.groups, Cg: p.C / p.groups, Og: p.O / p.groups,
  chunk: 0, chunks: 1, ...extra,
});

/** Column groups of 4 per invocation: two where there are more than 4 channels to cover. */
const cn = (channels: number) => (channels > 4 ? 2 : 1);

export function conv2d(rt: GpuRuntime, x: GpuHandle, w: GpuHandle, bias: GpuHandle | null, out: GpuHandle, p: Conv2dParams): void {
  const s = convSizes(p, WHO);
  const act = checkAct(p.act, WHO);
  rt.check(out, s.y, 'conv2d out');
  if (s.y === 0) return;
  rt.check(x, s.x, 'conv2d x');
  rt.check(w, s.w, 'conv2d w');
  if (bias) rt.check(bias, p.O, 'conv2d bias');
  const flops = 2 * s.y * p.Kh * p.Kw * (p.C / p.groups);
  if (isDepthwise(p)) {
    // Channels fastest: bx blocks of 4 channels, then 4-pixel blocks of each output row.
    const bx = Math.ceil(p.C / 4), total = bx * p.N * p.Ho * Math.ceil(p.Wo / 4);
    rt.aliasSafe(out, [x, w, bias], s.y, (dst) => rt.dispatch(
      { file: 'conv', entry: 'conv_depthwise', constants: { WG: WGC, ACT: act, HAS_BIAS: bias !== null } },
      [x.buffer, w.buffer, bias?.buffer ?? rt.dummy, dst], Math.ceil(total / WGC), dims(p, { M: p.N * p.Ho * p.Wo, bx, total }), flops));
    return;
  }
  const Og = p.O / p.groups, M = p.N * p.Ho * p.Wo, CN = cn(Og);
  const bx = Math.ceil(Og / (4 * CN)), total = p.groups * Math.ceil(M / 4) * bx;
  rt.aliasSafe(out, [x, w, bias], s.y, (dst) => rt.dispatch(
    { file: 'conv', entry: 'conv_forward', constants: { WG: WGC, CN, ACT: act, HAS_BIAS: bias !== null } },
    [x.buffer, w.buffer, bias?.buffer ?? rt.dummy, dst], Math.ceil(total / WGC), dims(p, { M, bx, total }), flops));
}

export function conv2dBackwardData(rt: GpuRuntime, dy: GpuHandle, w: GpuHandle, dx: GpuHandle, p: ConvBackwardDataParams<GpuHandle>): void {
  const s = convSizes(p, WHO);
  rt.check(dx, s.x, 'conv2d backward-data dx');
  if (s.x === 0) return;
  rt.check(dy, s.y, 'conv2d backward-data dy');
  rt.check(w, s.w, 'conv2d backward-data w');
  const pro = p.prologue ?? null;
  if (pro) rt.check(pro.t, s.y, 'conv2d backward-data prologue t');
  const Cg = p.C / p.groups, pixels = p.N * p.H * p.W, CN = cn(Cg);
  const bx = Math.ceil(Cg / (4 * CN)), total = p.groups * Math.ceil(pixels / 4) * bx;
  rt.aliasSafe(dx, [dy, w, pro?.t ?? null], s.x, (dst) => rt.dispatch(
    { file: 'conv', entry: 'conv_data', constants: { WG: WGC, CN, PRO: pro ? BINARY_OPS[pro.op] : 0 } },
    [dy.buffer, w.buffer, pro?.t.buffer ?? rt.dummy, dst], Math.ceil(total / WGC), dims(p, { M: p.N * p.Ho * p.Wo, bx, total }),
    2 * s.y * p.Kh * p.Kw * Cg));
}

export function conv2dBackwardFilter(rt: GpuRuntime, x: GpuHandle, dy: GpuHandle, dw: GpuHandle, p: ConvBackwardFilterParams<GpuHandle>): void {
  const s = convSizes(p, WHO);
  rt.check(dw, s.w, 'conv2d backward-filter dw');
  const sumB = p.sumB ?? null, dzOut = p.dzOut ?? null, pro = p.prologue ?? null;
  if (sumB) rt.check(sumB, p.O, 'conv2d backward-filter sumB');
  if (dzOut) rt.check(dzOut, s.y, 'conv2d backward-filter dzOut');
  if (p.O === 0) return;
  rt.check(dy, s.y, 'conv2d backward-filter dy');
  rt.check(x, s.x, 'conv2d backward-filter x');
  if (pro) rt.check(pro.t, s.y, 'conv2d backward-filter prologue t');
  const Cg = p.C / p.groups, Og = p.O / p.groups, T = p.Kh * p.Kw, M = p.N * p.Ho * p.Wo, CN = cn(Og);
  const bx = Math.ceil(Og / (4 * CN));
  const blocks = p.groups * T * Math.max(1, Math.ceil(Cg / 4)) * bx;
  const target = rt.isFallbackAdapter ? filterSplit.target.cpu : filterSplit.target.gpu;
  const want = Math.max(1, Math.min(Math.ceil(target / blocks), Math.ceil(M / filterSplit.minChunk)));
  const chunk = Math.ceil(M / want), chunks = Math.max(1, Math.ceil(M / Math.max(chunk, 1)));
  const partial = chunks > 1;
  // Absent outputs bind small scratch buffers (two writable bindings may not share one buffer with a read-only one).
  const temps: GPUBuffer[] = [];
  const temp = (bytes: number) => { const b = rt.scratch(Math.max(bytes, 16)); temps.push(b); return b; };
  const dwTarget = partial ? temp(chunks * s.w * 4) : dw.buffer;
  const sumTarget = sumB ? (partial ? temp(chunks * p.O * 4) : sumB.buffer) : temp(16);
  rt.dispatch(
    { file: 'conv', entry: 'conv_filter', constants: {
      WG: WGC, CN, PRO: pro ? BINARY_OPS[pro.op] : 0, HAS_SUMB: sumB !== null, HAS_DZ: dzOut !== null, PARTIAL: partial,
    } },
    [x.buffer, dy.buffer, pro?.t.buffer ?? rt.dummy, dwTarget, sumTarget, dzOut?.buffer ?? temp(16)],
    Math.ceil((blocks * chunks) / WGC), dims(p, { M, bx, chunk, chunks, total: blocks * chunks }), 2 * s.y * T * Cg);
  if (partial) {
    const total = s.w + (sumB ? p.O : 0);
    rt.dispatch({ file: 'conv', entry: 'conv_filter_sum', constants: { WG: WGC, HAS_SUMB: sumB !== null } },
      [dwTarget, sumB ? sumTarget : temp(16), dw.buffer, sumB?.buffer ?? temp(16)], Math.ceil(total / WGC),
      dims(p, { M, bx, chunk, chunks, total }));
  }
  for (const b of temps) rt.release(b); // later users are recorded after these dispatches
}
