// Dispatch of the fused softmax cross-entropy (kernels-wgsl/xent.wgsl).
import { XENT_PLAIN, XentDims, type XentOptions } from '../../primitives/xent.js';
import { params, type GpuHandle, type GpuRuntime } from '../runtime.js';

const WG = 64;

export function xentForward(rt: GpuRuntime, logits: GpuHandle, targets: GpuHandle, loss: GpuHandle, lse: GpuHandle, rows: number, cols: number, o: XentOptions = XENT_PLAIN): void {
  rt.check(logits, rows * cols, 'xentForward logits');
  rt.check(targets, rows, 'xentForward targets');
  rt.check(loss, rows, 'xentForward loss');
  rt.check(lse, 2 * rows, 'xentForward lse');
  if (rows * cols === 0) return;
  rt.dispatch({ file: 'xent', entry: 'xent_forward', constants: { WG } }, [logits.buffer, targets.buffer, loss.buffer, lse.buffer], rows,
    params(XentDims, { rows, cols, gStride: 0, scale: 1, ignore: o.ignore ?? 0, hasIgnore: o.ignore === null ? 0 : 1, smoothing: o.smoothing }));
}

export function xentBackward(rt: GpuRuntime, logits: GpuHandle, targets: GpuHandle, lse: GpuHandle, g: GpuHandle, dx: GpuHandle,
  rows: number, cols: number, gStride: number, scale: number, o: XentOptions = XENT_PLAIN): void {
  rt.check(logits, rows * cols, 'xentBackward logits');
  rt.check(targets, rows, 'xentBackward targets');
  rt.check(lse, 2 * rows, 'xentBackward lse');
  rt.check(g, gStride * (rows - 1) + 1, 'xentBackward g');
  rt.check(dx, rows * cols, 'xentBackward dx');
  if (rows * cols === 0) return;
  rt.dispatch({ file: 'xent', entry: 'xent_backward', constants: { WG } }, [logits.buffer, targets.buffer, lse.buffer, g.buffer, dx.buffer],
    Math.ceil(rows * cols / WG), params(XentDims, { rows, cols, gStride, scale, ignore: o.ignore ?? 0, hasIgnore: o.ignore === null ? 0 : 1, smoothing: o.smoothing }));
}
