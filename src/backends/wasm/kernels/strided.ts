// The strided copy on WASM (kernels-as/strided.ts): transposes, broadcasts,
// slices, and (outStrides) copies into a region of out: concat, a slice's
// gradient, a KV cache's append.
import { collapse } from '../../collapse.js';
import { MAX_RANK } from '../../primitives/limits.js';
import { StridedJob, type StridedParams } from '../../primitives/strided.js';
import { WHO, type WasmHandle, type WasmRuntime } from '../runtime.js';
import { reach } from './elementwise.js';

/** Flop-equivalents per element for the thread split (a copy). */
const COST = 30;

export function strided(rt: WasmRuntime, x: WasmHandle, out: WasmHandle, p: StridedParams): void {
  if (p.shape.length > MAX_RANK) throw new Error(`${WHO}: strided: rank ${p.shape.length} exceeds ${MAX_RANK}`);
  const n = p.shape.reduce((u, v) => u * v, 1);
  if (!p.outStrides) rt.check(out, n, 'strided output');
  if (n === 0) return;
  rt.check(x, reach('strided input', p.shape, p.strides, p.offset), 'strided input');
  if (p.outStrides) {
    rt.check(out, reach('strided output', p.shape, p.outStrides, p.outOffset ?? 0), 'strided output');
    const c = collapse(p.shape, [p.strides, p.outStrides]);
    // Parts split the rows (see stridedInto); a single run stays whole.
    const rows = c.shape.length > 1 ? n / c.shape[c.shape.length - 1] : 1;
    const parts = rt.partsFor(n * COST, rows);
    rt.job('strided', StridedJob, {
      x: x.ptr, out: out.ptr, rank: c.shape.length, offset: p.offset, parts, into: 1, outOffset: p.outOffset ?? 0,
      shape: c.shape, strides: c.strides[0], outStrides: c.strides[1], coords: [],
    }, parts, MAX_RANK * parts);
    return;
  }
  const c = collapse(p.shape, [p.strides]);
  const [st] = c.strides;
  // Parts split the steps over the outer dimensions (see stridedPart); a single run stays whole.
  const outer = c.shape.length > 1 ? n / c.shape[c.shape.length - 1] : 1;
  const parts = rt.partsFor(n * COST, outer);
  rt.job('strided', StridedJob, {
    x: x.ptr, out: out.ptr, rank: c.shape.length, offset: p.offset, parts, into: 0, outOffset: 0, shape: c.shape, strides: st, outStrides: [], coords: [],
  }, parts, MAX_RANK * parts);
}
