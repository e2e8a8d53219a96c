// Pooling layers over NHWC input: MaxPool2d and AvgPool2d (PyTorch's
// arguments: the stride defaults to the kernel size).
import { fail } from '../errors.js';
import type { Pair } from '../ops/conv-geometry.js';
import { avgPool2d, globalAvgPool2d, maxPool2d } from '../ops/pool.js';
import { bool, options, type OptionSpec } from '../options.js';
import type { Tensor } from '../tensor.js';
import { pairOf } from './conv.js';
import { Module } from './module.js';

export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  /** Symmetric, at most half the kernel. Default 0. */
  padding?: Pair;
  /** Round the output size up (PyTorch's ceil_mode; see Pool2dOptions). Default false. */
  ceilMode?: boolean;
  /** Taps this many rows (columns) apart. Default 1. */
  dilation?: Pair;
}

export interface AvgPool2dLayerOptions extends Omit<MaxPool2dOptions, 'dilation'> {
  /** Divide by the whole window, padding included (default true, as PyTorch). */
  countIncludePad?: boolean;
}

const COMMON = { stride: pairOf(1), padding: pairOf(0), ceilMode: bool };
const MAX_SPEC: OptionSpec<MaxPool2dOptions> = { ...COMMON, dilation: pairOf(1) };
const AVG_SPEC: OptionSpec<AvgPool2dLayerOptions> = { ...COMMON, countIncludePad: bool };

function check<T extends object>(op: string, kernelSize: Pair, opts: T | undefined, spec: OptionSpec<T>): T {
  if (!pairOf(1).test(kernelSize)) fail(op, `argument 'kernelSize' must be a positive integer or a pair [h, w] of them, got ${JSON.stringify(kernelSize)}`);
  return options(op, opts, spec);
}

export class MaxPool2d extends Module {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly ceilMode: boolean;
  readonly dilation: Pair;

  constructor(readonly kernelSize: Pair, options_?: MaxPool2dOptions) {
    super();
    const o = check('nn.MaxPool2d', kernelSize, options_, MAX_SPEC);
    this.stride = o.stride ?? kernelSize;
    this.padding = o.padding ?? 0;
    this.ceilMode = o.ceilMode ?? false;
    this.dilation = o.dilation ?? 1;
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, dilation: this.dilation });
  }
}

export class AvgPool2d extends Module {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;

  constructor(readonly kernelSize: Pair, options_?: AvgPool2dLayerOptions) {
    super();
    const o = check('nn.AvgPool2d', kernelSize, options_, AVG_SPEC);
    this.stride = o.stride ?? kernelSize;
    this.padding = o.padding ?? 0;
    this.ceilMode = o.ceilMode ?? false;
    this.countIncludePad = o.countIncludePad ?? true;
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding, ceilMode: this.ceilMode, countIncludePad: this.countIncludePad });
  }
}

/**
 * The mean of each channel over the image: [N, H, W, C] → [N, C] (Keras's
 * GlobalAveragePooling2D; PyTorch writes nn.AdaptiveAvgPool2d(1) + nn.Flatten()).
 */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}
