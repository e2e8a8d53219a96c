// Embedding (PyTorch's nn.Embedding): a `weight` [num, dim] drawn from
// N(0, 1), the padding row (if any) zeros and without gradient. A learned
// positional embedding is an Embedding indexed by position.
import type { DeviceName } from '../backends/backend.js';
import { tensor } from '../creation.js';
import { fail } from '../errors.js';
import { embedding, type Ids } from '../ops/embedding.js';
import { accepts, device, either, finite, instanceOf, integer, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export interface EmbeddingOptions {
  /** This id's row starts at zeros and gets no gradient (PyTorch's padding_idx); negative counts from the end. */
  paddingIdx?: number | null;
  seed?: number;
  device?: DeviceName;
  /** @internal A generator shared by the layers of one model. */
  generator?: Generator;
}

const SPEC: OptionSpec<EmbeddingOptions> = {
  paddingIdx: either(integer(), accepts<null>('null', (v) => v === null)), seed: finite, device, generator: instanceOf(Generator, 'Generator'),
};

export class Embedding extends Module {
  readonly weight: Tensor;
  readonly paddingIdx: number | null;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options_?: EmbeddingOptions) {
    super();
    for (const [name, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const) {
      if (!Number.isInteger(v) || v <= 0) fail('nn.Embedding', `argument '${name}' must be a positive integer, got ${v}`);
    }
    const opts = options('nn.Embedding', options_, SPEC, { padding_idx: 'paddingIdx' });
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (pad < -numEmbeddings || pad >= numEmbeddings) {
        fail('nn.Embedding', `option 'paddingIdx' is ${pad}; needs an integer in [${-numEmbeddings}, ${numEmbeddings - 1}]`);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    const g = opts.generator ?? generatorFor(opts.seed);
    const w = new Float32Array(numEmbeddings * embeddingDim);
    for (let i = 0; i < w.length; i++) w[i] = g.normal();
    if (pad !== null) w.fill(0, pad * embeddingDim, (pad + 1) * embeddingDim);
    this.weight = this.registerParameter('weight', tensor(w, [numEmbeddings, embeddingDim], { requiresGrad: true, device: opts.device }));
  }

  /** The rows of `ids` (integers: an array, nested arrays or a typed array): shape ids' shape + [embeddingDim]. */
  forward(ids: Ids | Tensor): Tensor {
    return embedding(ids, this.weight, { paddingIdx: this.paddingIdx });
  }
}
