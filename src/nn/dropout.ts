// Dropout: in training, zeroes each element with probability p and scales
// the rest by 1 / (1 - p) (so eval needs no rescaling); in eval, the input
// itself (PyTorch's nn.Dropout). The mask is drawn on the host from a
// seedable generator (the same masks on every backend for one seed) and
// multiplies the input, so the gradient is g times the same mask.
import { tensor } from '../creation.js';
import { fail } from '../errors.js';
import { scope } from '../memory.js';
import { mul } from '../ops/elementwise.js';
import { describe, finite, instanceOf, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export interface DropoutOptions {
  /** Makes the masks reproducible: a generator of the layer's own, seeded. Default: the global generator (manualSeed). */
  seed?: number;
  /** A generator to draw the masks from (shared with other layers). */
  generator?: Generator;
}

const SPEC: OptionSpec<DropoutOptions> = { seed: finite, generator: instanceOf(Generator, 'Generator') };

export class Dropout extends Module {
  private readonly gen: Generator;

  /** `p`: the probability of zeroing an element, in [0, 1]; default 0.5. */
  constructor(readonly p = 0.5, options_?: DropoutOptions) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('nn.Dropout', `argument 'p' must be a probability in [0, 1], got ${describe(p)}`);
    const o = options('nn.Dropout', options_, SPEC);
    if (o.seed !== undefined && o.generator) fail('nn.Dropout', `give 'seed' or 'generator', not both`);
    this.gen = o.generator ?? (o.seed === undefined ? generatorFor(undefined) : new Generator(o.seed));
  }

  /** The mask of one training forward: 0 (dropped) or 1 / (1 - p) per element. */
  private mask(n: number): Float32Array {
    const m = new Float32Array(n);
    if (this.p === 1) return m;
    const keep = 1 / (1 - this.p), g = this.gen;
    for (let i = 0; i < n; i++) m[i] = g.next() < this.p ? 0 : keep;
    return m;
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const m = this.mask(x.size);
    // The mask tensor is an intermediate: the scope frees it, the graph keeps its own reference.
    return scope(() => mul(x, tensor(m, [...x.shape], { device: x.device })));
  }
}
