// ConvTranspose2d: y = act(convTranspose2d(x, W) + b) on NHWC input, the
// upsampling layer of decoders and generators. W is [kh, kw, out / groups,
// in] (PyTorch files hold [in, out / groups, kh, kw]; src/io/layouts.ts
// converts).
import type { Activation } from '../backends/backend.js';
import { tensor } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { checkOutputPadding, convTransposeGeometry, type Pair } from '../ops/conv-geometry.js';
import { convTranspose2d } from '../ops/conv-transpose.js';
import { bool, device, finite, instanceOf, integer, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import type { Tensor } from '../tensor.js';
import { both, checkConvLayer, pairOf, type Conv2dLayerOptions } from './conv.js';
import { initValues } from './init.js';
import { ACTIVATION, INIT } from './linear.js';
import { Module } from './module.js';

/** Conv2d's options, with PyTorch's integer padding and the outputPadding of a transposed convolution. */
export interface ConvTranspose2dLayerOptions extends Omit<Conv2dLayerOptions, 'padding'> {
  /** Rows (columns) taken off each side of the full output. Default 0. */
  padding?: Pair;
  /** Rows (columns) added at the bottom (right), less than the stride or the dilation. Default 0. */
  outputPadding?: Pair;
}

const SPEC: OptionSpec<ConvTranspose2dLayerOptions> = {
  stride: pairOf(1), padding: pairOf(0), outputPadding: pairOf(0), dilation: pairOf(1), groups: integer(1), bias: bool,
  activation: ACTIVATION, init: INIT, seed: finite, device, generator: instanceOf(Generator, 'Generator'),
};

const OP = 'nn.ConvTranspose2d';

export class ConvTranspose2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: Pair;
  readonly padding: Pair;
  readonly outputPadding: Pair;
  readonly dilation: Pair;
  readonly groups: number;
  readonly activation: Activation;

  /** PyTorch's ConvTranspose2d arguments (stride, padding, outputPadding, dilation, groups, bias) plus an `activation`. */
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, options_?: ConvTranspose2dLayerOptions) {
    super();
    const opts = options(OP, options_, SPEC);
    const groups = opts.groups ?? 1;
    const [kh, kw] = checkConvLayer(OP, inChannels, outChannels, kernelSize, groups);
    this.kernelSize = [kh, kw];
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.outputPadding = opts.outputPadding ?? 0;
    this.dilation = opts.dilation ?? 1;
    checkOutputPadding(OP, both(this.outputPadding), both(this.stride), both(this.dilation));
    this.groups = groups;
    const act = opts.activation ?? 'none';
    this.activation = act;
    const g = opts.generator ?? generatorFor(opts.seed);
    const kind = opts.init ?? (act === 'relu' || act === 'gelu' ? 'he' : 'xavier');
    // Fan-in and fan-out as PyTorch computes them for this weight ([in, out / groups, kh, kw] there).
    const cout = outChannels / groups, fanIn = cout * kh * kw, fanOut = inChannels * kh * kw;
    const w = initValues(kind, kh * kw * cout * inChannels, fanIn, fanOut, g);
    this.weight = this.registerParameter('weight', tensor(w, [kh, kw, cout, inChannels], { requiresGrad: true, device: opts.device }));
    this.bias = opts.bias === false ? null
      : this.registerParameter('bias', tensor(new Float32Array(outChannels), [outChannels], { requiresGrad: true, device: opts.device }));
  }

  forward(x: Tensor): Tensor {
    if (x?.shape?.length !== 4) fail(OP, `input must be 4-D [N, H, W, C] (channels last), got ${x?.shape ? fmtShape(x.shape) : typeof x}`);
    if (x.shape[3] !== this.inChannels) {
      fail(OP, `input has ${x.shape[3]} channels (x ${fmtShape(x.shape)}, NHWC: channels last), the layer takes inChannels = ${this.inChannels}`);
    }
    const o = { stride: this.stride, padding: this.padding, outputPadding: this.outputPadding, dilation: this.dilation, groups: this.groups };
    convTransposeGeometry(x.shape, this.weight.shape, o, OP);
    return convTranspose2d(x, this.weight, this.bias, { ...o, activation: this.activation });
  }
}
