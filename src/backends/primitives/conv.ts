// 2-D convolution, NHWC input and HWIO filter (as tfjs and XNNPACK), with
// stride, padding, dilation and groups: the forward with fused bias and
// activation, the input gradient (backward-data) and the filter gradient
// (backward-filter, with the bias gradient and the prologued incoming
// gradient as by-products). Kernels: kernels-wgsl/conv*.wgsl,
// kernels-as/conv*.ts.
import { ACTIVATIONS, type Activation } from './activation.js';
import { codes, struct } from './declare.js';
import type { ActGradOp } from './elementwise.js';

/**
 * Where every output pixel reads: x [N, H, W, C], w [Kh, Kw, C / groups, O],
 * y [N, Ho, Wo, O]. Output pixel (oh, ow) reads input row oh·sh − padTop +
 * kh·dh (column likewise); rows outside [0, H) are zeros. The padding at the
 * bottom and right is implied by Ho and Wo. The ops layer checks all of it.
 */
export interface ConvGeometry {
  N: number; H: number; W: number; C: number;
  Ho: number; Wo: number; O: number;
  Kh: number; Kw: number;
  sh: number; sw: number; dh: number; dw: number;
  padTop: number; padLeft: number;
  groups: number;
}

export interface Conv2dParams extends ConvGeometry {
  /** Applied after the bias add. */
  act: Activation;
}

/** The incoming gradient `dy` read as op(t, dy): the activation derivative (see MatmulParams.prologue). */
export interface ConvPrologue<H> { op: ActGradOp; t: H }

export interface ConvBackwardDataParams<H> extends ConvGeometry {
  prologue?: ConvPrologue<H> | null;
}

export interface ConvBackwardFilterParams<H> extends ConvGeometry {
  prologue?: ConvPrologue<H> | null;
  /** Also write Σ over pixels of op(t, dy) (length O): the bias gradient. */
  sumB?: H | null;
  /** Also write op(t, dy) itself (the size of dy), for a later backward-data pass to read plain. */
  dzOut?: H | null;
}

export interface ConvKernels<H> {
  /** y = act(conv(x, w) + bias). */
  conv2d(x: H, w: H, bias: H | null, out: H, p: Conv2dParams): void;
  /** dx = the gradient of <dy, conv(x, w)> with respect to x (every element of dx written). */
  conv2dBackwardData(dy: H, w: H, dx: H, p: ConvBackwardDataParams<H>): void;
  /** dw = the gradient with respect to w (every element written). */
  conv2dBackwardFilter(x: H, dy: H, dw: H, p: ConvBackwardFilterParams<H>): void;
}

/** Sizes (elements) of x, w and y; throws on an inconsistent geometry (the ops layer never sends one). */
export function convSizes(p: ConvGeometry, who: string): { x: number; w: number; y: number } {
  const { N, H, W, C, Ho, Wo, O, Kh, Kw, groups } = p;
  const ints = [N, H, W, C, Ho, Wo, O, Kh, Kw, p.sh, p.sw, p.dh, p.dw, p.padTop, p.padLeft, groups];
  if (!ints.every((v) => Number.isInteger(v) && v >= 0) || groups < 1 || C % groups !== 0 || O % groups !== 0
    || p.sh < 1 || p.sw < 1 || p.dh < 1 || p.dw < 1) {
    throw new Error(`${who}: invalid convolution geometry ${JSON.stringify(p)}`);
  }
  return { x: N * H * W * C, w: Kh * Kw * (C / groups) * O, y: N * Ho * Wo * O };
}

/** Depthwise: every channel its own filter (groups = C = O > 1): its own kernels (WASM: all three passes; WebGPU: the forward). */
export const isDepthwise = (p: ConvGeometry) => p.groups > 1 && p.groups === p.C && p.O === p.C;

/** Input channels from which a 3×3 stride-1 convolution takes the WASM Winograd path. */
const WINOGRAD_FROM = 8;

/**
 * WASM runs this geometry by Winograd F(2×2, 3×3) (kernels-as/conv-winograd.ts; 2.25x fewer
 * multiply-adds): 3×3, stride 1, dilation 1, one group, enough channels for the transforms to pay,
 * and outputs of at least 2×2 (a tile of 4 outputs that computes 1 or 2 saves nothing).
 */
export const useWinograd = (p: ConvGeometry) => p.groups === 1 && p.Kh === 3 && p.Kw === 3 && p.sh === 1 && p.sw === 1
  && p.dh === 1 && p.dw === 1 && p.C >= WINOGRAD_FROM && p.Ho >= 2 && p.Wo >= 2;

export function checkAct(act: Activation, who: string): number {
  const code = ACTIVATIONS[act];
  if (code === undefined) throw new Error(`${who}: unknown activation ${act}`);
  return code;
}

/** The kernel variants of a WASM conv job (ConvJob.mode). */
export const CONV = codes('CONV', {
  /** Pack the filter into column panels (one part). */
  packForward: 0, forward: 1,
  packData: 2, data: 3,
  filter: 4, filterReduce: 5,
  depthwise: 6, depthwiseData: 7, depthwiseFilter: 8,
  /** 3×3 at stride 1 by Winograd F(2×2, 3×3): the filter transformed into panels (one part), then the tiles. */
  packWinograd: 9, winograd: 10,
  /** The filter turned 180° and transposed first (an input gradient as a forward). */
  packWinogradData: 11,
});

/**
 * WASM job descriptor, shared by every mode. Pointers are byte addresses
 * (0: absent). `packed` is the packed filter (or the filter-gradient
 * partials), `zero` a zeroed block of `zeroLen` floats that padded taps read;
 * each part's scratch is at scratch + slot * scratchPart. `indirect` 1 reads
 * the input in place through row pointers, 0 gathers it into packed panels.
 * `chunk` is the pixels per staged block of the filter gradient.
 */
export const ConvJob = struct('ConvJob', {
  mode: 'u32', x: 'u32', w: 'u32', bias: 'u32', out: 'u32', t: 'u32', pro: 'u32', act: 'u32',
  sumB: 'u32', dzOut: 'u32', packed: 'u32', zero: 'u32', scratch: 'u32', scratchPart: 'u32', parts: 'u32', indirect: 'u32',
  N: 'u32', H: 'u32', W: 'u32', C: 'u32', Ho: 'u32', Wo: 'u32', O: 'u32', Kh: 'u32', Kw: 'u32',
  sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32', padTop: 'u32', padLeft: 'u32', groups: 'u32', chunk: 'u32',
}, 'wasm');

/**
 * WebGPU uniform. `Cg`/`Og` are channels per group; `M` the output pixels
 * (N·Ho·Wo); `bx` the blocks along the inner dimension of the dispatch;
 * `chunk`/`chunks` split the filter gradient's pixel sum.
 */
export const ConvDims = struct('ConvDims', {
  N: 'u32', H: 'u32', W: 'u32', C: 'u32', Ho: 'u32', Wo: 'u32', O: 'u32', Kh: 'u32',
  Kw: 'u32', sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32', padTop: 'u32', padLeft: 'u32', groups: 'u32',
  Cg: 'u32', Og: 'u32', M: 'u32', bx: 'u32', chunk: 'u32', chunks: 'u32', total: 'u32',
}, 'wgsl');

export const DECLS = [CONV, ConvJob, ConvDims];
