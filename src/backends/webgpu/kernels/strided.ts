// Dispatch of the strided copy (kernels-wgsl/strided.wgsl): transposes, broadcasts,
// slices, and (outStrides) copies into a region of out: concat, a slice's
// gradient, a KV cache's append.
import { collapse } from '../../collapse.js';
import { MAX_RANK } from '../../primitives/limits.js';
import { StridedDims, StridedIntoDims, type StridedParams } from '../../primitives/strided.js';
import { params, WG, WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';

export function strided(rt: GpuRuntime, x: GpuHandle, out: GpuHandle, p: StridedParams): void {
  if (p.shape.length > MAX_RANK) throw new Error(`${WHO}: strided: rank ${p.shape.length} exceeds ${MAX_RANK}`);
  const n = p.shape.reduce((u, v) => u * v, 1);
  if (p.outStrides) {
    if (n === 0) return;
    if (out.buffer === x.buffer) throw new Error(`${WHO}: strided: a copy into a region of out cannot read out itself`);
    // The last element the region reaches must lie inside out (as the WASM side checks).
    let hi = p.outOffset ?? 0;
    p.shape.forEach((s, d) => { hi += Math.max(0, (s - 1) * p.outStrides![d]); });
    rt.check(out, hi + 1, 'strided');
    const c = collapse(p.shape, [p.strides, p.outStrides]);
    if (c.shape.length === 0 || (c.shape.length === 1 && c.strides[0][0] === 1 && c.strides[1][0] === 1)) {
      rt.copy(x.buffer, p.offset * 4, out.buffer, n * 4, (p.outOffset ?? 0) * 4); // one contiguous run: a plain buffer copy
      return;
    }
    rt.dispatch({ file: 'strided', entry: 'strided_into', constants: { WG } }, [x.buffer, out.buffer], Math.ceil(n / WG),
      params(StridedIntoDims, {
        shape: c.shape, strides: c.strides[0], outStrides: c.strides[1], n, rank: c.shape.length, offset: p.offset, outOffset: p.outOffset ?? 0,
      }));
    return;
  }
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
