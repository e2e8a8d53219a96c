// Scaled dot-product attention, fused (FlashAttention-2): softmax(Q·Kᵀ·scale +
// masks)·V without the score matrix. The forward keeps each query row's
// log-sum-exp; the gradient recomputes the probabilities from it:
//   D = rowsum(dO ⊙ O),  dS = P ⊙ (dO·Vᵀ − D)
//   dQ = scale·dS·K,  dK = scale·dSᵀ·Q,  dV = Pᵀ·dO,  dMask = dS summed to the mask's shape
// (grouped-query: dK, dV sum over the query heads sharing a key/value head).
import { record } from '../autograd.js';
import type { AttentionParams } from '../backends/backend.js';
import { tensor } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { stridesIn } from '../shape.js';
import { accepts, bool, finite, options, type OptionSpec } from '../options.js';
import { empty, Tensor } from '../tensor.js';
import { full } from './elementwise.js';
import { sumTo } from './reduce.js';
import { arg, deviceOf } from './util.js';

export interface AttentionOptions {
  /**
   * Query i attends to keys j <= i only. Aligned to the top-left corner when
   * the query and key lengths differ, as PyTorch's `is_causal`.
   */
  causal?: boolean;
  /**
   * Added to the scaled scores before the softmax: any shape that broadcasts to
   * [batch, heads, Lq, Lk] ([Lq, Lk], [batch, 1, Lq, Lk], [batch, 1, 1, Lk], …).
   * -Infinity leaves a key out. It gets a gradient when it requires one.
   */
  mask?: Tensor | null;
  /** Keys visible to each batch entry: keys at and past keyLengths[b] are left out. */
  keyLengths?: ArrayLike<number> | null;
  /** Multiplies Q·Kᵀ; default 1/√headDim. */
  scale?: number;
}

const OP = 'attention';
const SPEC: OptionSpec<AttentionOptions> = {
  causal: bool, scale: finite,
  mask: accepts<Tensor | null>('a Tensor or null', (v) => v === null || v instanceof Tensor),
  keyLengths: accepts<ArrayLike<number> | null>('an array or typed array of integers (one per batch entry) or null',
    (v) => v === null || Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))),
};
// PyTorch's scaled_dot_product_attention spellings.
const ALIASES = { is_causal: 'causal', isCausal: 'causal', attn_mask: 'mask', attnMask: 'mask', key_padding_mask: 'keyLengths' };

/**
 * Scaled dot-product attention over q [batch, heads, Lq, D] and k, v
 * [batch, kvHeads, Lk, D], as PyTorch's scaled_dot_product_attention (with
 * enable_gqa: query head h reads key/value head floor(h / (heads / kvHeads))).
 * A query row that sees no key (every key masked) gets output 0 and zero
 * gradients: PyTorch's answer since 2.5 (its math path's `_safe_softmax` and
 * its fused kernels), not the NaN of a plain softmax over all -inf. Keys left
 * out by `causal` or `keyLengths` do not take part at all, so a NaN or inf in
 * them does not reach the output (as in PyTorch's fused kernels); an additive
 * mask is added, so a -inf mask entry over an inf score gives NaN, as IEEE.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions): Tensor {
  const be = deviceOf(OP, { q, k, v });
  opts = options(OP, opts, SPEC, ALIASES);
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.rank !== 4) fail(OP, `argument '${name}' must have rank 4 [batch, heads, seq, headDim], got shape ${fmtShape(t.shape)}`);
  }
  const [B, H, Lq, D] = q.shape, [Bk, Hkv, Lk, Dk] = k.shape;
  const shapes = `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`;
  if (Bk !== B || v.shape[0] !== B) fail(OP, `batch sizes differ: ${shapes}`);
  if (Dk !== D) fail(OP, `head dimensions differ: q has ${D}, k has ${Dk} (${shapes})`);
  if (v.shape[3] !== D) fail(OP, `v's head dimension ${v.shape[3]} must equal q's and k's ${D} (${shapes})`);
  if (v.shape[2] !== Lk) fail(OP, `key and value lengths differ: k has ${Lk}, v has ${v.shape[2]} (${shapes})`);
  if (v.shape[1] !== Hkv) fail(OP, `k and v have different head counts: ${Hkv} and ${v.shape[1]} (${shapes})`);
  if (Hkv === 0 ? H !== 0 : H % Hkv !== 0) {
    fail(OP, `q's ${H} heads must be a multiple of k's and v's ${Hkv} heads (grouped-query attention) (${shapes})`);
  }
  if (D > be.attentionMaxHeadDim) fail(OP, `head dimension ${D} exceeds the ${be.name} backend's limit of ${be.attentionMaxHeadDim}`);
  const causal = opts.causal ?? false;
  const scale = opts.scale ?? 1 / Math.sqrt(D);

  const full4 = [B, H, Lq, Lk];
  const mask = opts.mask ?? null;
  if (mask !== null) {
    arg(OP, 'mask', mask);
    if (mask.backend !== be) fail(OP, `option 'mask' is on ${mask.device}, q on ${q.device}`);
    const ok = mask.rank >= 1 && mask.rank <= 4 && mask.shape.every((d, i) => d === 1 || d === full4[4 - mask.rank + i]);
    if (!ok) fail(OP, `mask of shape ${fmtShape(mask.shape)} does not broadcast to [batch, heads, Lq, Lk] = ${fmtShape(full4)}`);
  }
  const lens = opts.keyLengths ?? null;
  if (lens !== null) {
    if (lens.length !== B) fail(OP, `keyLengths has ${lens.length} entries; needs ${B} (one per batch entry)`);
    for (let b = 0; b < B; b++) {
      const n = lens[b];
      if (!Number.isInteger(n) || n < 0 || n > Lk) fail(OP, `keyLengths[${b}] = ${n}; needs an integer in [0, ${Lk}] (the key length)`);
    }
  }

  const maskGrad = mask !== null && mask.requiresGrad;
  // From the shapes alone (gradient code captures no tensors): the kernel parameters for a mask and lengths.
  const params = (m: Tensor | null, l: Tensor | null): AttentionParams => ({
    batch: B, heads: H, kvHeads: Hkv, Lq, Lk, D, scale, causal,
    mask: m === null ? null : { h: m.handle(OP, 'mask'), strides: stridesIn(m.shape, full4) as [number, number, number, number], size: m.size },
    keyLengths: l === null ? null : l.handle(OP, 'keyLengths'),
  });
  return scope(() => {
    const lensT = lens === null ? null : tensor(Float32Array.from(lens), [B], { device: be.name });
    const out = empty(be, q.shape, OP), lse = empty(be, [B, H, Lq], OP);
    be.attention(q.handle(OP, 'q'), k.handle(OP, 'k'), v.handle(OP, 'v'), out.handle(OP, 'out'), lse.handle(OP, 'lse'), params(mask, lensT));
    const inputs = maskGrad ? [q, k, v, mask] : [q, k, v];
    return record(OP, out, inputs, [q, k, v, out, lse, mask, lensT], (g, [q, k, v, out, lse, mask, lensT], needs) => {
      const dq = empty(be, q!.shape, OP), dk = empty(be, k!.shape, OP), dv = empty(be, v!.shape, OP);
      // The gradient of the scores, materialised only for a mask that needs a gradient.
      const dbias = needs[3] ? full(be, full4, 0) : null;
      be.attentionBackward(q!.handle(OP, 'q'), k!.handle(OP, 'k'), v!.handle(OP, 'v'), out!.handle(OP, 'out'), lse!.handle(OP, 'lse'),
        g.handle(OP, 'grad'), dq.handle(OP, 'dq'), dk.handle(OP, 'dk'), dv.handle(OP, 'dv'), params(mask, lensT), dbias && dbias.handle(OP, 'dmask'));
      const grads: (Tensor | null)[] = [needs[0] ? dq : null, needs[1] ? dk : null, needs[2] ? dv : null];
      if (dbias) grads.push(sumTo(dbias, mask!.shape));
      return grads;
    });
  });
}
