// Embedding: a gather of rows by id and its gradient, a deterministic
// scatter-add. Kernels: kernels-wgsl/embedding.wgsl, kernels-as/embedding.ts.
// Ids, positions and offsets travel as f32 values (exact below 2^24; the op checks).
import { struct } from './declare.js';

export interface EmbeddingKernels<H> {
  /** out[i, :] = weight[ids[i], :] for i < n; every id is in range (checked by the op). */
  embeddingGather(weight: H, ids: H, out: H, n: number, dim: number): void;
  /**
   * dWeight[v, :] = Σ_k g[order[k], :] for k in [offsets[v], offsets[v + 1]):
   * `order` lists the positions of g grouped by id (ascending within an id),
   * `offsets` (num + 1 values) where each id's group starts. Each output row is
   * summed by one worker in that order: the same bits on every run and thread count.
   */
  embeddingGrad(g: H, order: H, offsets: H, out: H, num: number, dim: number): void;
}

export const EmbeddingDims = struct('EmbeddingDims', { rows: 'u32', dim: 'u32' }, 'wgsl');
/** WASM job: mode 0 gathers (parts split the n output rows), 1 scatters (parts split the num weight rows). */
export const EmbeddingJob = struct('EmbeddingJob', {
  mode: 'u32', src: 'u32', ids: 'u32', offsets: 'u32', out: 'u32', rows: 'u32', dim: 'u32', parts: 'u32',
}, 'wasm');

export const DECLS = [EmbeddingDims, EmbeddingJob];
