// 2-D max and average pooling over NHWC tensors, forward and backward.
// Kernels: kernels-wgsl/pool.wgsl, kernels-as/pool.ts. (The global average
// pool is the reduce kernel's mean of the middle axis of [N, H·W, C].)
import { codes, struct } from './declare.js';

/**
 * x [N, H, W, C] → y [N, Ho, Wo, C]; window (oh, ow) covers input rows
 * oh·sh − padTop + kh, kh < Kh (columns likewise). Positions outside the
 * input are padding: never the max, and zeros for the average. The padded
 * input spans rows −padTop … H + padTop − 1; in ceil mode (Ho, Wo rounded
 * up) the last windows may run past it, but each starts inside the input
 * or the top (left) padding.
 */
export interface PoolGeometry {
  N: number; H: number; W: number; C: number;
  Ho: number; Wo: number;
  Kh: number; Kw: number;
  sh: number; sw: number;
  padTop: number; padLeft: number;
  /** Max pooling's dilation: window tap kh reads row oh·sh − padTop + kh·dh (default 1; average pooling has none). */
  dh?: number; dw?: number;
}

export interface AvgPoolParams extends PoolGeometry {
  /**
   * Divide by the window's extent within the padded input (Kh·Kw, less what
   * a ceil-mode window has beyond it: PyTorch's count_include_pad = True)
   * instead of its count of real inputs.
   */
  countIncludePad: boolean;
}

export interface PoolKernels<H> {
  /**
   * y = the window maxima (NaN if the window holds one). `argmax` (or null)
   * receives each maximum's position in its window, kh·Kw + kw, as a float:
   * the first maximum, or the first NaN.
   */
  maxPool2d(x: H, out: H, argmax: H | null, p: PoolGeometry): void;
  /** dx: each dy element added to the input position its window's argmax names. */
  maxPool2dBackward(dy: H, argmax: H, dx: H, p: PoolGeometry): void;
  avgPool2d(x: H, out: H, p: AvgPoolParams): void;
  avgPool2dBackward(dy: H, dx: H, p: AvgPoolParams): void;
}

export function poolSizes(p: PoolGeometry, who: string, avg = false): { x: number; y: number } {
  if (avg && ((p.dh ?? 1) !== 1 || (p.dw ?? 1) !== 1)) throw new Error(`${who}: average pooling has no dilation, got ${JSON.stringify(p)}`);
  const v = [p.N, p.H, p.W, p.C, p.Ho, p.Wo, p.Kh, p.Kw, p.sh, p.sw, p.padTop, p.padLeft, p.dh ?? 1, p.dw ?? 1];
  if (!v.every((d) => Number.isInteger(d) && d >= 0) || p.Kh < 1 || p.Kw < 1 || p.sh < 1 || p.sw < 1 || (p.dh ?? 1) < 1 || (p.dw ?? 1) < 1) {
    throw new Error(`${who}: invalid pooling geometry ${JSON.stringify(p)}`);
  }
  return { x: p.N * p.H * p.W * p.C, y: p.N * p.Ho * p.Wo * p.C };
}

export const POOL = codes('POOL', { max: 0, maxBackward: 1, avg: 2, avgBackward: 3 });

/** WASM job descriptor: parts split the output pixels (forward) or input pixels (backward). */
export const PoolJob = struct('PoolJob', {
  mode: 'u32', x: 'u32', out: 'u32', idx: 'u32', N: 'u32', H: 'u32', W: 'u32', C: 'u32', Ho: 'u32', Wo: 'u32',
  Kh: 'u32', Kw: 'u32', sh: 'u32', sw: 'u32', padTop: 'u32', padLeft: 'u32', includePad: 'u32', parts: 'u32', dh: 'u32', dw: 'u32',
}, 'wasm');

/** WebGPU uniform; `total` is the number of invocations' elements. */
export const PoolDims = struct('PoolDims', {
  N: 'u32', H: 'u32', W: 'u32', C: 'u32', Ho: 'u32', Wo: 'u32', Kh: 'u32', Kw: 'u32',
  sh: 'u32', sw: 'u32', padTop: 'u32', padLeft: 'u32', includePad: 'u32', total: 'u32', dh: 'u32', dw: 'u32',
}, 'wgsl');

export const DECLS = [POOL, PoolJob, PoolDims];
