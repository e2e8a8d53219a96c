// Dispatch of the embedding gather and its scatter-add gradient (kernels-wgsl/embedding.wgsl).
import { EmbeddingDims } from '../../primitives/embedding.js';
import { params, type GpuHandle, type GpuRuntime } from '../runtime.js';

const WG = 64;

export function embeddingGather(rt: GpuRuntime, weight: GpuHandle, ids: GpuHandle, out: GpuHandle, n: number, dim: number): void {
  rt.check(ids, n, 'embeddingGather ids');
  rt.check(out, n * dim, 'embeddingGather out');
  if (n * dim === 0) return;
  rt.dispatch({ file: 'embedding', entry: 'embedding_gather', constants: { WG } }, [weight.buffer, ids.buffer, out.buffer],
    Math.ceil(n * dim / WG), params(EmbeddingDims, { rows: n, dim }));
}

export function embeddingGrad(rt: GpuRuntime, g: GpuHandle, order: GpuHandle, offsets: GpuHandle, out: GpuHandle, num: number, dim: number): void {
  rt.check(offsets, num + 1, 'embeddingGrad offsets');
  rt.check(out, num * dim, 'embeddingGrad out');
  if (num * dim === 0) return;
  rt.dispatch({ file: 'embedding', entry: 'embedding_grad', constants: { WG } }, [g.buffer, order.buffer, offsets.buffer, out.buffer],
    Math.ceil(num * dim / WG), params(EmbeddingDims, { rows: num, dim }));
}
