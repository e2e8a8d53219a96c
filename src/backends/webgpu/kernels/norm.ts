// Dispatch of LayerNorm / RMSNorm (kernels-wgsl/norm.wgsl).
import { NormDims, normBlocks, type NormParams } from '../../primitives/norm.js';
import { params, type GpuHandle, type GpuRuntime } from '../runtime.js';

/** Workgroup size: one workgroup walks a row (forward) or a block of rows (backward). */
const WG = 64;

export function normForward(rt: GpuRuntime, x: GpuHandle, w: GpuHandle | null, b: GpuHandle | null, out: GpuHandle, stats: GpuHandle, p: NormParams): void {
  const { rows, cols } = p;
  rt.check(x, rows * cols, 'normForward x');
  if (w) rt.check(w, cols, 'normForward weight');
  if (b) rt.check(b, cols, 'normForward bias');
  rt.check(out, rows * cols, 'normForward out');
  rt.check(stats, 2 * rows, 'normForward stats');
  if (rows * cols === 0) return;
  rt.dispatch({ file: 'norm', entry: 'norm_forward', constants: { WG, RMS: p.rms, HAS_W: !!w, HAS_B: !!b } },
    [x.buffer, w?.buffer ?? rt.dummy, b?.buffer ?? rt.dummy, out.buffer, stats.buffer], rows,
    params(NormDims, { rows, cols, eps: p.eps, blocks: normBlocks(rows) }));
}

export function normBackward(rt: GpuRuntime, x: GpuHandle, w: GpuHandle | null, g: GpuHandle, stats: GpuHandle,
  dx: GpuHandle, dw: GpuHandle | null, db: GpuHandle | null, p: NormParams): void {
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
  const dims = params(NormDims, { rows, cols, eps: p.eps, blocks });
  const wantParams = !!(dw || db);
  const part = wantParams ? rt.scratch(blocks * 2 * cols * 4) : null;
  const flags = { WG, RMS: p.rms, HAS_W: !!w, PARAMS: wantParams };
  rt.dispatch({ file: 'norm', entry: 'norm_backward', constants: flags },
    [x.buffer, w?.buffer ?? rt.dummy, g.buffer, stats.buffer, dx.buffer, part ?? rt.dummyOut], blocks, dims);
  if (part) {
    rt.dispatch({ file: 'norm', entry: 'norm_params', constants: { WG, HAS_W: !!dw, HAS_B: !!db } },
      [part, dw?.buffer ?? rt.dummyOut, db?.buffer ?? rt.dummyOut], Math.ceil(2 * cols / WG), dims);
    rt.release(part);
  }
}
