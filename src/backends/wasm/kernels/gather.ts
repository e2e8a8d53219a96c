// gather / scatterAdd / cumsum / topk on WASM (kernels-as/gather.ts).
import { GATHER, GatherJob, ScanJob, type CumsumParams, type GatherParams, type ScanParams, type TopkParams } from '../../primitives/gather.js';
import { MAX_RANK } from '../../primitives/limits.js';
import { WHO, type WasmHandle, type WasmRuntime } from '../runtime.js';
import { reach } from './elementwise.js';

/** Flop-equivalents per element for the thread split. */
const COST = 40;

function indexed(rt: WasmRuntime, op: number, x: WasmHandle, index: WasmHandle, out: WasmHandle, p: GatherParams): void {
  const what = op === GATHER.codes.gather ? 'gather' : 'scatterAdd';
  if (p.shape.length > MAX_RANK) throw new Error(`${WHO}: ${what}: rank ${p.shape.length} exceeds ${MAX_RANK}`);
  const n = p.shape.reduce((u, v) => u * v, 1);
  if (n === 0) return;
  rt.check(index, reach(`${what} index`, p.shape, p.idxStrides), `${what} index`);
  // x (gather) or out (scatterAdd) is reached at index values < size along dim.
  const target = p.shape.map((s, d) => (d === p.dim ? p.size : s));
  const reached = p.size === 0 ? 0 : reach(`${what} data`, target, p.xStrides);
  if (op === GATHER.codes.gather) {
    rt.check(out, n, 'gather output');
    rt.check(x, reached, 'gather input');
  } else {
    rt.check(x, n, 'scatterAdd input');
    rt.check(out, reached, 'scatterAdd output');
  }
  const units = op === GATHER.codes.gather ? n : n / p.shape[p.dim];
  const parts = rt.partsFor(n * COST, units);
  rt.job('gather', GatherJob, {
    op, x: x.ptr, index: index.ptr, out: out.ptr, rank: p.shape.length, dim: p.dim, size: p.size, parts,
    shape: p.shape, xStrides: p.xStrides, idxStrides: p.idxStrides,
  }, parts);
}

export const gather = (rt: WasmRuntime, x: WasmHandle, index: WasmHandle, out: WasmHandle, p: GatherParams) =>
  indexed(rt, GATHER.codes.gather, x, index, out, p);
export const scatterAdd = (rt: WasmRuntime, g: WasmHandle, index: WasmHandle, out: WasmHandle, p: GatherParams) =>
  indexed(rt, GATHER.codes.scatter, g, index, out, p);

function scan(rt: WasmRuntime, op: number, x: WasmHandle, out: WasmHandle, out2: WasmHandle | null, p: ScanParams, k: number, flag: boolean): void {
  const lines = p.outer * p.inner;
  if (lines === 0 || k === 0) return;
  rt.check(x, p.outer * p.n * p.inner, 'scan input');
  rt.check(out, p.outer * k * p.inner, 'scan output');
  if (out2) rt.check(out2, p.outer * k * p.inner, 'scan output');
  const parts = rt.partsFor(p.outer * p.n * p.inner * COST * (op === GATHER.codes.topk ? Math.min(k, 8) : 1), lines);
  rt.job('scan', ScanJob, {
    op, x: x.ptr, out: out.ptr, out2: out2?.ptr ?? 0, outer: p.outer, n: p.n, inner: p.inner, k, flag: +flag, parts,
  }, parts);
}

export const cumsum = (rt: WasmRuntime, x: WasmHandle, out: WasmHandle, p: CumsumParams) =>
  scan(rt, GATHER.codes.cumsum, x, out, null, p, p.n, p.reverse);
export const topk = (rt: WasmRuntime, x: WasmHandle, values: WasmHandle, indices: WasmHandle, p: TopkParams) =>
  scan(rt, GATHER.codes.topk, x, values, indices, p, p.k, p.largest);
