// convTranspose2d: the transpose (gradient) of a convolution, as PyTorch's
// conv_transpose2d and TensorFlow's conv2d_transpose, NHWC. No kernel of its
// own: with G the convolution that maps the output back to the input, the
// forward is G's input-gradient kernel, the input gradient G's forward and the
// filter gradient G's filter-gradient kernel with the roles of its operands
// swapped. Bias and activation are the elementwise ops after it.
import { isGradEnabled, record } from '../autograd.js';
import { ACTIVATIONS, type Activation, type ConvGeometry } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { anything, options, type OptionSpec } from '../options.js';
import { empty, type Tensor } from '../tensor.js';
import type { Pair } from './conv-geometry.js';
import { add, gelu, relu, sigmoid, tanh } from './elementwise.js';
import { deviceOf } from './util.js';

export interface ConvTranspose2dOptions {
  /** Default 1. */
  stride?: Pair;
  /** Rows (columns) taken off each side of the full output, PyTorch's `padding` (default 0). */
  padding?: Pair;
  /** Rows (columns) added at the bottom (right) of the output, less than the stride or the dilation (default 0). */
  outputPadding?: Pair;
  /** Default 1. */
  dilation?: Pair;
  /** Default 1: x's channels (and w's last axis) split into this many groups. */
  groups?: number;
  /** After the bias add (default 'none'). */
  activation?: Activation;
}

// Names only: the values are checked below.
const SPEC: OptionSpec<ConvTranspose2dOptions> = {
  stride: anything, padding: anything, outputPadding: anything, dilation: anything, groups: anything, activation: anything,
};

const OP = 'convTranspose2d';
const ACT = { relu, gelu, tanh, sigmoid } as const;

function pair(op: string, name: string, v: Pair | undefined, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  const ok = (d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= min;
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0], v[1]];
  return fail(op, `option '${name}' must be ${min > 0 ? 'a positive' : 'a non-negative'} integer or a pair [height, width] of them, got ${JSON.stringify(v)}`);
}


/**
 * PyTorch's rule: outputPadding below the stride or the dilation (rows past the
 * last input's taps get the bias alone).
 */
export function checkOutputPadding(op: string, pad: [number, number], stride: [number, number], dilation: [number, number]): void {
  if (pad[0] >= Math.max(stride[0], dilation[0]) || pad[1] >= Math.max(stride[1], dilation[1])) {
    fail(op, `option 'outputPadding' [${pad.join(', ')}] must be smaller than the stride [${stride.join(', ')}] or the dilation [${dilation.join(', ')}] in each dimension`);
  }
}

/**
 * The convolution G whose input gradient this is: G maps [N, Ho, Wo, O]
 * (this op's output) to [N, H, W, C] (its input) with filter w read as
 * [Kh, Kw, O / groups, C], rows padded by `padding` on both sides.
 */
export function convTransposeGeometry(x: readonly number[], w: readonly number[], o: ConvTranspose2dOptions, op = OP): ConvGeometry {
  if (x.length !== 4) fail(op, `argument 'x' must be 4-D [N, H, W, C] (channels last), got ${fmtShape(x)}`);
  if (w.length !== 4) fail(op, `argument 'w' must be 4-D [Kh, Kw, O / groups, C], got ${fmtShape(w)}`);
  const [N, H, W, C] = x, [Kh, Kw, Og, Cw] = w;
  const groups = o.groups ?? 1;
  if (!(Number.isInteger(groups) && groups >= 1)) fail(op, `option 'groups' must be a positive integer, got ${JSON.stringify(o.groups)}`);
  if (C % groups !== 0) fail(op, `groups = ${groups} does not divide the input channels C = ${C} of x ${fmtShape(x)}`);
  if (Cw !== C) fail(op, `input channels differ: x ${fmtShape(x)} has C = ${C}, w ${fmtShape(w)} takes ${Cw} (its last axis); needs w of shape [${Kh}, ${Kw}, O / groups, ${C}]`);
  if (Kh < 1 || Kw < 1 || Og < 1 || C < 1) fail(op, `needs a kernel of at least 1×1 and at least one channel in and out, got x ${fmtShape(x)}, w ${fmtShape(w)}`);
  const [sh, sw] = pair(op, 'stride', o.stride, 1, 1);
  const [ph, pw] = pair(op, 'padding', o.padding, 0, 0);
  const [oph, opw] = pair(op, 'outputPadding', o.outputPadding, 0, 0);
  const [dh, dw] = pair(op, 'dilation', o.dilation, 1, 1);
  checkOutputPadding(op, [oph, opw], [sh, sw], [dh, dw]);
  if (H < 1 || W < 1) fail(op, `needs a non-empty image, got x ${fmtShape(x)} (only the batch may be 0)`);
  const size = (what: string, n: number, s: number, p: number, K: number, d: number, extra: number) => {
    const out = (n - 1) * s - 2 * p + d * (K - 1) + extra + 1;
    if (!(out >= 1)) fail(op, `output ${what} would be ${out} (needs at least 1): (${n} − 1)·${s} − 2·${p} + ${d}·(${K} − 1) + ${extra} + 1 for x ${fmtShape(x)}; the padding ${p} takes more than the full output`);
    return out;
  };
  const Ho = size('height', H, sh, ph, Kh, dh, oph), Wo = size('width', W, sw, pw, Kw, dw, opw);
  // G: input [N, Ho, Wo, O], output [N, H, W, C]; padding ph at the top and (at least) ph at the bottom gives H rows.
  return { N, H: Ho, W: Wo, C: Og * groups, Ho: H, Wo: W, O: C, Kh, Kw, sh, sw, dh, dw, padTop: ph, padLeft: pw, groups };
}

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
