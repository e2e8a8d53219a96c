// Fused softmax cross-entropy on WASM (kernels-as/xent.ts); parts split the rows.
import { XENT_PLAIN, XentJob, type XentOptions } from '../../primitives/xent.js';
import type { WasmHandle, WasmRuntime } from '../runtime.js';

/** Flop-equivalents per element: a max pass and an exp pass (forward), one exp pass (backward). */
const COST = 100;

export function xentForward(rt: WasmRuntime, logits: WasmHandle, targets: WasmHandle, loss: WasmHandle, lse: WasmHandle, rows: number, cols: number, o: XentOptions = XENT_PLAIN): void {
  rt.check(logits, rows * cols, 'xentForward logits');
  rt.check(targets, rows, 'xentForward targets');
  rt.check(loss, rows, 'xentForward loss');
  rt.check(lse, 2 * rows, 'xentForward lse');
  if (rows * cols === 0) return;
  const parts = rt.partsFor(rows * cols * COST, rows);
  rt.job('xent', XentJob, {
    stage: 0, x: logits.ptr, t: targets.ptr, loss: loss.ptr, lse: lse.ptr, g: 0, dx: 0, rows, cols, gStride: 0, scale: 1, parts, ignore: o.ignore ?? 0, hasIgnore: o.ignore === null ? 0 : 1, smoothing: o.smoothing,
  }, parts);
}

export function xentBackward(rt: WasmRuntime, logits: WasmHandle, targets: WasmHandle, lse: WasmHandle, g: WasmHandle, dx: WasmHandle,
  rows: number, cols: number, gStride: number, scale: number, o: XentOptions = XENT_PLAIN): void {
  rt.check(logits, rows * cols, 'xentBackward logits');
  rt.check(targets, rows, 'xentBackward targets');
  rt.check(lse, 2 * rows, 'xentBackward lse');
  rt.check(g, gStride * (rows - 1) + 1, 'xentBackward g');
  rt.check(dx, rows * cols, 'xentBackward dx');
  if (rows * cols === 0) return;
  const parts = rt.partsFor(rows * cols * COST, rows);
  rt.job('xent', XentJob, {
    stage: 1, x: logits.ptr, t: targets.ptr, loss: 0, lse: lse.ptr, g: g.ptr, dx: dx.ptr, rows, cols, gStride, scale, parts, ignore: o.ignore ?? 0, hasIgnore: o.ignore === null ? 0 : 1, smoothing: o.smoothing,
  }, parts);
}
