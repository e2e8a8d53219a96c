// LayerNorm and RMSNorm layers (PyTorch's nn.LayerNorm / nn.RMSNorm):
// parameters `weight` (ones) and `bias` (zeros, LayerNorm only) of the
// normalized shape, both optional.
import type { DeviceName } from '../backends/backend.js';
import { tensor } from '../creation.js';
import { fail } from '../errors.js';
import { layerNorm, rmsNorm } from '../ops/norm.js';
import { accepts, bool, device, either, number, options, type OptionSpec } from '../options.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export interface LayerNormOptions {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Learn a weight (and bias) of the normalized shape. Default true. */
  elementwiseAffine?: boolean;
  /** Learn a bias (with elementwiseAffine). Default true. */
  bias?: boolean;
  device?: DeviceName;
}

export interface RMSNormOptions {
  /** Added to the mean square. Default (undefined or null): float32's machine epsilon, as PyTorch's None. */
  eps?: number | null;
  /** Learn a weight of the normalized shape. Default true. */
  elementwiseAffine?: boolean;
  device?: DeviceName;
}

const EPS = number(0, Infinity, '[)');
const ALIASES = { elementwise_affine: 'elementwiseAffine', normalized_shape: 'normalizedShape' };
const LN_SPEC: OptionSpec<LayerNormOptions> = { eps: EPS, elementwiseAffine: bool, bias: bool, device };
const RMS_SPEC: OptionSpec<RMSNormOptions> = { eps: either(EPS, accepts<null>('null', (v) => v === null)), elementwiseAffine: bool, device };

function dimsOf(op: string, normalizedShape: number | readonly number[]): number[] {
  const dims = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(dims) || dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    fail(op, `argument 'normalizedShape' must be a positive integer or a non-empty array of them, got ${JSON.stringify(normalizedShape)}`);
  }
  return [...dims];
}

const filled = (dims: number[], v: number, dev?: DeviceName) =>
  tensor(new Float32Array(dims.reduce((a, d) => a * d, 1)).fill(v), dims, { requiresGrad: true, device: dev });

export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options_?: LayerNormOptions) {
    super();
    const opts = options('nn.LayerNorm', options_, LN_SPEC, ALIASES);
    this.normalizedShape = dimsOf('nn.LayerNorm', normalizedShape);
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? this.registerParameter('weight', filled(this.normalizedShape, 1, opts.device)) : null;
    this.bias = affine && (opts.bias ?? true) ? this.registerParameter('bias', filled(this.normalizedShape, 0, opts.device)) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

export class RMSNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number | null;
  readonly weight: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options_?: RMSNormOptions) {
    super();
    const opts = options('nn.RMSNorm', options_, RMS_SPEC, ALIASES);
    this.normalizedShape = dimsOf('nn.RMSNorm', normalizedShape);
    this.eps = opts.eps ?? null;
    this.weight = opts.elementwiseAffine ?? true ? this.registerParameter('weight', filled(this.normalizedShape, 1, opts.device)) : null;
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, this.weight, this.eps);
  }
}
