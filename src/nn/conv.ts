// Conv2d: y = act(conv2d(x, W) + b) on NHWC input, one fused kernel. W is
// HWIO [kh, kw, in / groups, out] (PyTorch files hold [out, in / groups, kh,
// kw]; src/io/layouts.ts converts).
import type { Activation, DeviceName } from '../backends/backend.js';
import { tensor } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { conv2d, type Conv2dPadding, type Pair } from '../ops/conv.js';
import { convGeometry } from '../ops/conv-geometry.js';
import { accepts, bool, device, finite, instanceOf, integer, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import type { Tensor } from '../tensor.js';
import { initValues, type InitName } from './init.js';
import { ACTIVATION, INIT } from './linear.js';
import { Module } from './module.js';

export interface Conv2dLayerOptions {
  /** Default 1. */
  stride?: Pair;
  /** 'valid' (default, PyTorch's 0), 'same', a number, [h, w] or [top, bottom, left, right]. */
  padding?: Conv2dPadding;
  /** Default 1. */
  dilation?: Pair;
  /** Default 1; inChannels (and outChannels a multiple of it) is depthwise. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Fused into the convolution's epilogue. Default 'none'. */
  activation?: Activation;
  /** Weight initialiser; default 'he' for relu/gelu, 'xavier' otherwise, over the receptive field. Biases start at 0. */
  init?: InitName;
  seed?: number;
  device?: DeviceName;
  /** @internal A generator shared by the layers of one model. */
  generator?: Generator;
}

const isCount = (min: number) => (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= min;
/** A number or [h, w] of integers ≥ min. */
export const pairOf = (min: number) => accepts<Pair>(`${min > 0 ? 'a positive' : 'a non-negative'} integer or a pair [h, w] of them`,
  (v) => isCount(min)(v) || (Array.isArray(v) && v.length === 2 && v.every(isCount(min))));
const PADDING = accepts<Conv2dPadding>("'valid', 'same', a non-negative integer, [h, w] or [top, bottom, left, right]",
  (v) => v === 'valid' || v === 'same' || pairOf(0).test(v) || (Array.isArray(v) && v.length === 4 && v.every(isCount(0))));

const SPEC: OptionSpec<Conv2dLayerOptions> = {
  stride: pairOf(1), padding: PADDING, dilation: pairOf(1), groups: integer(1), bias: bool, activation: ACTIVATION, init: INIT,
  seed: finite, device, generator: instanceOf(Generator, 'Generator'),
};

/** [h, w] from a number or a pair. */
export const both = (v: Pair): [number, number] => typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** A convolution layer's channel counts, kernel size and groups, checked under `op`; the kernel size as [kh, kw]. */
export function checkConvLayer(op: string, inChannels: number, outChannels: number, kernelSize: Pair, groups: number): [number, number] {
  for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
    if (!isCount(1)(v)) fail(op, `argument '${name}' must be a positive integer, got ${v}`);
  }
  if (!pairOf(1).test(kernelSize)) fail(op, `argument 'kernelSize' must be a positive integer or a pair [h, w] of them, got ${JSON.stringify(kernelSize)}`);
  if (inChannels % groups !== 0) fail(op, `groups = ${groups} does not divide inChannels = ${inChannels}`);
  if (outChannels % groups !== 0) fail(op, `groups = ${groups} does not divide outChannels = ${outChannels}`);
  return both(kernelSize);
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: Pair;
  readonly padding: Conv2dPadding;
  readonly dilation: Pair;
  readonly groups: number;
  readonly activation: Activation;

  /** `kernelSize` is a number or [kh, kw]; options as PyTorch's (stride, padding, dilation, groups, bias) plus a fused `activation`. */
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, options_?: Conv2dLayerOptions) {
    super();
    const opts = options('nn.Conv2d', options_, SPEC);
    const groups = opts.groups ?? 1;
    const [kh, kw] = checkConvLayer('nn.Conv2d', inChannels, outChannels, kernelSize, groups);
    this.kernelSize = [kh, kw];
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 'valid';
    this.dilation = opts.dilation ?? 1;
    this.groups = groups;
    const act = opts.activation ?? 'none';
    this.activation = act;
    const g = opts.generator ?? generatorFor(opts.seed);
    const kind = opts.init ?? (act === 'relu' || act === 'gelu' ? 'he' : 'xavier');
    // Fan-in and fan-out over the receptive field, as PyTorch computes them for a convolution.
    const cin = inChannels / groups, fanIn = cin * kh * kw, fanOut = (outChannels / groups) * kh * kw;
    const w = initValues(kind, kh * kw * cin * outChannels, fanIn, fanOut, g);
    this.weight = this.registerParameter('weight', tensor(w, [kh, kw, cin, outChannels], { requiresGrad: true, device: opts.device }));
    this.bias = opts.bias === false ? null
      : this.registerParameter('bias', tensor(new Float32Array(outChannels), [outChannels], { requiresGrad: true, device: opts.device }));
  }

  forward(x: Tensor): Tensor {
    // The geometry is checked here under the layer's name (channels, groups, a kernel larger than the padded input).
    if (x?.shape?.length !== 4) fail('nn.Conv2d', `input must be 4-D [N, H, W, C] (channels last), got ${x?.shape ? fmtShape(x.shape) : typeof x}`);
    if (x.shape[3] !== this.inChannels) {
      fail('nn.Conv2d', `input has ${x.shape[3]} channels (x ${fmtShape(x.shape)}, NHWC: channels last), the layer takes inChannels = ${this.inChannels}`);
    }
    const o = { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
    convGeometry('nn.Conv2d', x.shape, this.weight.shape, o);
    return conv2d(x, this.weight, this.bias, { ...o, activation: this.activation });
  }
}
