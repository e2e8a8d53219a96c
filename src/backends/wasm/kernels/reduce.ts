// Reductions on WASM (kernels-as/reduce.ts) over the middle axis of [outer, reduce, inner].
import { REDUCE_OPS, ReduceJob, type ReduceOp, type ReduceParams } from '../../primitives/reduce.js';
import type { WasmHandle, WasmRuntime } from '../runtime.js';

/** Flop-equivalents per input value for the thread split (one streaming pass). */
const COST = 30;
const LINE = 16;

export function reduce(rt: WasmRuntime, op: ReduceOp, x: WasmHandle, out: WasmHandle, p: ReduceParams): void {
  const { outer, reduce: rows, inner } = p;
  rt.check(out, outer * inner, `reduce ${op} output`);
  rt.check(x, outer * rows * inner, `reduce ${op} input`);
  if (outer * inner === 0) return;
  const code = REDUCE_OPS[op];
  // Split the outputs: by `outer` where there are enough, else by columns of `inner`.
  const work = outer * Math.max(rows, 1) * inner * COST;
  const byOuter = rt.partsFor(work, outer), byInner = rt.partsFor(work, Math.ceil(inner / LINE));
  const splitInner = byInner > byOuter;
  const parts = Math.max(byOuter, byInner);
  const perSlot = Math.ceil(rt.k.reduceScratch(code, rows, inner) / 64) * 64;
  // Every thread may run a part (a worker still polling from the last job, too): one scratch slot each.
  rt.withScratch(perSlot * (parts > 1 ? rt.threads : 1), (scratch) => rt.job('reduce', ReduceJob, {
    op: code, x: x.ptr, out: out.ptr, outer, rows, inner, scratch, scratchPart: perSlot, splitInner: +splitInner, parts,
  }, parts));
}
