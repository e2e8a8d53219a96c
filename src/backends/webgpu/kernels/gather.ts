// Dispatch of gather / scatterAdd / cumsum / topk (kernels-wgsl/gather.wgsl).
import { GatherDims, ScanDims, type CumsumParams, type GatherParams, type TopkParams } from '../../primitives/gather.js';
import { MAX_RANK } from '../../primitives/limits.js';
import { params, WG, WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';

function dims(what: string, p: GatherParams, n: number) {
  if (p.shape.length > MAX_RANK) throw new Error(`${WHO}: ${what}: rank ${p.shape.length} exceeds ${MAX_RANK}`);
  return params(GatherDims, { shape: p.shape, xStrides: p.xStrides, idxStrides: p.idxStrides, n, rank: p.shape.length, dim: p.dim, size: p.size });
}

export function gather(rt: GpuRuntime, x: GpuHandle, index: GpuHandle, out: GpuHandle, p: GatherParams): void {
  const n = p.shape.reduce((u, v) => u * v, 1);
  rt.check(out, n, 'gather');
  if (n === 0) return;
  rt.aliasSafe(out, [x, index], n, (dst) =>
    rt.dispatch({ file: 'gather', entry: 'gather', constants: { WG } }, [x.buffer, index.buffer, dst], Math.ceil(n / WG), dims('gather', p, n)));
}

export function scatterAdd(rt: GpuRuntime, g: GpuHandle, index: GpuHandle, out: GpuHandle, p: GatherParams): void {
  const n = p.shape.reduce((u, v) => u * v, 1);
  if (n === 0) return;
  if (out.buffer === g.buffer || out.buffer === index.buffer) throw new Error(`${WHO}: scatterAdd: out must not be an input`);
  const lines = n / p.shape[p.dim];
  rt.dispatch({ file: 'gather', entry: 'scatter_add', constants: { WG } }, [g.buffer, index.buffer, out.buffer], Math.ceil(lines / WG), dims('scatterAdd', p, lines), n * 4);
}

export function cumsum(rt: GpuRuntime, x: GpuHandle, out: GpuHandle, p: CumsumParams): void {
  const lines = p.outer * p.inner, n = lines * p.n;
  rt.check(out, n, 'cumsum');
  if (n === 0) return;
  rt.aliasSafe(out, [x], n, (dst) => rt.dispatch({ file: 'gather', entry: 'cumsum', constants: { WG } }, [x.buffer, dst], Math.ceil(lines / WG),
    params(ScanDims, { outer: p.outer, n: p.n, inner: p.inner, k: p.n, flag: +p.reverse }), n * 4));
}

export function topk(rt: GpuRuntime, x: GpuHandle, values: GpuHandle, indices: GpuHandle, p: TopkParams): void {
  const lines = p.outer * p.inner, n = lines * p.k;
  rt.check(values, n, 'topk');
  rt.check(indices, n, 'topk');
  if (n === 0) return;
  if ([values.buffer, indices.buffer].includes(x.buffer) || values.buffer === indices.buffer) throw new Error(`${WHO}: topk: outputs must be distinct from x`);
  rt.dispatch({ file: 'gather', entry: 'topk', constants: { WG } }, [x.buffer, values.buffer, indices.buffer], Math.ceil(lines / WG),
    params(ScanDims, { outer: p.outer, n: p.n, inner: p.inner, k: p.k, flag: +p.largest }), lines * p.n * Math.min(p.k, 8) * 4);
}
