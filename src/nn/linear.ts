// Linear: y = act(x·W + b) as one fused kernel. W is [in, out].
import { ACTIVATIONS, type Activation, type DeviceName } from '../backends/backend.js';
import { tensor } from '../creation.js';
import { fail } from '../errors.js';
import { linear, linearWork } from '../ops/linear.js';
import { bool, device, finite, instanceOf, keyOf, oneOf, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import type { Tensor } from '../tensor.js';
import { initValues, type InitName } from './init.js';
import { Module } from './module.js';

export interface LinearOptions {
  bias?: boolean;
  /** Fused into the matmul epilogue. Default 'none'. */
  activation?: Activation;
  /** Weight initialiser; default 'he' for relu/gelu, 'xavier' otherwise. Biases start at 0. */
  init?: InitName;
  seed?: number;
  device?: DeviceName;
  /** @internal A generator shared by the layers of one model. */
  generator?: Generator;
}

/** The initialisers' names (initValues). */
export const INIT = oneOf('he', 'xavier', 'zeros');
export const ACTIVATION = keyOf(ACTIVATIONS);

const SPEC: OptionSpec<LinearOptions> = {
  bias: bool, activation: ACTIVATION, init: INIT, seed: finite, device, generator: instanceOf(Generator, 'Generator'),
};

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly activation: Activation;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options_?: LinearOptions) {
    super();
    for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v <= 0) fail('nn.Linear', `argument '${name}' must be a positive integer, got ${v}`);
    }
    const opts = options('nn.Linear', options_, SPEC);
    const act = opts.activation ?? 'none';
    this.activation = act;
    const g = opts.generator ?? generatorFor(opts.seed);
    const kind = opts.init ?? (act === 'relu' || act === 'gelu' ? 'he' : 'xavier');
    const w = initValues(kind, inFeatures * outFeatures, inFeatures, outFeatures, g);
    this.weight = this.registerParameter('weight', tensor(w, [inFeatures, outFeatures], { requiresGrad: true, device: opts.device }));
    this.bias = opts.bias === false ? null
      : this.registerParameter('bias', tensor(new Float32Array(outFeatures), [outFeatures], { requiresGrad: true, device: opts.device }));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias, this.activation);
  }

  /**
   * Compiles the forward product and both gradient products for `batch` rows
   * (see Module.prepare). `inputGrad` false skips dX (a first layer).
   */
  override async prepare(batch: number, inputGrad = true): Promise<void> {
    if (!Number.isInteger(batch) || batch < 1) fail('nn.Linear.prepare', `argument 'batch' must be a positive integer, got ${batch}`);
    const be = this.weight.backend;
    if (!be.prepare) return;
    await be.prepare(linearWork(be, batch, this.inFeatures, this.outFeatures, this.activation, !!this.bias, inputGrad));
  }
}
