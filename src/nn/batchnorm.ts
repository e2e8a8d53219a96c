// BatchNorm2d over NHWC input (channels last): PyTorch's nn.BatchNorm2d.
// Training normalises by the batch's mean and biased variance over N, H, W
// (per channel) and updates the running statistics with the unbiased one;
// eval normalises by the running statistics. The forward is composed of
// differentiable ops, so its gradient (through the batch statistics too)
// comes from autograd.
import type { DeviceName } from '../backends/backend.js';
import { noGrad } from '../autograd.js';
import { ones, tensor, zeros } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { add, div, mul, sqrt, square, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { bool, device, either, accepts, number, options, type OptionSpec } from '../options.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export interface BatchNorm2dOptions {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Weight of the new batch in the running statistics; null: a cumulative average (1 / num_batches_tracked). Default 0.1. */
  momentum?: number | null;
  /** A learnable per-channel scale (weight, starts at 1) and shift (bias, starts at 0). Default true. */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked and use them in eval. Default true; false: batch statistics always. */
  trackRunningStats?: boolean;
  device?: DeviceName;
}

const SPEC: OptionSpec<BatchNorm2dOptions> = {
  eps: number(0, Infinity, '()'), momentum: either(number(0, 1), accepts<null>('null', (v) => v === null)),
  affine: bool, trackRunningStats: bool, device,
};

/** Writes `src` into the buffer `dst` in place (its identity stays: state dicts and optimizers hold it). */
function assign(dst: Tensor, src: Tensor): void {
  dst.backend.unary('copy', src.handle('nn.BatchNorm2d', 'src'), dst.handle('nn.BatchNorm2d', 'buffer'), dst.size);
  dst.live('nn.BatchNorm2d', 'buffer').version++;
}

export class BatchNorm2d extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  /** Training batches seen (PyTorch's int64 counter, kept as a float32 scalar; saved as I64). */
  readonly numBatchesTracked: Tensor | null;

  constructor(readonly numFeatures: number, options_?: BatchNorm2dOptions) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) fail('nn.BatchNorm2d', `argument 'numFeatures' must be a positive integer, got ${numFeatures}`);
    const o = options('nn.BatchNorm2d', options_, SPEC);
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.affine = o.affine ?? true;
    this.trackRunningStats = o.trackRunningStats ?? true;
    const C = numFeatures, dev = { device: o.device };
    this.weight = this.affine ? this.registerParameter('weight', ones([C], { requiresGrad: true, ...dev })) : null;
    this.bias = this.affine ? this.registerParameter('bias', zeros([C], { requiresGrad: true, ...dev })) : null;
    // PyTorch's buffer names, so state dicts and files match torch.nn.BatchNorm2d's.
    const track = this.trackRunningStats;
    this.runningMean = this.registerBuffer('running_mean', track ? zeros([C], dev) : null);
    this.runningVar = this.registerBuffer('running_var', track ? ones([C], dev) : null);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', track ? tensor(new Float32Array(1), [], dev) : null);
  }

  forward(x: Tensor): Tensor {
    if (x?.shape?.length !== 4) fail('nn.BatchNorm2d', `input must be 4-D [N, H, W, C] (channels last), got ${x?.shape ? fmtShape(x.shape) : typeof x}`);
    const [N, H, W, C] = x.shape;
    if (C !== this.numFeatures) fail('nn.BatchNorm2d', `input has ${C} channels (x ${fmtShape(x.shape)}, NHWC: channels last), the layer has numFeatures = ${this.numFeatures}`);
    const n = N * H * W;
    const batchStats = this.training || !this.trackRunningStats;
    if (batchStats && n < 2) fail('nn.BatchNorm2d', `training needs more than 1 value per channel, got x ${fmtShape(x.shape)} (N·H·W = ${n})`);
    return scope(() => {
      let mu: Tensor, v: Tensor;
      if (batchStats) {
        mu = mean(x, [0, 1, 2]);
        v = mean(square(sub(x, mu)), [0, 1, 2]);
        if (this.training && this.trackRunningStats) this.update(mu, v, n);
      } else {
        mu = this.runningMean!;
        v = this.runningVar!;
      }
      let y = div(sub(x, mu), sqrt(add(v, this.eps)));
      if (this.affine) y = add(mul(y, this.weight!), this.bias!);
      return y;
    });
  }

  /** running ← (1 − m)·running + m·batch (the variance unbiased: · n / (n − 1)); m = 1 / batches seen when momentum is null. */
  private update(mu: Tensor, v: Tensor, n: number): void {
    noGrad(() => scope(() => {
      const nbt = add(this.numBatchesTracked!, 1);
      assign(this.numBatchesTracked!, nbt);
      const unbiased = mul(v, n / (n - 1));
      for (const [run, stat] of [[this.runningMean!, mu], [this.runningVar!, unbiased]] as const) {
        const step = this.momentum === null ? div(sub(stat, run), nbt) : mul(sub(stat, run), this.momentum);
        assign(run, add(run, step));
      }
    }));
  }
}
