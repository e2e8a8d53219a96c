// The strided copy on WASM (kernels-as/strided.ts): transposes, broadcasts, slices.
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
  rt.check(out, n, 'strided output');
  if (n === 0) return;
  rt.check(x, reach('strided input', p.shape, p.strides, p.offset), 'strided input');
  const c = collapse(p.shape, [p.strides]);
  const [st] = c.strides;
  // Parts split the steps over the outer dimensions (see stridedPart); a single run stays whole.
  const outer = c.shape.length > 1 ? n / c.shape[c.shape.length - 1] : 1;
  const parts = rt.partsFor(n * COST, outer);
  rt.job('strided', StridedJob, {
    x: x.ptr, out: out.ptr, rank: c.shape.length, offset: p.offset, parts, write: 0, shape: c.shape, strides: st, coords: [],
  }, parts, MAX_RANK * parts);
}

export function stridedWrite(rt: WasmRuntime, x: WasmHandle, out: WasmHandle, p: StridedParams): void {
  if (p.shape.length > MAX_RANK) throw new Error(`${WHO}: stridedWrite: rank ${p.shape.length} exceeds ${MAX_RANK}`);
  const n = p.shape.reduce((u, v) => u * v, 1);
  rt.check(x, n, 'stridedWrite input');
  if (n === 0) return;
  rt.check(out, reach('stridedWrite output', p.shape, p.strides, p.offset), 'stridedWrite output');
  const c = collapse(p.shape, [p.strides]);
  const [st] = c.strides;
  const outer = c.shape.length > 1 ? n / c.shape[c.shape.length - 1] : 1;
  const parts = rt.partsFor(n * COST, outer);
  rt.job('strided', StridedJob, {
    x: x.ptr, out: out.ptr, rank: c.shape.length, offset: p.offset, parts, write: 1, shape: c.shape, strides: st, coords: [],
  }, parts, MAX_RANK * parts);
}
