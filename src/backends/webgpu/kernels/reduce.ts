// Dispatch of the reductions (kernels-wgsl/reduce.wgsl) over the middle axis of [outer, reduce, inner].
import { REDUCE_OPS, ReduceDims, type ReduceOp, type ReduceParams } from '../../primitives/reduce.js';
import { params, WG, WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';
import { fill } from './elementwise.js';

/** reduce_rows (workgroup tree) from this row length up; shorter rows fold one per invocation. */
const TREE_FROM = 128;
/** Chunk lengths of a multi-pass reduction (a pass only when the axis is over 4 chunks long). */
const ROW_CHUNK = 4096, COL_CHUNK = 256;

export function reduce(rt: GpuRuntime, op: ReduceOp, x: GpuHandle, out: GpuHandle, p: ReduceParams): void {
  const code = REDUCE_OPS[op];
  if (code === undefined) throw new Error(`${WHO}: unknown reduce op ${op}`);
  const nOut = p.outer * p.inner;
  rt.check(out, nOut, `reduce ${op}`);
  if (nOut === 0) return;
  if (p.reduce === 0) { // empty reduction: the identity (mean: 0/0)
    fill(rt, out, nOut, op === 'sum' ? 0 : op === 'mean' ? NaN : -Infinity);
    return;
  }
  rt.check(x, p.outer * p.reduce * p.inner, `reduce ${op}`);
  rt.aliasSafe(out, [x], nOut, (dst) => reduceInto(rt, code, x.buffer, dst, p.outer, p.reduce, p.inner, p.reduce));
}

/**
 * Reduces [outer, R, inner] from `src` into `dst`. A long axis is first cut
 * into chunks whose partials ([outer, chunks, inner]) are reduced again:
 * more workgroups when there are few outputs, and short f32 summation runs.
 * Mean sums until the last pass, which divides by the full length `div`.
 */
function reduceInto(rt: GpuRuntime, code: number, src: GPUBuffer, dst: GPUBuffer, outer: number, R: number, inner: number, div: number): void {
  // A CPU adapter folds rows one per invocation too: a workgroup tree's barriers cost more there.
  const rows = inner === 1 && R >= TREE_FROM && !rt.isFallbackAdapter;
  const chunk = rows ? ROW_CHUNK : COL_CHUNK;
  const kernel = (c: number, to: GPUBuffer, len: number, chunks: number) => rt.dispatch(
    { file: 'reduce', entry: rows ? 'reduce_rows' : 'reduce_cols', constants: { WG, OP: c } }, [src, to],
    rows ? outer * chunks : Math.ceil((outer * chunks * inner) / WG),
    params(ReduceDims, { outer, reduce: R, inner, chunk: len, div }));
  if (R <= 4 * chunk) {
    kernel(code, dst, R, 1);
    return;
  }
  const chunks = Math.ceil(R / chunk);
  const tmp = rt.scratch(outer * chunks * inner * 4);
  kernel(code === REDUCE_OPS.mean ? REDUCE_OPS.sum : code, tmp, chunk, chunks);
  reduceInto(rt, code, tmp, dst, outer, chunks, inner, div);
  rt.release(tmp);
}
