// MultiHeadAttention: one fused projection to queries, keys and values, the
// fused attention kernel (src/ops/attention.ts), an output projection.
// Batch-first [batch, seq, embedDim]; grouped-query with fewer key/value heads;
// an optional key/value cache for generation, which each forward appends to.
import type { DeviceName } from '../backends/backend.js';
import { tensor } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { keep, scope } from '../memory.js';
import { attention } from '../ops/attention.js';
import { noGrad } from '../autograd.js';
import { add, mul } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { softmax } from '../ops/softmax.js';
import { linear } from '../ops/linear.js';
import { reshape, transpose } from '../ops/shape.js';
import { cat } from '../ops/concat.js';
import { narrow } from '../ops/slice.js';
import { bool, device, finite, instanceOf, integer, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import { Tensor } from '../tensor.js';
import { initValues } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

const OP = 'nn.MultiHeadAttention';

export interface MultiHeadAttentionOptions {
  /** Key/value heads (grouped-query attention): divides numHeads. Default numHeads. */
  numKVHeads?: number;
  /** Position i attends to positions <= i (decoder self-attention). Default false. */
  causal?: boolean;
  /** Biases on the input and output projections (PyTorch's `bias`). Default true. */
  bias?: boolean;
  seed?: number;
  device?: DeviceName;
  /** @internal A generator shared by the layers of one model. */
  generator?: Generator;
}

export interface MultiHeadAttentionCallOptions {
  /** Keys and values of earlier positions; this call appends its own to it (generation). */
  cache?: KVCache | null;
  /** Additive mask over [batch, heads, seq, keys], as attention()'s `mask` (keys include cached ones). */
  mask?: Tensor | null;
  /** Keys visible per batch entry, as attention()'s `keyLengths`. */
  keyLengths?: ArrayLike<number> | null;
}

/**
 * The keys and values a MultiHeadAttention has seen ([batch, kvHeads, length,
 * headDim] each), for generating one token at a time without recomputing the
 * prefix: pass it to every forward; each appends its new positions. Stored
 * without a gradient graph (generation runs the cache under noGrad anyway).
 * Owned by the caller: dispose() frees it.
 */
export class KVCache {
  k: Tensor | null = null;
  v: Tensor | null = null;
  /** @internal Which module filled it: a cache is for one layer. */
  owner: MultiHeadAttention | null = null;

  /** Positions cached so far. */
  get length(): number {
    return this.k ? this.k.shape[2] : 0;
  }

  /** @internal Replaces the cached keys and values (the old ones are freed). */
  set(k: Tensor, v: Tensor): void {
    const old = [this.k, this.v];
    this.k = keep(k.detach());
    this.v = keep(v.detach());
    for (const t of old) t?.dispose();
  }

  dispose(): void {
    this.k?.dispose();
    this.v?.dispose();
    this.k = this.v = null;
  }
}

const SPEC: OptionSpec<MultiHeadAttentionOptions> = {
  numKVHeads: integer(1), causal: bool, bias: bool, seed: finite, device, generator: instanceOf(Generator, 'Generator'),
};
const CALL_SPEC: OptionSpec<MultiHeadAttentionCallOptions> = {
  cache: { what: 'a KVCache (mha.createCache()) or null', test: (v): v is KVCache | null => v === null || v instanceof KVCache },
  mask: { what: 'a Tensor or null', test: (v): v is Tensor | null => v === null || v instanceof Tensor },
  keyLengths: { what: 'an array of integers or null', test: (v): v is ArrayLike<number> | null => v === null || Array.isArray(v) || ArrayBuffer.isView(v) },
};

/**
 * Multi-head self-attention as PyTorch's `nn.MultiheadAttention(embedDim,
 * numHeads, batch_first=True)` with query = key = value: parameters
 * `in_proj_weight` (kept [embedDim, embedDim + 2·kvDim] for x·W; saved in
 * PyTorch's [3·embedDim, embedDim] layout), `in_proj_bias`, and `out_proj`
 * (an nn.Linear). Input and output [batch, seq, embedDim].
 */
export class MultiHeadAttention extends Module {
  readonly numKVHeads: number;
  readonly headDim: number;
  readonly causal: boolean;
  readonly in_proj_weight: Tensor;
  readonly in_proj_bias: Tensor | null;
  readonly out_proj: Linear;

  constructor(readonly embedDim: number, readonly numHeads: number, options_?: MultiHeadAttentionOptions) {
    super();
    for (const [name, v] of [['embedDim', embedDim], ['numHeads', numHeads]] as const) {
      if (!Number.isInteger(v) || v <= 0) fail(OP, `argument '${name}' must be a positive integer, got ${String(v)}`);
    }
    const opts = options(OP, options_, SPEC);
    if (embedDim % numHeads !== 0) fail(OP, `embedDim ${embedDim} must be divisible by numHeads ${numHeads} (headDim = embedDim / numHeads)`);
    const kvHeads = opts.numKVHeads ?? numHeads;
    if (numHeads % kvHeads !== 0) fail(OP, `numHeads ${numHeads} must be a multiple of numKVHeads ${kvHeads} (grouped-query attention)`);
    this.numKVHeads = kvHeads;
    this.headDim = embedDim / numHeads;
    this.causal = opts.causal ?? false;
    const n = embedDim + 2 * kvHeads * this.headDim;
    const g = opts.generator ?? generatorFor(opts.seed);
    const w = initValues('xavier', embedDim * n, embedDim, n, g); // PyTorch: xavier_uniform_ on in_proj_weight
    this.in_proj_weight = this.registerParameter('in_proj_weight', tensor(w, [embedDim, n], { requiresGrad: true, device: opts.device }));
    this.in_proj_bias = opts.bias === false ? null
      : this.registerParameter('in_proj_bias', tensor(new Float32Array(n), [n], { requiresGrad: true, device: opts.device }));
    this.out_proj = this.registerModule('out_proj', new Linear(embedDim, embedDim, { bias: opts.bias, device: opts.device, generator: g }));
  }

  /** An empty key/value cache for this layer (see KVCache). */
  createCache(): KVCache {
    return new KVCache();
  }

  forward(x: Tensor, options_?: MultiHeadAttentionCallOptions): Tensor {
    return this.run(x, options_, false)[0];
  }

  /**
   * The forward's output and the attention probabilities of every head,
   * [batch, heads, seq, keys] (PyTorch's `need_weights=True,
   * average_attn_weights=False`, returned as a pair as PyTorch does). The
   * output comes from the fused kernel as in forward(); the weights are
   * composed unfused (softmax(Q·Kᵀ·scale + masks)) under noGrad: they are for
   * looking at (heatmaps), not for training through. A query row that sees no
   * key at all has NaN weights (a softmax over nothing) where the output is 0.
   */
  forwardWithWeights(x: Tensor, options_?: MultiHeadAttentionCallOptions): [Tensor, Tensor] {
    const [y, w] = this.run(x, options_, true);
    return [y, w!];
  }

  private run(x: Tensor, options_: MultiHeadAttentionCallOptions | undefined, needWeights: boolean): [Tensor, Tensor | null] {
    if (!(x instanceof Tensor)) fail(OP, `argument 'x' must be a Tensor [batch, seq, ${this.embedDim}], got ${typeof x}`);
    if (x.rank !== 3 || x.shape[2] !== this.embedDim) fail(OP, `argument 'x' must have shape [batch, seq, ${this.embedDim}] (batch first), got ${fmtShape(x.shape)}`);
    const opts = options(`${OP}.forward`, options_, CALL_SPEC);
    const cache = opts.cache ?? null;
    const [B, S] = x.shape, H = this.numHeads, Hkv = this.numKVHeads, D = this.headDim;
    if (cache) {
      if (cache.owner && cache.owner !== this) fail(OP, 'the cache belongs to another layer; make one per layer with createCache()');
      if (cache.k && cache.k.shape[0] !== B) fail(OP, `the cache holds batch ${cache.k.shape[0]}, x has batch ${B}`);
      if (cache.k && cache.k.device !== x.device) fail(OP, `the cache is on ${cache.k.device}, x on ${x.device}`);
    }
    const past = cache?.length ?? 0;
    const mask0 = opts.mask ?? null;
    if (mask0) {
      // Checked here (attention() checks it too) because a cached causal call adds its own offset mask first.
      const full = [B, H, S, past + S];
      if (mask0.rank > 4 || mask0.shape.some((d, i) => d !== 1 && d !== full[4 - mask0.rank + i])) {
        fail(OP, `mask of shape ${fmtShape(mask0.shape)} does not broadcast to [batch, heads, seq, keys] = ${fmtShape(full)}`);
      }
    }
    return scope(() => {
      const qkv = reshape(linear(x, this.in_proj_weight, this.in_proj_bias), [B, S, H + 2 * Hkv, D]);
      // [batch, seq, heads, headDim] → [batch, heads, seq, headDim] for the kernel.
      const heads = (start: number, n: number) => transpose(narrow(qkv, 2, start, n), [0, 2, 1, 3]);
      const q = heads(0, H);
      let k = heads(H, Hkv), v = heads(H + Hkv, Hkv);
      if (cache && past > 0) {
        k = cat([cache.k!, k], 2);
        v = cat([cache.v!, v], 2);
      }
      // With cached keys the causal diagonal is offset by `past`: query i (position past + i) sees keys j <= past + i.
      let mask = mask0;
      let causal = this.causal;
      if (causal && past > 0) {
        causal = false;
        if (S > 1) {
          const offset = tensor(causalMask(S, past), [S, past + S], { device: x.device });
          mask = mask ? add(mask, offset) : offset;
        }
      }
      const o = attention(q, k, v, { causal, mask, keyLengths: opts.keyLengths });
      // Appended only once the call is known to be valid: a refused call leaves the cache as it was.
      if (cache) {
        cache.set(k, v);
        cache.owner = this;
      }
      const y = this.out_proj.forward(reshape(transpose(o, [0, 2, 1, 3]), [B, S, this.embedDim]));
      const w = needWeights ? noGrad(() => this.weights(q, k, mask0, past, opts.keyLengths ?? null)) : null;
      return [y, w];
    });
  }

  /** softmax(Q·Kᵀ·scale + masks) [batch, heads, seq, keys], composed from matmul and softmax. */
  private weights(q: Tensor, k: Tensor, mask: Tensor | null, past: number, lens: ArrayLike<number> | null): Tensor {
    const [B, H, S, D] = q.shape, Hkv = k.shape[1], L = k.shape[2], G = H / Hkv;
    // Query heads kv·G … kv·G + G − 1 share key head kv: viewed as one taller query block per key head.
    const scores = reshape(matmul(reshape(q, [B, Hkv, G * S, D]), transpose(k, [0, 1, 3, 2])), [B, H, S, L]);
    let z = mul(scores, 1 / Math.sqrt(D));
    if (this.causal) z = add(z, tensor(causalMask(S, past), [S, L], { device: q.device }));
    if (mask) z = add(z, mask);
    if (lens) {
      const m = new Float32Array(B * L);
      for (let b = 0; b < B; b++) m.fill(-Infinity, b * L + lens[b], (b + 1) * L);
      z = add(z, tensor(m, [B, 1, 1, L], { device: q.device }));
    }
    return softmax(z, -1);
  }
}

/** The additive causal mask [seq, past + seq]: query i (position past + i) sees keys j <= past + i. */
function causalMask(S: number, past: number): Float32Array {
  const m = new Float32Array(S * (past + S));
  for (let i = 0; i < S; i++) m.fill(-Infinity, i * (past + S) + past + i + 1, (i + 1) * (past + S));
  return m;
}
