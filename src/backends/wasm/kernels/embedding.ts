// Embedding gather and gradient on WASM (kernels-as/embedding.ts); parts split the rows written.
import { EmbeddingJob } from '../../primitives/embedding.js';
import type { WasmHandle, WasmRuntime } from '../runtime.js';

/** Flop-equivalents per element copied or added, for the thread split. */
const COST = 4;

export function embeddingGather(rt: WasmRuntime, weight: WasmHandle, ids: WasmHandle, out: WasmHandle, n: number, dim: number): void {
  rt.check(ids, n, 'embeddingGather ids');
  rt.check(out, n * dim, 'embeddingGather out');
  if (n * dim === 0) return;
  const parts = rt.partsFor(n * dim * COST, n);
  rt.job('embedding', EmbeddingJob, { mode: 0, src: weight.ptr, ids: ids.ptr, offsets: 0, out: out.ptr, rows: n, dim, parts }, parts);
}

export function embeddingGrad(rt: WasmRuntime, g: WasmHandle, order: WasmHandle, offsets: WasmHandle, out: WasmHandle, num: number, dim: number): void {
  rt.check(offsets, num + 1, 'embeddingGrad offsets');
  rt.check(out, num * dim, 'embeddingGrad out');
  if (num * dim === 0) return;
  const parts = rt.partsFor((num + order.n) * dim * COST, num);
  rt.job('embedding', EmbeddingJob, { mode: 1, src: g.ptr, ids: order.ptr, offsets: offsets.ptr, out: out.ptr, rows: num, dim, parts }, parts);
}
