// Pooling over NHWC tensors with PyTorch's semantics: maxPool2d, avgPool2d
// (count_include_pad true by default, as PyTorch; ceil_mode as ceilMode),
// globalAvgPool2d. Max
// pooling saves each window's argmax (a by-product of the forward kernel)
// for its gradient, which goes to the first maximum of a window (PyTorch
// also picks one index); a NaN in a window propagates to its output.
import { isGradEnabled, record } from '../autograd.js';
import type { PoolGeometry } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { empty, type Tensor } from '../tensor.js';
import { poolGeometry, type Pair, type Pool2dGeometryOptions } from './conv-geometry.js';
import { anything, bool, options as checkOptions, type OptionSpec } from '../options.js';
import { unaryRaw } from './elementwise.js';
import { expandRaw } from './shape.js';
import { arg } from './util.js';

/** `kernelSize` (a number or [h, w]), `stride` (default: the kernel size), `padding` (symmetric, at most half the kernel), `ceilMode`, `dilation` (max only). */
export type Pool2dOptions = Pool2dGeometryOptions;

export interface AvgPool2dOptions extends Omit<Pool2dOptions, 'dilation'> {
  /**
   * Divide each window by its size, padding included (default true, as
   * PyTorch), or by its count of real inputs. In ceil mode a last window that
   * runs past the padding counts only what lies within the padded input.
   */
  countIncludePad?: boolean;
}

// Names only: poolGeometry checks the values (and names the option). An unknown
// name (PyTorch's divisor_override, dilation for an average, a typo) is refused, never ignored.
const COMMON = { kernelSize: anything, stride: anything, padding: anything, ceilMode: anything };
const MAX: OptionSpec<Pool2dOptions> = { ...COMMON, dilation: anything };
const AVG: OptionSpec<AvgPool2dOptions> = { ...COMMON, countIncludePad: bool };

function options<T extends Pool2dOptions | AvgPool2dOptions>(op: string, o: Pair | T, spec: OptionSpec<T>): T {
  if (typeof o === 'number' || Array.isArray(o)) return { kernelSize: o } as T;
  if (o === null || typeof o !== 'object') fail(op, `needs options { ${Object.keys(spec).map((k, i) => (i ? `${k}?` : k)).join(', ')} } or a kernel size, got ${JSON.stringify(o)}`);
  return checkOptions(op, o as T, spec);
}

const outShape = (g: PoolGeometry) => [g.N, g.Ho, g.Wo, g.C];

/** Max over each window of x [N, H, W, C] → [N, Ho, Wo, C]; `opts` may be just the kernel size. */
export function maxPool2d(x: Tensor, opts: Pair | Pool2dOptions): Tensor {
  arg('maxPool2d', 'x', x);
  const g = poolGeometry('maxPool2d', x.shape, options('maxPool2d', opts, MAX));
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
  const o = options('avgPool2d', opts, AVG);
  const g = { ...poolGeometry('avgPool2d', x.shape, o), countIncludePad: o.countIncludePad ?? true };
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

export interface GlobalAvgPool2dOptions {
  /** Keep the pooled dimensions: [N, 1, 1, C] (default false: [N, C]). */
  keepDims?: boolean;
}

const GLOBAL: OptionSpec<GlobalAvgPool2dOptions> = { keepDims: bool };

/**
 * The mean of each channel over the whole image: x [N, H, W, C] → [N, C]
 * ([N, 1, 1, C] with keepDims). It runs as the reduce kernel's mean over the
 * middle axis of [N, H·W, C]; its gradient spreads g / (H·W) back.
 */
export function globalAvgPool2d(x: Tensor, opts?: GlobalAvgPool2dOptions): Tensor {
  arg('globalAvgPool2d', 'x', x);
  opts = checkOptions('globalAvgPool2d', opts, GLOBAL);
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
