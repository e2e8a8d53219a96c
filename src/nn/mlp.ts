// MLP: Linear layers with a fused activation between them; the last layer
// outputs raw values (logits) unless `outputActivation` says otherwise.
import type { Activation, DeviceName } from '../backends/backend.js';
import { fail } from '../errors.js';
import { device, finite, options, type OptionSpec } from '../options.js';
import { generatorFor } from '../random.js';
import type { Tensor } from '../tensor.js';
import type { InitName } from './init.js';
import { ACTIVATION, INIT, Linear } from './linear.js';
import { Module } from './module.js';

export interface MLPOptions {
  /** Hidden-layer activation. Default 'relu'. */
  activation?: Activation;
  outputActivation?: Activation;
  init?: InitName;
  /** Makes the initial weights reproducible. */
  seed?: number;
  device?: DeviceName;
}

const SPEC: OptionSpec<MLPOptions> = { activation: ACTIVATION, outputActivation: ACTIVATION, init: INIT, seed: finite, device };

export class MLP extends Module {
  readonly layers: Linear[];

  /** `sizes` = [inputs, hidden..., outputs], e.g. [2, 64, 64, 3]. */
  constructor(readonly sizes: number[], options_?: MLPOptions) {
    super();
    const opts = options('nn.MLP', options_, SPEC);
    if (!Array.isArray(sizes) || sizes.length < 2) fail('nn.MLP', `argument 'sizes' needs at least [inputs, outputs], got ${JSON.stringify(sizes)}`);
    for (const s of sizes) if (!Number.isInteger(s) || s <= 0) fail('nn.MLP', `argument 'sizes' ${JSON.stringify(sizes)} has ${s}; sizes must be positive integers`);
    const g = generatorFor(opts.seed);
    this.layers = sizes.slice(1).map((out, i) => {
      const last = i === sizes.length - 2;
      return this.registerModule(`layers.${i}`, new Linear(sizes[i], out, {
        activation: last ? opts.outputActivation ?? 'none' : opts.activation ?? 'relu',
        init: opts.init, device: opts.device, generator: g,
      }));
    });
  }

  /** Compiles a training step's kernels for `batch` rows ahead of first use (WebGPU; see Module.prepare). */
  override async prepare(batch: number): Promise<void> {
    // The input is data: the first layer needs no input gradient.
    await Promise.all(this.layers.map((l, i) => l.prepare(batch, i > 0)));
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h);
      // A hidden activation is freed once consumed; a recorded graph holds its own reference.
      if (h !== x) h.dispose();
      h = next;
    }
    return h;
  }
}
