// One SGD training step of the addition demo's transformer
// (examples/transformer/model.ts) at batch 64: token + learned positional
// embeddings, 2 pre-norm blocks (LayerNorm, causal self-attention with 4
// heads, GELU MLP 64→256→64), final LayerNorm, a bias-free vocabulary head;
// cross-entropy on the 5 answer positions, SGD lr 0.01. The same tokens and
// starting weights for every library (lepton's [in, out] layouts, x·W); the
// peers compose attention from matmul + softmax with an additive causal mask
// and GELU in its tanh form, as lepton's.
import { ANSWER_LEN, PROMPT_LEN, SEQ_LEN, VOCAB_SIZE, packSequences } from '../examples/addition/data.js';
import { data } from './problems.js';

export interface TransformerProblem {
  kind: 'transformer'; id: string; name: string; batch: number; seq: number; dModel: number; heads: number; ffn: number; layers: number; vocab: number; flops: number;
}

/**
 * The products of a step: per token and layer the four projections
 * (d·3d, d·d, d·ffn, ffn·d), the head (d·vocab), and per sequence and layer
 * the two attention products (2·S²·d, causal half not subtracted); the
 * backward twice the forward (the first layer's input gradient included).
 */
function flops(B: number, S: number, d: number, ffn: number, L: number, V: number): number {
  const perToken = L * (3 * d * d + d * d + 2 * d * ffn) + d * V;
  const forward = 2 * B * S * perToken + L * B * 2 * 2 * S * S * d;
  return 3 * forward;
}

export function transformerProblem(batch = 64): TransformerProblem {
  const seq = SEQ_LEN - 1, dModel = 64, heads = 4, ffn = 256, layers = 2, vocab = VOCAB_SIZE;
  return {
    kind: 'transformer', id: `transformer-addition-b${batch}`, name: `transformer step (addition demo) b${batch} SGD`,
    batch, seq, dModel, heads, ffn, layers, vocab, flops: flops(batch, seq, dModel, ffn, layers, vocab),
  };
}

export interface LayerWeights { wIn: Float32Array; bIn: Float32Array; wOut: Float32Array; bOut: Float32Array; w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array; n1w: Float32Array; n1b: Float32Array; n2w: Float32Array; n2b: Float32Array }

/** Tokens [B, seq], the answer labels [B·5] and the starting weights (Xavier-scaled projections, N(0, 0.02)-like embeddings). */
export function transformerInputs(p: TransformerProblem) {
  const { batch: B, dModel: d, ffn, vocab: V } = p;
  const problems = Array.from({ length: B }, (_, i) => [(i * 7919) % 10000, (i * 104729 + 13) % 10000] as [number, number]);
  const all = packSequences(problems);
  const ids = new Int32Array(B * p.seq), labels = new Int32Array(B * ANSWER_LEN);
  for (let b = 0; b < B; b++) {
    ids.set(all.subarray(b * SEQ_LEN, b * SEQ_LEN + p.seq), b * p.seq);
    labels.set(all.subarray(b * SEQ_LEN + PROMPT_LEN, (b + 1) * SEQ_LEN), b * ANSWER_LEN);
  }
  let seed = 40;
  const w = (n: number, fanIn: number, fanOut: number) => data(n, seed++).map((v) => v * Math.sqrt(6 / (fanIn + fanOut)));
  const small = (n: number) => data(n, seed++).map((v) => v * 0.035);
  const layers: LayerWeights[] = Array.from({ length: p.layers }, () => ({
    wIn: w(d * 3 * d, d, 3 * d), bIn: new Float32Array(3 * d), wOut: w(d * d, d, d), bOut: new Float32Array(d),
    w1: w(d * ffn, d, ffn), b1: new Float32Array(ffn), w2: w(ffn * d, ffn, d), b2: new Float32Array(d),
    n1w: new Float32Array(d).fill(1), n1b: new Float32Array(d), n2w: new Float32Array(d).fill(1), n2b: new Float32Array(d),
  }));
  return {
    ids, labels, layers, tok: small(V * d), pos: small(p.seq * d), head: w(d * V, d, V),
    normW: new Float32Array(d).fill(1), normB: new Float32Array(d),
    /** The additive causal mask [seq, seq]: −1e9 above the diagonal (finite, so 0 · mask stays 0 in every library). */
    causal: Float32Array.from({ length: p.seq * p.seq }, (_, k) => (k % p.seq > Math.floor(k / p.seq) ? -1e9 : 0)),
  };
}

/** lepton's state-dict names for the inputs' weights (nn.TransformerLM). */
export function transformerStateDict(i: ReturnType<typeof transformerInputs>): Record<string, Float32Array> {
  const sd: Record<string, Float32Array> = { 'token_embedding.weight': i.tok, 'position_embedding.weight': i.pos, 'norm.weight': i.normW, 'norm.bias': i.normB, 'lm_head.weight': i.head };
  i.layers.forEach((l, k) => Object.assign(sd, {
    [`layers.${k}.self_attn.in_proj_weight`]: l.wIn, [`layers.${k}.self_attn.in_proj_bias`]: l.bIn,
    [`layers.${k}.self_attn.out_proj.weight`]: l.wOut, [`layers.${k}.self_attn.out_proj.bias`]: l.bOut,
    [`layers.${k}.linear1.weight`]: l.w1, [`layers.${k}.linear1.bias`]: l.b1, [`layers.${k}.linear2.weight`]: l.w2, [`layers.${k}.linear2.bias`]: l.b2,
    [`layers.${k}.norm1.weight`]: l.n1w, [`layers.${k}.norm1.bias`]: l.n1b, [`layers.${k}.norm2.weight`]: l.n2w, [`layers.${k}.norm2.bias`]: l.n2b,
  }));
  return sd;
}
