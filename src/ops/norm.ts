// layerNorm and rmsNorm over the trailing `normalizedShape` dimensions, as
// PyTorch's F.layer_norm / F.rms_norm: one fused kernel each way
// (Backend.normForward / normBackward). The forward saves the per-row
// [mean, rstd]; the backward's one pass gives dx and, reduced alongside, dw
// and db.
import { record } from '../autograd.js';
import type { NormParams } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { describe } from '../options.js';
import { empty, type Tensor } from '../tensor.js';
import { arg, deviceOf } from './util.js';

/** RMSNorm's default eps: PyTorch's torch.finfo(float32).eps, used when eps is None. */
export const RMS_EPS = 2 ** -23;

/** The checked normalized shape, as an array of positive integers matching x's trailing dimensions. */
function normalizedDims(op: string, x: Tensor, normalizedShape: unknown): number[] {
  const dims = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(dims) || dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    fail(op, `argument 'normalizedShape' must be a positive integer or a non-empty array of them, got ${describe(normalizedShape)}`);
  }
  const tail = x.shape.slice(x.rank - dims.length);
  if (dims.length > x.rank || tail.some((d, i) => d !== dims[i])) {
    fail(op, `argument 'normalizedShape' ${fmtShape(dims)} must match the last ${dims.length} dimension(s) of x ${fmtShape(x.shape)}`);
  }
  return dims;
}

function param(op: string, name: string, t: Tensor | null | undefined, dims: number[]): Tensor | null {
  if (t === undefined || t === null) return null;
  arg(op, name, t);
  if (t.rank !== dims.length || t.shape.some((d, i) => d !== dims[i])) {
    fail(op, `argument '${name}' has shape ${fmtShape(t.shape)}; needs ${fmtShape(dims)} (normalizedShape)`);
  }
  return t;
}

function normOp(op: string, x: Tensor, normalizedShape: number | readonly number[], weight: Tensor | null | undefined,
  bias: Tensor | null | undefined, eps: number, rms: boolean): Tensor {
  arg(op, 'x', x);
  const dims = normalizedDims(op, x, normalizedShape);
  const w = param(op, 'weight', weight, dims), b = param(op, 'bias', bias, dims);
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) fail(op, `argument 'eps' must be a finite number >= 0, got ${describe(eps)}`);
  const be = deviceOf(op, { x, ...(w ? { weight: w } : {}), ...(b ? { bias: b } : {}) });
  const cols = dims.reduce((a, d) => a * d, 1);
  const p: NormParams = { rows: x.size / cols, cols, eps, rms };
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return scope(() => {
    const y = empty(be, x.shape, op);
    const stats = empty(be, [p.rows, 2], op);
    be.normForward(x.handle(op, 'x'), w?.handle(op, 'weight') ?? null, b?.handle(op, 'bias') ?? null, y.handle(op, 'out'), stats.handle(op, 'stats'), p);
    return record(op, y, inputs, [x, w, stats], (g, [xs, ws, st], needs) => {
      const needW = !!w && needs[1], needB = !!b && needs[inputs.length - 1];
      const dx = empty(be, x.shape, op);
      const dw = needW ? empty(be, dims, op) : null, db = needB ? empty(be, dims, op) : null;
      if (p.rows === 0) {
        // Sums over no rows.
        for (const t of [dw, db]) if (t) be.fill(t.handle(op, 'grad'), cols, 0);
      } else {
        be.normBackward(xs!.handle(op, 'x'), ws?.handle(op, 'weight') ?? null, g.handle(op, 'grad'), st!.handle(op, 'stats'),
          dx.handle(op, 'dx'), dw?.handle(op, 'dw') ?? null, db?.handle(op, 'db') ?? null, p);
      }
      return [needs[0] ? dx : null, ...(w ? [dw] : []), ...(b ? [db] : [])];
    });
  });
}

/**
 * Layer normalization over the trailing dimensions `normalizedShape` (PyTorch's
 * F.layer_norm): (x − mean) / sqrt(var + eps) · weight + bias, with the biased
 * variance. weight and bias (shape normalizedShape) are optional.
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  return normOp('layerNorm', x, normalizedShape, weight, bias, eps, false);
}

/**
 * Root-mean-square normalization (PyTorch's F.rms_norm): x / sqrt(mean(x²) + eps)
 * · weight. eps defaults (undefined or null) to float32's machine epsilon, as PyTorch's None.
 */
export function rmsNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, eps?: number | null): Tensor {
  return normOp('rmsNorm', x, normalizedShape, weight, null, eps ?? RMS_EPS, true);
}
