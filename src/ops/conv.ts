// conv2d: NHWC input, HWIO filter, PyTorch's options (stride, padding,
// dilation, groups) and a fused bias + activation, with its gradient. The
// schedule has one owner, convPlan (as linearPlan for linear): the forward
// kernel (GELU unfused while training, its derivative needs the
// pre-activation), and where dZ = g ⊙ act'(·) is formed. Normally nowhere on
// its own: the filter-gradient kernel reads g through the activation
// derivative while it stages it anyway, sums the bias gradient from it, and
// writes dZ out for the input gradient to read plain. A separate elementwise
// pass forms dZ only where the filter gradient is not computed, or where the
// backend states that re-reading the prologue's operand costs more
// (fusedPrologueMaxReads, e.g. a CPU WebGPU adapter).
import { isGradEnabled, record } from '../autograd.js';
import { ACTIVATIONS, type ActGradOp, type Activation, type Backend, type ConvGeometry } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { anything, options, type OptionSpec } from '../options.js';
import { empty, type Tensor } from '../tensor.js';
import { convGeometry, type Conv2dGeometryOptions } from './conv-geometry.js';
import { binaryRaw, unaryRaw } from './elementwise.js';
import { ACT_BWD } from './linear.js';
import { reduceSumRows } from './reduce.js';
import { deviceOf } from './util.js';

export type { Conv2dPadding, Pair } from './conv-geometry.js';

export interface Conv2dOptions extends Conv2dGeometryOptions {
  /** Fused after the bias add (default 'none'). */
  activation?: Activation;
}

// Names only: convGeometry and the activation check below test the values. An
// unknown name (a typo, 'bias' given as an option) is refused, never ignored.
const CONV_OPTIONS: OptionSpec<Conv2dOptions> = { stride: anything, padding: anything, dilation: anything, groups: anything, activation: anything };

/** Which of x, w, b get a gradient. */
export interface ConvNeeds { x: boolean; w: boolean; b: boolean }

/** The steps of one convolution's forward and backward. */
export interface ConvPlan {
  /** The activation the forward kernel applies (none where `postAct` does). */
  act: Activation;
  /** GELU as its own pass while training: its derivative needs the pre-activation. */
  postAct: 'gelu' | null;
  /** The activation derivative, or null for 'none'. */
  op: ActGradOp | null;
  /** dZ formed by one elementwise pass first, every gradient kernel reading it plain. */
  dzPass: boolean;
  /** The filter-gradient kernel writes dZ (read through its prologue) for the input gradient. */
  dzFromFilter: boolean;
  /** The bias gradient: from the filter-gradient kernel, a column sum of dZ, or none. */
  db: 'sumB' | 'rows' | null;
}

/**
 * The schedule of act(conv(x, w) + b) and its gradient on `be`. Each dZ
 * element is re-read by Kh·Kw·C/groups filter-gradient outputs; past the
 * backend's fusedPrologueMaxReads, one pass forming it is cheaper.
 */
export function convPlan(be: Backend, g: ConvGeometry, act: Activation, bias: boolean, needs: ConvNeeds): ConvPlan {
  const grad = needs.x || needs.w || (needs.b && bias);
  const postAct = grad && act === 'gelu' ? 'gelu' : null;
  const op = act === 'none' ? null : ACT_BWD[act];
  const reads = g.Kh * g.Kw * (g.C / g.groups);
  const dzPass = op !== null && grad && (!needs.w || reads > be.fusedPrologueMaxReads);
  return {
    act: postAct ? 'none' : act,
    postAct,
    op,
    dzPass,
    dzFromFilter: op !== null && !dzPass && needs.x && needs.w,
    db: !(needs.b && bias) ? null : needs.w ? 'sumB' : 'rows',
  };
}

/**
 * 2-D convolution of x [N, H, W, C] (channels last) with w [Kh, Kw, C /
 * groups, O] (HWIO) plus b [O] (or null), then `activation`: y [N, Ho, Wo,
 * O]. PyTorch's semantics with TensorFlow's layout: `stride`, `dilation` (a
 * number or [h, w]), `padding` ('valid' (default), 'same', a number, [h, w]
 * or [top, bottom, left, right]), `groups` (groups = C: depthwise).
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const be = deviceOf('conv2d', b ? { x, w, b } : { x, w });
  if (opts === null || typeof opts !== 'object') fail('conv2d', `argument 'opts' must be an options object, got ${JSON.stringify(opts)}`);
  options('conv2d', opts, CONV_OPTIONS);
  const act = opts.activation ?? 'none';
  if (!(act in ACTIVATIONS)) fail('conv2d', `option 'activation' must be one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${JSON.stringify(act)}`);
  const geo = convGeometry('conv2d', x.shape, w.shape, opts);
  const { pads: _pads, ...g } = geo;
  if (b && (b.rank !== 1 || b.shape[0] !== g.O)) fail('conv2d', `argument 'b' has shape ${fmtShape(b.shape)}; needs [${g.O}] to match w ${fmtShape(w.shape)}`);
  const on = isGradEnabled();
  const needs = { x: on && x.requiresGrad, w: on && w.requiresGrad, b: on && !!b?.requiresGrad };
  const plan = convPlan(be, g, act, !!b, needs);
  const outShape = [g.N, g.Ho, g.Wo, g.O], M = g.N * g.Ho * g.Wo;
  const shapeX = x.shape, shapeW = w.shape, hasBias = !!b;
  return scope(() => {
    const z = empty(be, outShape, 'conv2d');
    if (z.size > 0) {
      be.conv2d(x.handle('conv2d', 'x'), w.handle('conv2d', 'w'), b ? b.handle('conv2d', 'b') : null, z.handle('conv2d', 'out'), { ...g, act: plan.act });
    }
    const y = plan.postAct ? unaryRaw(plan.postAct, z) : z;
    // The derivative of relu, tanh and sigmoid reads the output; gelu's the pre-activation.
    const t = act === 'none' ? null : plan.postAct ? z : y;
    const inputs = b ? [x, w, b] : [x, w];
    return record('conv2d', y, inputs, [needs.w ? x : null, needs.x ? w : null, t], (gy, [x, w, t]) => {
      const bk = gy.backend;
      const dz = plan.dzPass ? binaryRaw(plan.op!, t!, gy) : gy;
      const pro = !plan.dzPass && plan.op ? { op: plan.op, t: t!.handle('conv2d', 't') } : null;
      let gw: Tensor | null = null, gb: Tensor | null = null, dzOut: Tensor | null = null;
      if (needs.w) {
        gw = empty(bk, shapeW, 'conv2d');
        gb = plan.db === 'sumB' ? empty(bk, [g.O], 'conv2d') : null;
        dzOut = plan.dzFromFilter ? empty(bk, outShape, 'conv2d') : null;
        bk.conv2dBackwardFilter(x!.handle('conv2d', 'x'), dz.handle('conv2d', 'g'), gw.handle('conv2d', 'dw'), {
          ...g, prologue: pro, sumB: gb ? gb.handle('conv2d', 'db') : null, dzOut: dzOut ? dzOut.handle('conv2d', 'dz') : null,
        });
      }
      if (plan.db === 'rows') gb = reduceSumRows(dz.view([M, g.O]));
      let gx: Tensor | null = null;
      if (needs.x) {
        gx = empty(bk, shapeX, 'conv2d');
        // dZ comes plain from the pass or the filter gradient; with no activation g is dZ.
        const src = dzOut ?? dz;
        if (gx.size > 0) bk.conv2dBackwardData(src.handle('conv2d', 'g'), w!.handle('conv2d', 'w'), gx.handle('conv2d', 'dx'), { ...g, prologue: null });
      }
      return hasBias ? [gx, gw, gb] : [gx, gw];
    });
  });
}
