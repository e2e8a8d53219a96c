// The problems every library is timed on, and their inputs (the same numbers
// for every library, so results can be cross-checked). FLOP counts are for
// the matrix products (2·M·N·K each), the usual basis of GFLOP/s.
import { mlpFlops } from '../measure/flops.js';
import { cnnProblem, type CnnProblem } from './cnn-problem.js';
import { convProblems, type ConvProblem } from './conv-problems.js';
import { transformerProblem, type TransformerProblem } from './transformer-problem.js';

export interface MatmulProblem { kind: 'matmul'; id: string; name: string; M: number; N: number; K: number; flops: number }
export interface MlpProblem { kind: 'mlp'; id: string; name: string; sizes: number[]; batch: number; optimizer: 'sgd' | 'adam'; flops: number }
/**
 * Scaled dot-product attention on q, k, v [1, heads, seq, headDim]: the forward, or the forward
 * and the gradients of q, k and v for an output gradient g. FLOPs: 4·H·S²·D forward (the two
 * products), 10·H·S²·D more for the backward's five (recomputation not counted).
 */
export interface AttentionProblem { kind: 'attention'; id: string; name: string; heads: number; seq: number; headDim: number; backward: boolean; flops: number }

/**
 * Sequence-model kernels, forward + backward: LayerNorm over [rows, cols] (weight and bias), and
 * softmax cross-entropy of [rows, cols] logits against class ids. `flops` counts about 16 (LayerNorm)
 * and 12 (cross-entropy, an exp each way) operations per element: a basis for ratios, not a standard.
 */
export interface SeqProblem { kind: 'layernorm' | 'xent'; id: string; name: string; rows: number; cols: number; flops: number }
export type Problem = MatmulProblem | MlpProblem | ConvProblem | CnnProblem | AttentionProblem | SeqProblem | TransformerProblem;

const mm = (M: number, K: number, N: number, name: string): MatmulProblem =>
  ({ kind: 'matmul', id: `mm-${M}x${K}x${N}`, name, M, N, K, flops: 2 * M * N * K });

const MLP_SIZES = [784, 256, 256, 10];
const mlp = (optimizer: 'sgd' | 'adam'): MlpProblem => ({
  kind: 'mlp', id: `mlp-${optimizer}`, name: `MLP step 784-256-256-10 b128 ${optimizer === 'sgd' ? 'SGD' : 'Adam'}`,
  sizes: MLP_SIZES, batch: 128, optimizer, flops: mlpFlops(MLP_SIZES, 128),
});

const attn = (seq: number, backward: boolean): AttentionProblem => ({
  kind: 'attention', id: `attn-${backward ? 'fb' : 'f'}-${seq}`, name: `attention ${backward ? 'fwd+bwd' : 'fwd'} seq ${seq}`,
  heads: 8, seq, headDim: 64, backward, flops: (backward ? 14 : 4) * 8 * seq * seq * 64,
});

export function problems(quick: boolean): Problem[] {
  const squares = quick ? [128, 512] : [64, 128, 256, 512, 1024, 2048];
  return [
    ...squares.map((n) => mm(n, n, n, `matmul ${n}³`)),
    // The MLP's forward products: 128×784·784×256, 128×256·256×256, 128×256·256×10.
    mm(128, 784, 256, 'matmul 128×784×256'),
    ...(quick ? [] : [mm(128, 256, 256, 'matmul 128×256×256'), mm(128, 256, 10, 'matmul 128×256×10')]),
    mlp('sgd'),
    ...(quick ? [] : [mlp('adam')]),
    ...convProblems(quick),
    cnnProblem(64),
    transformerProblem(64),
    // Batch 1, 8 heads, headDim 64; in increasing size (peers' memory high-water marks rely on it).
    ...(quick ? [256] : [256, 1024, 4096]).flatMap((seq) => [attn(seq, false), attn(seq, true)]),
    { kind: 'layernorm', id: 'layernorm-2048x768', name: 'layerNorm fwd+bwd [2048, 768]', rows: 2048, cols: 768, flops: 16 * 2048 * 768 },
    { kind: 'xent', id: 'xent-128x32000', name: 'crossEntropy fwd+bwd [128, 32000]', rows: 128, cols: 32000, flops: 12 * 128 * 32000 },
  ];
}

/** Deterministic uniform [-1, 1) data (xorshift), identical in every runner process. */
export function data(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

export const matmulInputs = (p: MatmulProblem) => ({ a: data(p.M * p.K, 1), b: data(p.K * p.N, 2) });

/** MLP inputs and initial weights (He-scaled), shared by every library. */
export function mlpInputs(p: MlpProblem) {
  const x = data(p.batch * p.sizes[0], 3);
  const labels = Int32Array.from({ length: p.batch }, (_, i) => (i * 7) % p.sizes[p.sizes.length - 1]);
  const layers = p.sizes.slice(1).map((out, i) => {
    const fanIn = p.sizes[i], scale = Math.sqrt(6 / fanIn);
    return { w: data(fanIn * out, 10 + i).map((v) => v * scale), b: new Float32Array(out), in: fanIn, out };
  });
  return { x, labels, layers };
}

/** q, k, v and the output gradient g, [1, heads, seq, headDim] each, row-major; softmax scale 1/√headDim. */
export function attentionInputs(p: AttentionProblem) {
  const n = p.heads * p.seq * p.headDim;
  return { q: data(n, 21), k: data(n, 22), v: data(n, 23), g: data(n, 24), scale: 1 / Math.sqrt(p.headDim) };
}

/** Inputs of a sequence-kernel problem: x (or logits), the output gradient, LayerNorm's weight and bias, class ids. */
export function seqInputs(p: SeqProblem) {
  const n = p.rows * p.cols;
  return {
    x: data(n, 20).map((v) => v * 4), g: data(n, 21), w: data(p.cols, 22), b: data(p.cols, 23),
    labels: Int32Array.from({ length: p.rows }, (_, i) => (i * 7919) % p.cols),
  };
}

/** Sum of a result, to check that every library computed the same thing. */
export const checksum = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
};
