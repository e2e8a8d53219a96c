// The geometry of conv2d and the pooling ops from their PyTorch-style
// options, checked on the host before any kernel: every error names the op,
// the argument or dimension, what it got and what it needs.
import type { ConvGeometry, PoolGeometry } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';

/** One value for both spatial dimensions, or [height, width]. */
export type Pair = number | readonly [number, number];

export type Conv2dPadding = 'valid' | 'same' | number | readonly [number, number] | readonly [number, number, number, number];

function pair(op: string, name: string, v: Pair | undefined, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  const ok = (d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= min;
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0], v[1]];
  const what = min > 0 ? 'a positive integer' : 'a non-negative integer';
  return fail(op, `option '${name}' must be ${what} or a pair [height, width] of them, got ${JSON.stringify(v)}`);
}

/**
 * Windows of span `eff` at `stride` over the padded input: ⌊(n + pads − eff) / s⌋ + 1, or in ceil mode (pooling)
 * ⌈…⌉ + 1 less a last window that would start in the bottom (right) padding, as PyTorch's pooling_output_shape.
 */
const spatial = (op: string, what: string, size: number, pad0: number, pad1: number, eff: number, stride: number, x: readonly number[], ceil = false) => {
  const span = size + pad0 + pad1 - eff;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= size + pad0) out--;
  if (!(out >= 1)) {
    fail(op, `output ${what} would be ${out} (needs at least 1${ceil ? ', ceilMode' : ''}): the ${eff === 1 ? '' : 'effective '}kernel ${what} ${eff} is larger than `
      + `the padded input ${what} ${size} + ${pad0} + ${pad1} = ${size + pad0 + pad1} of x ${fmtShape(x)}${ceil ? ` by at least the stride ${stride}` : ''}`);
  }
  return out;
};

function checkX(op: string, x: readonly number[]): void {
  if (x.length !== 4) fail(op, `argument 'x' must be 4-D [N, H, W, C] (channels last), got ${fmtShape(x)}`);
}

export interface Conv2dGeometryOptions {
  stride?: Pair;
  padding?: Conv2dPadding;
  dilation?: Pair;
  groups?: number;
}

/**
 * x [N, H, W, C] ⊛ w [Kh, Kw, C / groups, O] → the kernels' geometry, and the
 * padding on all four sides. 'same' follows TensorFlow: total padding
 * max((⌈H/s⌉ − 1)·s + (Kh − 1)·d + 1 − H, 0), the odd one at the bottom
 * (right); at stride 1 that is PyTorch's padding='same'.
 */
export function convGeometry(op: string, x: readonly number[], w: readonly number[], o: Conv2dGeometryOptions): ConvGeometry & { pads: number[] } {
  checkX(op, x);
  if (w.length !== 4) fail(op, `argument 'w' must be 4-D [Kh, Kw, C / groups, O] (HWIO), got ${fmtShape(w)}`);
  const [N, H, W, C] = x, [Kh, Kw, Cw, O] = w;
  const groups = o.groups ?? 1;
  if (!(Number.isInteger(groups) && groups >= 1)) fail(op, `option 'groups' must be a positive integer, got ${JSON.stringify(o.groups)}`);
  if (C % groups !== 0) fail(op, `groups = ${groups} does not divide the input channels C = ${C} of x ${fmtShape(x)}`);
  if (O % groups !== 0) fail(op, `groups = ${groups} does not divide the output channels O = ${O} of w ${fmtShape(w)}`);
  if (Cw * groups !== C) {
    fail(op, `input channels differ: x ${fmtShape(x)} has C = ${C}, w ${fmtShape(w)} takes ${Cw} per group × ${groups} group${groups > 1 ? 's' : ''} `
      + `= ${Cw * groups}; needs w of shape [${Kh}, ${Kw}, ${C / groups}, ${O}]`);
  }
  if (Kh < 1 || Kw < 1) fail(op, `kernel size must be at least 1×1, got w ${fmtShape(w)}`);
  const [sh, sw] = pair(op, 'stride', o.stride, 1, 1);
  const [dh, dw] = pair(op, 'dilation', o.dilation, 1, 1);
  const eh = (Kh - 1) * dh + 1, ew = (Kw - 1) * dw + 1;
  const p = o.padding ?? 'valid';
  let pads: number[];
  if (p === 'valid') pads = [0, 0, 0, 0];
  else if (p === 'same') {
    const th = Math.max((Math.ceil(H / sh) - 1) * sh + eh - H, 0), tw = Math.max((Math.ceil(W / sw) - 1) * sw + ew - W, 0);
    pads = [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
  } else if (Array.isArray(p) && p.length === 4 && p.every((d) => Number.isInteger(d) && d >= 0)) pads = [...p];
  else {
    const [ph, pw] = pair(op, 'padding', p as Pair, 0, 0);
    pads = [ph, ph, pw, pw];
  }
  const Ho = spatial(op, 'height', H, pads[0], pads[1], eh, sh, x), Wo = spatial(op, 'width', W, pads[2], pads[3], ew, sw, x);
  return { N, H, W, C, Ho, Wo, O, Kh, Kw, sh, sw, dh, dw, padTop: pads[0], padLeft: pads[2], groups, pads };
}

export interface Pool2dGeometryOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
  /**
   * Round the output size up instead of down (PyTorch's ceil_mode): a last
   * window that runs past the bottom (right) padding is kept when it starts
   * inside the input or the top (left) padding. Default false.
   */
  ceilMode?: boolean;
  /** Max pooling only: taps this many rows (columns) apart, as PyTorch's MaxPool2d dilation. Default 1. */
  dilation?: Pair;
}

/** PyTorch's pooling geometry: symmetric padding of at most half the window, stride = kernel size by default, floor or ceil mode. */
export function poolGeometry(op: string, x: readonly number[], o: Pool2dGeometryOptions): PoolGeometry {
  checkX(op, x);
  if (o.kernelSize === undefined) fail(op, `option 'kernelSize' is required`);
  const [Kh, Kw] = pair(op, 'kernelSize', o.kernelSize, 1, 1);
  const [sh, sw] = o.stride === undefined || o.stride === null ? [Kh, Kw] : pair(op, 'stride', o.stride, 1, 1);
  const [ph, pw] = pair(op, 'padding', o.padding, 0, 0);
  const [dh, dw] = pair(op, 'dilation', o.dilation, 1, 1);
  const ceil = o.ceilMode === undefined ? false : o.ceilMode;
  if (typeof ceil !== 'boolean') fail(op, `option 'ceilMode' must be a boolean (true or false), got ${JSON.stringify(o.ceilMode)}`);
  // PyTorch's bound: half the kernel, not of its dilated span.
  if (2 * ph > Kh || 2 * pw > Kw) {
    fail(op, `padding [${ph}, ${pw}] must be at most half the kernel size [${Kh}, ${Kw}] (as in PyTorch: a window of padding alone has no value)`);
  }
  const [N, H, W, C] = x;
  const Ho = spatial(op, 'height', H, ph, ph, (Kh - 1) * dh + 1, sh, x, ceil), Wo = spatial(op, 'width', W, pw, pw, (Kw - 1) * dw + 1, sw, x, ceil);
  return { N, H, W, C, Ho, Wo, Kh, Kw, sh, sw, padTop: ph, padLeft: pw, ...(dh !== 1 || dw !== 1 ? { dh, dw } : {}) };
}

// ---- transposed convolution ----------------------------------------------

export interface ConvTranspose2dGeometryOptions {
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
export function convTransposeGeometry(x: readonly number[], w: readonly number[], o: ConvTranspose2dGeometryOptions, op = 'convTranspose2d'): ConvGeometry {
  checkX(op, x);
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
