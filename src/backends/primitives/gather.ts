// Indexing and scans along one dimension: gather (gather, indexSelect,
// oneHot), its adjoint scatterAdd, cumsum, and topk. Indices live in f32
// storage (lepton's one dtype) and are checked by the kernels: an index that
// is not an integer in [0, size) gives NaN (gather) or is skipped
// (scatterAdd), never a read or write out of bounds. Kernels:
// kernels-wgsl/gather.wgsl, kernels-as/gather.ts.
import { codes, struct } from './declare.js';
import { MAX_RANK } from './limits.js';

/**
 * gather: out[c] = x[Σ_{d≠dim} c_d·xStrides[d] + index[Σ_d c_d·idxStrides[d]]·xStrides[dim]]
 * over the row-major output `shape` (NaN where the index is invalid).
 * scatterAdd: the adjoint over the same coordinates, `shape` being g's: out[…] += g[c];
 * out keeps its values elsewhere. Coordinates that differ outside `dim` must
 * reach different elements of out (each line along `dim` is one serial run).
 */
export interface GatherParams {
  shape: readonly number[];
  dim: number;
  /** Strides into x (gather) or out (scatterAdd); the `dim` entry multiplies the index. */
  xStrides: readonly number[];
  /** Strides into index (0 where it is broadcast, as indexSelect's). */
  idxStrides: readonly number[];
  /** Valid indices are integers in [0, size). */
  size: number;
}

/** A scan or selection along the middle axis of a contiguous [outer, n, inner] view. */
export interface ScanParams {
  outer: number;
  n: number;
  inner: number;
}
export interface CumsumParams extends ScanParams {
  /** Sum from the end (out[k] = Σ_{j≥k} x[j]): cumsum's gradient. */
  reverse: boolean;
}
export interface TopkParams extends ScanParams {
  /** Values and indices written per line ([outer, k, inner]), k <= n. */
  k: number;
  /** Largest first (NaN counts as the largest), else smallest first; ties in index order. */
  largest: boolean;
}

export interface GatherKernels<H> {
  gather(x: H, index: H, out: H, p: GatherParams): void;
  scatterAdd(g: H, index: H, out: H, p: GatherParams): void;
  cumsum(x: H, out: H, p: CumsumParams): void;
  topk(x: H, values: H, indices: H, p: TopkParams): void;
}

export const GATHER = codes('GATHER', { gather: 0, scatter: 1, cumsum: 2, topk: 3 });

/** WebGPU uniform of gather and scatterAdd (`n`: outputs, or lines for scatterAdd). */
export const GatherDims = struct('GatherDims', {
  shape: { array: 'u32', length: MAX_RANK }, xStrides: { array: 'i32', length: MAX_RANK }, idxStrides: { array: 'i32', length: MAX_RANK },
  n: 'u32', rank: 'u32', dim: 'u32', size: 'u32',
}, 'wgsl');
/** WebGPU uniform of cumsum and topk: one invocation per line (outer · inner). */
export const ScanDims = struct('ScanDims', { outer: 'u32', n: 'u32', inner: 'u32', k: 'u32', flag: 'u32' }, 'wgsl');

/** WASM job descriptors: `op` is a GATHER code; parts split outputs (gather) or lines. */
export const GatherJob = struct('GatherJob', {
  op: 'u32', x: 'u32', index: 'u32', out: 'u32', rank: 'u32', dim: 'u32', size: 'u32', parts: 'u32',
  shape: { array: 'i32', length: MAX_RANK }, xStrides: { array: 'i32', length: MAX_RANK }, idxStrides: { array: 'i32', length: MAX_RANK },
}, 'wasm');
export const ScanJob = struct('ScanJob', {
  op: 'u32', x: 'u32', out: 'u32', out2: 'u32', outer: 'u32', n: 'u32', inner: 'u32', k: 'u32', flag: 'u32', parts: 'u32',
}, 'wasm');

export const DECLS = [GATHER, GatherDims, ScanDims, GatherJob, ScanJob];
