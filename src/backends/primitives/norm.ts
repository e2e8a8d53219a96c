// LayerNorm and RMSNorm over contiguous rows. Kernels: kernels-wgsl/norm.wgsl, kernels-as/norm.ts.
import { constant, struct } from './declare.js';

/** One normalisation of `rows` contiguous rows of `cols` values. */
export interface NormParams {
  rows: number;
  cols: number;
  eps: number;
  /** RMSNorm (no mean subtracted, no shift) instead of LayerNorm. */
  rms: boolean;
}

export interface NormKernels<H> {
  /**
   * y = (x − mean) · rstd · w + b per row (RMSNorm: x · rstd · w); w and b
   * may be null (1 and 0). `stats` gets [mean, rstd] per row (2·rows values;
   * RMSNorm's mean is 0), which normBackward reads.
   */
  normForward(x: H, w: H | null, b: H | null, out: H, stats: H, p: NormParams): void;
  /**
   * From the output gradient g: dx, and (where not null) dw = Σ_rows g·x̂
   * and db = Σ_rows g, reduced in the same pass over the rows (block partials,
   * then a sum over the blocks).
   */
  normBackward(x: H, w: H | null, g: H, stats: H, dx: H, dw: H | null, db: H | null, p: NormParams): void;
}

/**
 * Rows per block of the parameter-gradient partials: each block's partial
 * Σ g·x̂, Σ g is written by one worker (a workgroup, a WASM part's loop), so
 * the sums are the same on every run and every thread count.
 */
export const NORM_BLOCK_ROWS = 16;
export const normBlocks = (rows: number) => Math.ceil(rows / NORM_BLOCK_ROWS);

/** WebGPU uniform; `blocks` partial rows of 2·cols values (dw's then db's) in the scratch buffer. */
export const NormDims = struct('NormDims', { rows: 'u32', cols: 'u32', eps: 'f32', blocks: 'u32' }, 'wgsl');

/**
 * WASM job descriptor. Stage 0 (forward) and 1 (backward rows: dx and each
 * block's partials) split blocks of rows; stage 2 sums the partials and splits the columns.
 */
export const NormJob = struct('NormJob', {
  stage: 'u32', x: 'u32', w: 'u32', b: 'u32', g: 'u32', out: 'u32', stats: 'u32', dw: 'u32', db: 'u32',
  partial: 'u32', rows: 'u32', cols: 'u32', eps: 'f32', rms: 'u32', blocks: 'u32', parts: 'u32',
}, 'wasm');

export const DECLS = [constant('NORM_BLOCK_ROWS', 'u32', NORM_BLOCK_ROWS), NormDims, NormJob];
