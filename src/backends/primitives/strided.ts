// Strided copy: out[i] = x[offset + Σ_d coord_d(i)·strides[d]] over the
// row-major output shape (transpose, broadcast, slices). Kernels:
// kernels-wgsl/strided.wgsl, kernels-as/strided.ts.
import { struct } from './declare.js';
import { MAX_RANK } from './limits.js';

/** out[i] = x[offset + sum_d idx_d(i) * strides[d]] over the row-major output `shape`. */
export interface StridedParams {
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
  /**
   * Where given, the copy writes into `out` in place instead of filling it:
   * out[outOffset + Σ_d coord_d·outStrides[d]] = x[…]; the rest of out keeps
   * its values (concat pieces, the gradient of a slice). Distinct coordinates
   * must reach distinct elements of out, and out must not be x.
   */
  outStrides?: readonly number[];
  outOffset?: number;
}

export interface StridedKernels<H> {
  strided(x: H, out: H, p: StridedParams): void;
}

/** WebGPU uniform; strides are signed (reversed views). */
export const StridedDims = struct('StridedDims', {
  shape: { array: 'u32', length: MAX_RANK }, strides: { array: 'i32', length: MAX_RANK }, n: 'u32', rank: 'u32', offset: 'i32',
}, 'wgsl');
/** WebGPU uniform of the copy into a strided region of out (StridedParams.outStrides). */
export const StridedIntoDims = struct('StridedIntoDims', {
  shape: { array: 'u32', length: MAX_RANK }, strides: { array: 'i32', length: MAX_RANK }, outStrides: { array: 'i32', length: MAX_RANK },
  n: 'u32', rank: 'u32', offset: 'i32', outOffset: 'i32',
}, 'wgsl');
/**
 * WASM job descriptor; `coords` holds MAX_RANK scratch coordinates per part.
 * `into` = 1 writes through `outStrides` from `outOffset` (StridedParams.outStrides).
 */
export const StridedJob = struct('StridedJob', {
  x: 'u32', out: 'u32', rank: 'u32', offset: 'i32', parts: 'u32', into: 'u32', outOffset: 'i32',
  shape: { array: 'i32', length: MAX_RANK }, strides: { array: 'i32', length: MAX_RANK }, outStrides: { array: 'i32', length: MAX_RANK },
  coords: { array: 'i32', length: 0 },
}, 'wasm');

export const DECLS = [StridedDims, StridedIntoDims, StridedJob];
