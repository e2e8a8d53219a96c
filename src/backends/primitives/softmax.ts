// Softmax / log-softmax over contiguous rows. Kernels: kernels-wgsl/softmax.wgsl, kernels-as/softmax.ts.
import { struct } from './declare.js';

export interface SoftmaxKernels<H> {
  /** Softmax (or log-softmax) over each contiguous row of length `cols`. */
  softmax(x: H, out: H, rows: number, cols: number, log: boolean): void;
}

export const SoftmaxDims = struct('SoftmaxDims', { rows: 'u32', cols: 'u32' }, 'wgsl');
/** WASM job descriptor; parts split the rows. */
export const SoftmaxJob = struct('SoftmaxJob', { x: 'u32', out: 'u32', rows: 'u32', cols: 'u32', log: 'u32', parts: 'u32' }, 'wasm');

export const DECLS = [SoftmaxDims, SoftmaxJob];
