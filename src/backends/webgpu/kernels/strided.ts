// Dispatch of the strided copy (kernels-wgsl/strided.wgsl): transposes, broadcasts, slices.
import { collapse } from '../../collapse.js';
import { MAX_RANK } from '../../primitives/limits.js';
import { StridedDims, type StridedParams } from '../../primitives/strided.js';
import { params, WG, WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';

export function strided(rt: GpuRuntime, x: GpuHandle, out: GpuHandle, p: StridedParams): void {
  if (p.shape.length > MAX_RANK) throw new Error(`${WHO}: strided: rank ${p.shape.length} exceeds ${MAX_RANK}`);
  const n = p.shape.reduce((u, v) => u * v, 1);
  rt.check(out, n, 'strided');
  if (n === 0) return;
  const c = collapse(p.shape, [p.strides]);
  const [st] = c.strides;
  rt.aliasSafe(out, [x], n, (dst) => {
    if (c.shape.length === 0 || (c.shape.length === 1 && st[0] === 1)) {
      rt.copy(x.buffer, p.offset * 4, dst, n * 4); // a contiguous run: a plain buffer copy
      return;
    }
    rt.dispatch({ file: 'strided', entry: 'strided', constants: { WG } }, [x.buffer, dst], Math.ceil(n / WG),
      params(StridedDims, { shape: c.shape, strides: st, n, rank: c.shape.length, offset: p.offset }));
  });
}

export function stridedWrite(rt: GpuRuntime, x: GpuHandle, out: GpuHandle, p: StridedParams): void {
  if (p.shape.length > MAX_RANK) throw new Error(`${WHO}: stridedWrite: rank ${p.shape.length} exceeds ${MAX_RANK}`);
  const n = p.shape.reduce((u, v) => u * v, 1);
  rt.check(x, n, 'stridedWrite');
  if (n === 0) return;
  // out keeps its other elements, so it is written in place (never a fresh alias target).
  if (x.buffer === out.buffer) throw new Error(`${WHO}: stridedWrite: input and output are the same buffer`);
  const c = collapse(p.shape, [p.strides]);
  const [st] = c.strides;
  if (c.shape.length === 0 || (c.shape.length === 1 && st[0] === 1)) {
    rt.copy(x.buffer, 0, out.buffer, n * 4, p.offset * 4); // a contiguous run: a plain buffer copy
    return;
  }
  rt.dispatch({ file: 'strided', entry: 'stridedWrite', constants: { WG } }, [x.buffer, out.buffer], Math.ceil(n / WG),
    params(StridedDims, { shape: c.shape, strides: st, n, rank: c.shape.length, offset: p.offset }));
}
