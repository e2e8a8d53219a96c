// TransformerBlock: one pre-norm transformer layer,
//   x = x + dropout1(self_attn(norm1(x)))
//   x = x + dropout2(linear2(dropout(gelu(linear1(norm2(x))))))
// as PyTorch's nn.TransformerEncoderLayer(norm_first=True, activation='gelu',
// batch_first=True), with the same child names so state dicts port. Causal by
// default (a decoder-only block); the key/value cache of generation passes
// through to the MultiHeadAttention.
import type { DeviceName } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { add } from '../ops/elementwise.js';
import { bool, device, finite, instanceOf, integer, number, oneOf, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import { Tensor } from '../tensor.js';
import { MultiHeadAttention, type MultiHeadAttentionCallOptions } from './attention.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { LayerNorm, RMSNorm } from './norm.js';

const OP = 'nn.TransformerBlock';

export interface TransformerBlockOptions {
  /** Width of the MLP's hidden layer (PyTorch's dim_feedforward). Default 4·dModel. */
  ffnDim?: number;
  /** Key/value heads (grouped-query attention): divides numHeads. Default numHeads. */
  numKVHeads?: number;
  /**
   * Dropout after the attention, inside the MLP and after it (training mode
   * only), as PyTorch's layer. Default 0.1 (PyTorch's). The fused attention
   * kernel has no dropout on the attention probabilities.
   */
  dropout?: number;
  /** Position i attends to positions <= i. Default true (a decoder block). */
  causal?: boolean;
  /** 'layer' (LayerNorm, default) or 'rms' (RMSNorm). */
  norm?: 'layer' | 'rms';
  /** The norms' epsilon (PyTorch's layer_norm_eps). Default 1e-5. */
  normEps?: number;
  /** Biases on every projection and LayerNorm. Default true. */
  bias?: boolean;
  /** Makes the initial weights and dropout masks reproducible. */
  seed?: number;
  /** A generator for the initial weights and dropout masks, shared with other layers (instead of seed). */
  generator?: Generator;
  device?: DeviceName;
}

export type TransformerBlockCallOptions = MultiHeadAttentionCallOptions;

const SPEC: OptionSpec<TransformerBlockOptions> = {
  ffnDim: integer(1), numKVHeads: integer(1), dropout: number(0, 1, '[)'), causal: bool, norm: oneOf('layer', 'rms'),
  normEps: number(0, Infinity, '[)'), bias: bool, seed: finite, generator: instanceOf(Generator, 'Generator'), device,
};
// PyTorch's spellings of TransformerEncoderLayer's arguments.
const ALIASES = { dim_feedforward: 'ffnDim', layer_norm_eps: 'normEps' };

/** The norm a block or model asked for, as its own module. */
export function makeNorm(kind: 'layer' | 'rms', dim: number, eps: number | undefined, bias: boolean, dev?: DeviceName): LayerNorm | RMSNorm {
  return kind === 'rms' ? new RMSNorm(dim, { eps, device: dev }) : new LayerNorm(dim, { eps: eps ?? 1e-5, bias, device: dev });
}

export class TransformerBlock extends Module {
  readonly ffnDim: number;
  readonly self_attn: MultiHeadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm | RMSNorm;
  readonly norm2: LayerNorm | RMSNorm;
  private readonly drops: [Dropout, Dropout, Dropout];

  constructor(readonly dModel: number, readonly numHeads: number, options_?: TransformerBlockOptions) {
    super();
    for (const [name, v] of [['dModel', dModel], ['numHeads', numHeads]] as const) {
      if (!Number.isInteger(v) || v <= 0) fail(OP, `argument '${name}' must be a positive integer, got ${String(v)}`);
    }
    const o = options(OP, options_, SPEC, ALIASES);
    if (o.seed !== undefined && o.generator) fail(OP, `give 'seed' or 'generator', not both`);
    if (dModel % numHeads !== 0) fail(OP, `dModel ${dModel} must be divisible by numHeads ${numHeads} (headDim = dModel / numHeads)`);
    const g = o.generator ?? generatorFor(o.seed);
    const bias = o.bias ?? true, dev = o.device, kind = o.norm ?? 'layer';
    this.ffnDim = o.ffnDim ?? 4 * dModel;
    // Registered in PyTorch's order (self_attn, linear1, linear2, norm1, norm2): state dicts list keys alike.
    this.self_attn = this.registerModule('self_attn', new MultiHeadAttention(dModel, numHeads, {
      numKVHeads: o.numKVHeads, causal: o.causal ?? true, bias, device: dev, generator: g,
    }));
    this.linear1 = this.registerModule('linear1', new Linear(dModel, this.ffnDim, { activation: 'gelu', bias, device: dev, generator: g }));
    this.linear2 = this.registerModule('linear2', new Linear(this.ffnDim, dModel, { bias, device: dev, generator: g }));
    this.norm1 = this.registerModule('norm1', makeNorm(kind, dModel, o.normEps, bias, dev));
    this.norm2 = this.registerModule('norm2', makeNorm(kind, dModel, o.normEps, bias, dev));
    const p = o.dropout ?? 0.1;
    // Dropout layers hold no state: not registered, so the state dict has PyTorch's keys only.
    this.drops = [new Dropout(p, { generator: g }), new Dropout(p, { generator: g }), new Dropout(p, { generator: g })];
  }

  /** Whether position i sees only positions <= i. */
  get causal(): boolean {
    return this.self_attn.causal;
  }

  /** x [batch, seq, dModel] → [batch, seq, dModel]; `cache`, `mask`, `keyLengths` go to the attention. */
  forward(x: Tensor, options_?: TransformerBlockCallOptions): Tensor {
    return this.run(x, options_, false)[0];
  }

  /** The output and the attention weights [batch, heads, seq, keys] (see MultiHeadAttention.forwardWithWeights). */
  forwardWithWeights(x: Tensor, options_?: TransformerBlockCallOptions): [Tensor, Tensor] {
    const [y, w] = this.run(x, options_, true);
    return [y, w!];
  }

  private run(x: Tensor, opts: TransformerBlockCallOptions | undefined, needWeights: boolean): [Tensor, Tensor | null] {
    if (!(x instanceof Tensor)) fail(OP, `argument 'x' must be a Tensor [batch, seq, ${this.dModel}], got ${typeof x}`);
    if (x.rank !== 3 || x.shape[2] !== this.dModel) fail(OP, `argument 'x' must have shape [batch, seq, ${this.dModel}] (batch first), got ${fmtShape(x.shape)}`);
    // The train/eval flag reaches the dropouts, which are not registered children.
    for (const d of this.drops) d.training = this.training;
    const [d1, d, d2] = this.drops;
    return scope(() => {
      const h = this.norm1.forward(x);
      const [a, w] = needWeights ? this.self_attn.forwardWithWeights(h, opts) : [this.self_attn.forward(h, opts), null];
      const x1 = add(x, d1.forward(a));
      const m = this.linear2.forward(d.forward(this.linear1.forward(this.norm2.forward(x1))));
      return [add(x1, d2.forward(m)), w];
    });
  }
}
