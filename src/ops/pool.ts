// Pooling over NHWC tensors with PyTorch's semantics: maxPool2d, avgPool2d
// (count_include_pad true by default, as PyTorch), globalAvgPool2d. Max
// pooling saves each window's argmax (a by-product of the forward kernel)
// for its gradient, which goes to the first maximum of a window (PyTorch
// also picks one index); a NaN in a window propagates to its output.
import { isGradEnabled, record } from '../autograd.js';
import type { PoolGeometry } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { empty, type Tensor } from '../tensor.js';
import { poolGeometry, type Pair, type Pool2dGeometryOptions } from './conv-geometry.js';
import { unaryRaw } from './elementwise.js';
import { expandRaw } from './shape.js';
import { arg } from './util.js';

/** `kernelSize` (a number or [h, w]), `stride` (default: the kernel size), `padding` (symmetric, at most half the kernel). */
export type Pool2dOptions = Pool2dGeometryOptions;

export interface AvgPool2dOptions extends Pool2dOptions {
  /** Divide each window by Kh·Kw, padding included (default true, as PyTorch), or by its count of real inputs. */
  countIncludePad?: boolean;
}

function options<T extends Pool2dOptions>(o: Pair | T): T {
  return (typeof o === 'number' || Array.isArray(o) ? { kernelSize: o } : o) as T;
}

const outShape = (g: PoolGeometry) => [g.N, g.Ho, g.Wo, g.C];

/** Max over each window of x [N, H, W, C] → [N, Ho, Wo, C]; `opts` may be just the kernel size. */
export function maxPool2d(x: Tensor, opts: Pair | Pool2dOptions): Tensor {
  arg('maxPool2d', 'x', x);
  const g = poolGeometry('maxPool2d', x.shape, options(opts));
  const be = x.backend;
  const grad = isGradEnabled() && x.requiresGrad;
  return scope(() => {
    const y = empty(be, outShape(g), 'maxPool2d');
    // The argmax is kept only for a gradient (the graph owns it; the scope frees it otherwise).
    const at = grad ? empty(be, outShape(g), 'maxPool2d') : null;
    if (y.size > 0) be.maxPool2d(x.handle('maxPool2d', 'x'), y.handle('maxPool2d', 'out'), at ? at.handle('maxPool2d', 'argmax') : null, g);
    const shapeX = x.shape;
    return record('maxPool2d', y, [x], [at], (gy, [at]) => {
      const dx = empty(gy.backend, shapeX, 'maxPool2d');
      if (dx.size > 0) gy.backend.maxPool2dBackward(gy.handle('maxPool2d', 'g'), at!.handle('maxPool2d', 'argmax'), dx.handle('maxPool2d', 'dx'), g);
      return [dx];
    });
  });
}

/** Mean over each window of x [N, H, W, C] → [N, Ho, Wo, C]. */
export function avgPool2d(x: Tensor, opts: Pair | AvgPool2dOptions): Tensor {
  arg('avgPool2d', 'x', x);
  const o = options<AvgPool2dOptions>(opts);
  const g = { ...poolGeometry('avgPool2d', x.shape, o), countIncludePad: o.countIncludePad ?? true };
  if (typeof g.countIncludePad !== 'boolean') fail('avgPool2d', `option 'countIncludePad' must be a boolean, got ${JSON.stringify(o.countIncludePad)}`);
  const be = x.backend;
  const y = empty(be, outShape(g), 'avgPool2d');
  if (y.size > 0) be.avgPool2d(x.handle('avgPool2d', 'x'), y.handle('avgPool2d', 'out'), g);
  const shapeX = x.shape;
  return record('avgPool2d', y, [x], [], (gy) => {
    const dx = empty(gy.backend, shapeX, 'avgPool2d');
    if (dx.size > 0) gy.backend.avgPool2dBackward(gy.handle('avgPool2d', 'g'), dx.handle('avgPool2d', 'dx'), g);
    return [dx];
  });
}

/**
 * The mean of each channel over the whole image: x [N, H, W, C] → [N, C]
 * ([N, 1, 1, C] with keepDims). It runs as the reduce kernel's mean over the
 * middle axis of [N, H·W, C]; its gradient spreads g / (H·W) back.
 */
export function globalAvgPool2d(x: Tensor, opts: { keepDims?: boolean } = {}): Tensor {
  arg('globalAvgPool2d', 'x', x);
  if (x.rank !== 4) fail('globalAvgPool2d', `argument 'x' must be 4-D [N, H, W, C] (channels last), got ${fmtShape(x.shape)}`);
  const [N, H, W, C] = x.shape;
  if (H * W === 0) fail('globalAvgPool2d', `needs a non-empty image, got x ${fmtShape(x.shape)} (H·W = 0: the mean is undefined)`);
  const be = x.backend;
  const shape = opts.keepDims ? [N, 1, 1, C] : [N, C];
  const y = empty(be, shape, 'globalAvgPool2d');
  if (y.size > 0) be.reduce('mean', x.handle('globalAvgPool2d', 'x'), y.handle('globalAvgPool2d', 'out'), { outer: N, reduce: H * W, inner: C });
  const shapeX = x.shape;
  return record('globalAvgPool2d', y, [x], [], (gy) =>
    [expandRaw(unaryRaw('affine', gy.view([N, 1, 1, C]), 1 / (H * W), 0), shapeX)]);
}
