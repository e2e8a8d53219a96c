// TransformerLM: a decoder-only language model (GPT-style): token embedding +
// learned positional embedding → causal pre-norm TransformerBlocks → final
// norm → vocabulary head. forward(ids) gives next-token logits at every
// position; generate() (transformer-generate.ts) runs the prompt once, then one
// token at a time through each block's key/value cache.
import type { DeviceName } from '../backends/backend.js';
import { noGrad } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { add } from '../ops/elementwise.js';
import { reshape } from '../ops/shape.js';
import { narrow } from '../ops/slice.js';
import { bool, device, finite, instanceOf, integer, number, oneOf, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import { Tensor } from '../tensor.js';
import { KVCache } from './attention.js';
import { Dropout } from './dropout.js';
import { Embedding } from './embedding.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { LayerNorm, RMSNorm } from './norm.js';
import { makeNorm, TransformerBlock } from './transformer.js';
import { generate, type GenerateOptions } from './transformer-generate.js';

const OP = 'nn.TransformerLM';
/** The embeddings' initial standard deviation (GPT-2's). */
const EMBEDDING_STD = 0.02;

export interface TransformerLMOptions {
  /** Width of the embeddings and of every block. Default 128. */
  dModel?: number;
  /** Transformer blocks. Default 2. */
  numLayers?: number;
  /** Attention heads per block; divides dModel. Default 4. */
  numHeads?: number;
  /** Key/value heads (grouped-query attention). Default numHeads. */
  numKVHeads?: number;
  /** Positions the learned positional embedding covers: the longest sequence the model reads. Default 128. */
  maxSeqLen?: number;
  /** Width of each block's MLP. Default 4·dModel. */
  ffnDim?: number;
  /** Dropout inside the blocks and on the embeddings (training only). Default 0.1. */
  dropout?: number;
  /** 'layer' (LayerNorm, default) or 'rms' (RMSNorm), in the blocks and at the end. */
  norm?: 'layer' | 'rms';
  /** Biases on the blocks' projections and LayerNorms (the vocabulary head has none, as GPT-2's). Default true. */
  bias?: boolean;
  seed?: number;
  generator?: Generator;
  device?: DeviceName;
}

export interface TransformerLMCallOptions {
  /** Keys and values of earlier positions (createCache()); this call appends its own and reads positions after them. */
  cache?: TransformerCache | null;
}

const SPEC: OptionSpec<TransformerLMOptions> = {
  dModel: integer(1), numLayers: integer(1), numHeads: integer(1), numKVHeads: integer(1), maxSeqLen: integer(1), ffnDim: integer(1),
  dropout: number(0, 1, '[)'), norm: oneOf('layer', 'rms'), bias: bool, seed: finite, generator: instanceOf(Generator, 'Generator'), device,
};

/**
 * The key/value caches of every block of one TransformerLM (one KVCache per
 * layer), for feeding a sequence in pieces: each forward({ cache }) appends
 * its positions. Owned by the caller: dispose() frees it.
 */
export class TransformerCache {
  /** @internal */
  constructor(readonly model: TransformerLM, readonly layers: KVCache[]) {}

  /** Positions cached so far. */
  get length(): number {
    return this.layers[0].length;
  }

  dispose(): void {
    for (const c of this.layers) c.dispose();
  }
}

/** Token ids as [batch, seq]: nested arrays (rows may be typed arrays) or a 2-D Tensor (WASM). */
export type TokenIds = ReadonlyArray<ArrayLike<number>> | Tensor;

/** Checks ids [batch, seq] against the vocabulary; returns the shape. A Tensor's ids are checked by embedding(). */
export function checkIds(op: string, ids: unknown, vocab: number): [number, number] {
  if (ids instanceof Tensor) {
    if (ids.rank !== 2) fail(op, `argument 'ids' must be [batch, seq], got a Tensor of shape ${fmtShape(ids.shape)}`);
    return [ids.shape[0], ids.shape[1]];
  }
  if (!Array.isArray(ids) || ids.length === 0 || typeof ids[0] !== 'object' || ids[0] === null) {
    fail(op, `argument 'ids' must be [batch, seq]: an array of rows of token ids (e.g. [[1, 2, 3]] for one sequence), got ${Array.isArray(ids) ? `[${ids.slice(0, 3).map(String).join(', ')}${ids.length > 3 ? ', …' : ''}]` : typeof ids}`);
  }
  const S = (ids[0] as ArrayLike<number>).length;
  ids.forEach((row: ArrayLike<number>, b) => {
    if (row === null || typeof row !== 'object' || row.length !== S) {
      fail(op, `argument 'ids' is ragged: row ${b} has ${row && typeof row === 'object' ? `length ${row.length}` : `a ${typeof row}`}, row 0 has length ${S}`);
    }
    for (let i = 0; i < S; i++) {
      const t = row[i];
      if (!Number.isInteger(t) || t < 0 || t >= vocab) fail(op, `argument 'ids' has token ${String(t)} at [${b}][${i}]; needs an integer in [0, ${vocab - 1}] (vocabSize ${vocab})`);
    }
  });
  if (S === 0) fail(op, `argument 'ids' has rows of length 0; needs at least one token per row`);
  return [ids.length, S];
}

export class TransformerLM extends Module {
  readonly dModel: number;
  readonly numHeads: number;
  readonly maxSeqLen: number;
  readonly token_embedding: Embedding;
  readonly position_embedding: Embedding;
  readonly layers: TransformerBlock[];
  readonly norm: LayerNorm | RMSNorm;
  readonly lm_head: Linear;
  private readonly drop: Dropout;

  constructor(readonly vocabSize: number, options_?: TransformerLMOptions) {
    super();
    if (!Number.isInteger(vocabSize) || vocabSize <= 0) fail(OP, `argument 'vocabSize' must be a positive integer, got ${String(vocabSize)}`);
    const o = options(OP, options_, SPEC);
    if (o.seed !== undefined && o.generator) fail(OP, `give 'seed' or 'generator', not both`);
    const d = this.dModel = o.dModel ?? 128;
    const H = this.numHeads = o.numHeads ?? 4;
    if (d % H !== 0) fail(OP, `dModel ${d} must be divisible by numHeads ${H} (headDim = dModel / numHeads)`);
    this.maxSeqLen = o.maxSeqLen ?? 128;
    const g = o.generator ?? generatorFor(o.seed);
    const dev = o.device, bias = o.bias ?? true;
    this.token_embedding = this.registerModule('token_embedding', new Embedding(vocabSize, d, { device: dev, generator: g }));
    this.position_embedding = this.registerModule('position_embedding', new Embedding(this.maxSeqLen, d, { device: dev, generator: g }));
    // GPT-2's initialisation: embeddings from N(0, 0.02), not nn.Embedding's N(0, 1). Small embeddings let
    // the blocks' updates dominate the residual stream early (the addition demo reaches 99% in a third of the steps).
    for (const e of [this.token_embedding, this.position_embedding]) {
      const w = new Float32Array(e.weight.size);
      for (let i = 0; i < w.length; i++) w[i] = g.normal(0, EMBEDDING_STD);
      e.loadStateDict({ weight: w });
    }
    this.layers = Array.from({ length: o.numLayers ?? 2 }, (_, i) => this.registerModule(`layers.${i}`, new TransformerBlock(d, H, {
      ffnDim: o.ffnDim, numKVHeads: o.numKVHeads, dropout: o.dropout, norm: o.norm, bias, device: dev, generator: g,
    })));
    this.norm = this.registerModule('norm', makeNorm(o.norm ?? 'layer', d, undefined, bias, dev));
    this.lm_head = this.registerModule('lm_head', new Linear(d, vocabSize, { bias: false, device: dev, generator: g }));
    // Not registered (no state): the state dict keeps the layers' keys only.
    this.drop = new Dropout(o.dropout ?? 0.1, { generator: g });
  }

  get numLayers(): number {
    return this.layers.length;
  }

  /** An empty key/value cache for every block (see TransformerCache). */
  createCache(): TransformerCache {
    return new TransformerCache(this, this.layers.map((l) => l.self_attn.createCache()));
  }

  /**
   * Next-token logits [batch, seq, vocabSize] for ids [batch, seq] (position i
   * sees tokens 0..i). With a cache, the ids continue the cached positions.
   */
  forward(ids: TokenIds, options_?: TransformerLMCallOptions): Tensor {
    const cache = this.cacheOf(options_);
    return scope(() => this.lm_head.forward(this.hidden(ids, cache, null)));
  }

  /** @internal Logits of the last position only, [batch, vocabSize] (generation). */
  lastLogits(ids: TokenIds, cache: TransformerCache | null): Tensor {
    return scope(() => {
      const h = this.hidden(ids, cache, null);
      const [B, S] = h.shape;
      return this.lm_head.forward(reshape(narrow(h, 1, S - 1, 1), [B, this.dModel]));
    });
  }

  /**
   * The attention weights of every block for ids [batch, seq]: one tensor
   * [batch, heads, seq, seq] per layer, computed unfused, in eval mode (no
   * dropout) and under noGrad. The tensors are the caller's to dispose.
   */
  attentionWeights(ids: TokenIds): Tensor[] {
    return this.inEval(() => noGrad(() => scope(() => {
      const weights: Tensor[] = [];
      this.hidden(ids, null, weights);
      return weights;
    })));
  }

  /**
   * Continues each prompt by up to `maxNewTokens` tokens: the prompt runs
   * once, then each new token runs alone through every block's key/value
   * cache. Returns the prompt followed by the new tokens (per row for a batch
   * of prompts). See GenerateOptions for greedy (temperature 0), temperature
   * and top-k sampling, and stopping.
   */
  generate(prompt: ArrayLike<number>, options: GenerateOptions): Promise<number[]>;
  generate(prompt: ReadonlyArray<ArrayLike<number>>, options: GenerateOptions): Promise<number[][]>;
  generate(prompt: ArrayLike<number> | ReadonlyArray<ArrayLike<number>>, options: GenerateOptions): Promise<number[] | number[][]> {
    return generate(this, prompt, options);
  }

  /** @internal Runs fn with every module in eval mode, then restores each module's own flag. */
  inEval<T>(fn: () => T): T {
    const flags = this.modules().map((m) => [m, m.training] as const);
    this.eval();
    try {
      return fn();
    } finally {
      for (const [m, t] of flags) m.training = t;
    }
  }

  private cacheOf(options_: TransformerLMCallOptions | undefined): TransformerCache | null {
    const o = options(`${OP}.forward`, options_, {
      cache: { what: 'a TransformerCache (model.createCache()) or null', test: (v): v is TransformerCache | null => v === null || v instanceof TransformerCache },
    });
    const cache = o.cache ?? null;
    if (cache && cache.model !== this) fail(OP, 'the cache belongs to another model; make one with this model\'s createCache()');
    return cache;
  }

  /** The final-norm hidden states [batch, seq, dModel]; collects each block's attention weights into `weights` if given. */
  private hidden(ids: TokenIds, cache: TransformerCache | null, weights: Tensor[] | null): Tensor {
    const [, S] = checkIds(OP, ids, this.vocabSize);
    const past = cache?.length ?? 0;
    if (past + S > this.maxSeqLen) {
      fail(OP, `${past ? `${past} cached + ` : ''}${S} positions exceed maxSeqLen ${this.maxSeqLen} (the positional embedding's length)`);
    }
    const positions = Array.from({ length: S }, (_, i) => past + i);
    // [batch, seq, d] + [seq, d]: the positional rows broadcast over the batch.
    this.drop.training = this.training;
    let x = this.drop.forward(add(this.token_embedding.forward(ids), this.position_embedding.forward(positions)));
    this.layers.forEach((layer, i) => {
      const opts = { cache: cache ? cache.layers[i] : null };
      if (weights) {
        const [y, w] = layer.forwardWithWeights(x, opts);
        weights.push(w);
        x = y;
      } else {
        x = layer.forward(x, opts);
      }
    });
    return this.norm.forward(x);
  }
}
