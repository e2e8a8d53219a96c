// Reductions of the middle axis of a contiguous [outer, reduce, inner] view.
// Kernels: kernels-wgsl/reduce.wgsl, kernels-as/reduce.ts.
import { codes, struct } from './declare.js';

export const REDUCE = codes('REDUCE', { sum: 0, mean: 1, max: 2 });
export const REDUCE_OPS = REDUCE.codes;
export type ReduceOp = keyof typeof REDUCE_OPS;

/** Reduce the middle axis of a contiguous [outer, reduce, inner] view to [outer, inner]. */
export interface ReduceParams {
  outer: number;
  reduce: number;
  inner: number;
}

export interface ReduceKernels<H> {
  reduce(op: ReduceOp, x: H, out: H, p: ReduceParams): void;
}

/** WebGPU uniform: `chunk` values per partial; mean divides by `div` (the full axis length) on the last pass. */
export const ReduceDims = struct('ReduceDims', { outer: 'u32', reduce: 'u32', inner: 'u32', chunk: 'u32', div: 'f32' }, 'wgsl');

/**
 * WASM job descriptor. Parts split `outer` (splitInner 0) or the columns of
 * `inner` (splitInner 1); each thread's f64 scratch row is at scratch + slot * scratchPart.
 */
export const ReduceJob = struct('ReduceJob', {
  op: 'u32', x: 'u32', out: 'u32', outer: 'u32', rows: 'u32', inner: 'u32',
  scratch: 'u32', scratchPart: 'u32', splitInner: 'u32', parts: 'u32',
}, 'wasm');

export const DECLS = [REDUCE, ReduceDims, ReduceJob];
