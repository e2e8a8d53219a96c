// Softmax cross-entropy against class ids, fused: no probability tensor is
// kept. Kernels: kernels-wgsl/xent.wgsl, kernels-as/xent.ts.
import { struct } from './declare.js';

/**
 * PyTorch's `ignore_index` and `label_smoothing`. A row whose target equals
 * `ignore` has loss 0 and gradient 0 (e^… · 0: NaN only where the row's
 * softmax is). `smoothing` ε mixes the one-hot target with the uniform one:
 * q = (1 − ε)·onehot + ε/cols.
 */
export interface XentOptions {
  /** The ignored id (an integer, |ignore| <= 2^24), or null for none. */
  ignore: number | null;
  smoothing: number;
}
export const XENT_PLAIN: XentOptions = { ignore: null, smoothing: 0 };

export interface XentKernels<H> {
  /**
   * Per row r of `logits` [rows, cols]: loss[r] = −Σ_c q_c log softmax(x_r)_c,
   * q the target distribution of t_r = targets[r] (a class id as f32; see
   * XentOptions): without smoothing log Σ_c e^x[r,c] − x[r, t_r]. `lse` gets
   * two values per row, max and l with log-sum-exp = max + l (kept apart so the
   * backward's e^((x − max) − l) loses no precision to the rounding of a large sum).
   */
  xentForward(logits: H, targets: H, loss: H, lse: H, rows: number, cols: number, o?: XentOptions): void;
  /**
   * dx[r, c] = scale · g[r · gStride] · (e^((x[r,c] − max_r) − l_r) − q_c): the
   * softmax recomputed from the logits and the saved lse. gStride 0 broadcasts
   * one gradient (a mean or sum reduction) to every row.
   */
  xentBackward(logits: H, targets: H, lse: H, g: H, dx: H, rows: number, cols: number, gStride: number, scale: number, o?: XentOptions): void;
}

export const XentDims = struct('XentDims', { rows: 'u32', cols: 'u32', gStride: 'u32', scale: 'f32', ignore: 'i32', hasIgnore: 'u32', smoothing: 'f32' }, 'wgsl');
/** WASM job: stage 0 forward, 1 backward; parts split the rows. */
export const XentJob = struct('XentJob', {
  stage: 'u32', x: 'u32', t: 'u32', loss: 'u32', lse: 'u32', g: 'u32', dx: 'u32',
  rows: 'u32', cols: 'u32', gStride: 'u32', scale: 'f32', parts: 'u32', ignore: 'i32', hasIgnore: 'u32', smoothing: 'f32',
}, 'wasm');

export const DECLS = [XentDims, XentJob];
