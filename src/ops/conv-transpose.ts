// convTranspose2d: the transpose (gradient) of a convolution, as PyTorch's
// conv_transpose2d and TensorFlow's conv2d_transpose, NHWC. No kernel of its
// own: with G the convolution that maps the output back to the input, the
// forward is G's input-gradient kernel, the input gradient G's forward and the
// filter gradient G's filter-gradient kernel with the roles of its operands
// swapped. Bias and activation are the elementwise ops after it.
import { isGradEnabled, record } from '../autograd.js';
import { ACTIVATIONS, type Activation } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { anything, options, type OptionSpec } from '../options.js';
import { empty, type Tensor } from '../tensor.js';
import { convTransposeGeometry, type ConvTranspose2dGeometryOptions } from './conv-geometry.js';
import { add, gelu, relu, sigmoid, tanh } from './elementwise.js';
import { deviceOf } from './util.js';

export interface ConvTranspose2dOptions extends ConvTranspose2dGeometryOptions {
  /** After the bias add (default 'none'). */
  activation?: Activation;
}

// Names only: the values are checked below.
const SPEC: OptionSpec<ConvTranspose2dOptions> = {
  stride: anything, padding: anything, outputPadding: anything, dilation: anything, groups: anything, activation: anything,
};

const OP = 'convTranspose2d';
const ACT = { relu, gelu, tanh, sigmoid } as const;

/**
 * Transposed 2-D convolution of x [N, H, W, C] with w [Kh, Kw, O / groups, C]
 * → [N, Ho, Wo, O], Ho = (H − 1)·stride − 2·padding + dilation·(Kh − 1) +
 * outputPadding + 1: each input pixel adds its channels times the filter into
 * a window of the output (the gradient of conv2d with that filter, x as dy).
 * w is PyTorch's ConvTranspose2d weight [C, O / groups, Kh, Kw] permuted to
 * [Kh, Kw, O / groups, C] (TensorFlow's conv2d_transpose filter); `b` [O].
 */
export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: ConvTranspose2dOptions = {}): Tensor {
  const be = deviceOf(OP, b ? { x, w, b } : { x, w });
  if (opts === null || typeof opts !== 'object') fail(OP, `argument 'opts' must be an options object, got ${JSON.stringify(opts)}`);
  options(OP, opts, SPEC);
  const act = opts.activation ?? 'none';
  if (!(typeof act === 'string' && act in ACTIVATIONS)) fail(OP, `option 'activation' must be one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${JSON.stringify(act)}`);
  const g = convTransposeGeometry(x.shape, w.shape, opts);
  if (b && (b.rank !== 1 || b.shape[0] !== g.C)) fail(OP, `argument 'b' has shape ${fmtShape(b.shape)}; needs [${g.C}] to match w ${fmtShape(w.shape)}`);
  const on = isGradEnabled(), needX = on && x.requiresGrad, needW = on && w.requiresGrad;
  const outShape = [g.N, g.H, g.W, g.C], shapeX = x.shape, shapeW = w.shape;
  const y = scope(() => {
    const y = empty(be, outShape, OP);
    if (y.size > 0) be.conv2dBackwardData(x.handle(OP, 'x'), w.handle(OP, 'w'), y.handle(OP, 'out'), { ...g, prologue: null });
    return record(OP, y, [x, w], [needW ? x : null, needX ? w : null], (gy, [x, w]) => {
      const bk = gy.backend;
      let gx: Tensor | null = null, gw: Tensor | null = null;
      if (needX) {
        gx = empty(bk, shapeX, OP);
        if (gx.size > 0) bk.conv2d(gy.handle(OP, 'g'), w!.handle(OP, 'w'), null, gx.handle(OP, 'dx'), { ...g, act: 'none' });
      }
      if (needW) {
        gw = empty(bk, shapeW, OP);
        bk.conv2dBackwardFilter(gy.handle(OP, 'g'), x!.handle(OP, 'x'), gw.handle(OP, 'dw'), { ...g, prologue: null, sumB: null, dzOut: null });
      }
      return [gx, gw];
    });
  });
  const z = b ? add(y, b) : y;
  return act === 'none' ? z : ACT[act](z);
}
