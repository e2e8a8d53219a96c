// LayerNorm / RMSNorm on WASM (kernels-as/norm.ts): parts split blocks of rows;
// the parameter gradients' block partials live in a scratch block.
import { NormJob, normBlocks, type NormParams } from '../../primitives/norm.js';
import type { WasmHandle, WasmRuntime } from '../runtime.js';

/** Flop-equivalents per element for the thread split. */
const COST = 12;

export function normForward(rt: WasmRuntime, x: WasmHandle, w: WasmHandle | null, b: WasmHandle | null, out: WasmHandle, stats: WasmHandle, p: NormParams): void {
  const { rows, cols } = p;
  rt.check(x, rows * cols, 'normForward x');
  if (w) rt.check(w, cols, 'normForward weight');
  if (b) rt.check(b, cols, 'normForward bias');
  rt.check(out, rows * cols, 'normForward out');
  rt.check(stats, 2 * rows, 'normForward stats');
  if (rows * cols === 0) return;
  const blocks = normBlocks(rows);
  const parts = rt.partsFor(rows * cols * COST, blocks);
  rt.job('norm', NormJob, {
    stage: 0, x: x.ptr, w: w?.ptr ?? 0, b: b?.ptr ?? 0, g: 0, out: out.ptr, stats: stats.ptr, dw: 0, db: 0, partial: 0,
    rows, cols, eps: p.eps, rms: +p.rms, blocks, parts,
  }, parts);
}

export function normBackward(rt: WasmRuntime, x: WasmHandle, w: WasmHandle | null, g: WasmHandle, stats: WasmHandle,
  dx: WasmHandle, dw: WasmHandle | null, db: WasmHandle | null, p: NormParams): void {
  const { rows, cols } = p;
  rt.check(x, rows * cols, 'normBackward x');
  if (w) rt.check(w, cols, 'normBackward weight');
  rt.check(g, rows * cols, 'normBackward g');
  rt.check(stats, 2 * rows, 'normBackward stats');
  rt.check(dx, rows * cols, 'normBackward dx');
  if (dw) rt.check(dw, cols, 'normBackward dw');
  if (db) rt.check(db, cols, 'normBackward db');
  // No rows (the op fills the parameter gradients with zeros) or no columns: nothing to do.
  if (rows * cols === 0) return;
  const blocks = normBlocks(rows);
  const wantParams = !!(dw || db);
  const desc = {
    stage: 1, x: x.ptr, w: w?.ptr ?? 0, b: 0, g: g.ptr, out: dx.ptr, stats: stats.ptr, dw: dw?.ptr ?? 0, db: db?.ptr ?? 0, partial: 0,
    rows, cols, eps: p.eps, rms: +p.rms, blocks, parts: rt.partsFor(rows * cols * COST * 2, blocks),
  };
  rt.withScratch(wantParams ? blocks * 2 * cols * 4 : 0, (partial) => {
    rt.job('norm', NormJob, { ...desc, partial }, desc.parts);
    if (!wantParams) return;
    const parts = rt.partsFor(blocks * cols * 2 * 2, Math.ceil(cols * 2 / 16));
    rt.job('norm', NormJob, { ...desc, stage: 2, partial, parts }, parts);
  });
}
