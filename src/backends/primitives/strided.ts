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
}

export interface StridedKernels<H> {
  strided(x: H, out: H, p: StridedParams): void;
  /**
   * The scatter the other way: out[offset + Σ_d coord_d(i)·strides[d]] = x[i]
   * over the row-major `shape` (x contiguous); every other element of out is
   * left as it is. The gradient of a slice, and concatenation (src/ops/slices.ts).
   * x and out are different storages; the written positions must not overlap.
   */
  stridedWrite(x: H, out: H, p: StridedParams): void;
}

/** WebGPU uniform; strides are signed (reversed views). */
export const StridedDims = struct('StridedDims', {
  shape: { array: 'u32', length: MAX_RANK }, strides: { array: 'i32', length: MAX_RANK }, n: 'u32', rank: 'u32', offset: 'i32',
}, 'wgsl');
/** WASM job descriptor; `coords` holds MAX_RANK scratch coordinates per part; `write` 1 is stridedWrite (out strided, x contiguous). */
export const StridedJob = struct('StridedJob', {
  x: 'u32', out: 'u32', rank: 'u32', offset: 'i32', parts: 'u32', write: 'u32',
  shape: { array: 'i32', length: MAX_RANK }, strides: { array: 'i32', length: MAX_RANK }, coords: { array: 'i32', length: 0 },
}, 'wasm');

export const DECLS = [StridedDims, StridedJob];
