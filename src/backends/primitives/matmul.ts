// The batched matmul with fused bias + activation, an activation-derivative
// prologue on one operand and the column sums of B (the fused layer backward).
// Kernels: kernels-wgsl/matmul*.wgsl, kernels-as/matmul.ts (+ gemv.ts, prologue.ts).
import { ACTIVATIONS, type Activation } from './activation.js';
import { struct } from './declare.js';
import type { ActGradOp } from './elementwise.js';

export interface MatmulParams<H = unknown> {
  /** Number of matrices; C has `batch * M * N` elements. */
  batch: number;
  M: number;
  N: number;
  K: number;
  /** A is stored [K, M] (row-major) instead of [M, K]. */
  transA: boolean;
  /** B is stored [N, K] instead of [K, N]. */
  transB: boolean;
  /** Elements between consecutive A (B) matrices; 0 broadcasts one matrix over the batch. */
  strideA: number;
  strideB: number;
  /** Applied after the bias add. */
  act: Activation;
  /**
   * The backward of a fused layer without a separate elementwise pass: operand
   * `on` is read as `op(t, operand)` (a `*_bwd` binary op: the incoming
   * gradient times the activation's derivative), elementwise over its stored
   * layout; `t` has the operand's size and layout and holds the layer's output
   * (relu, tanh, sigmoid) or pre-activation (gelu).
   */
  prologue?: { on: 'a' | 'b'; op: ActGradOp; t: H } | null;
  /**
   * Also write Σ_k op(B)[k, n] (after the prologue) to this length-N buffer:
   * the bias gradient, from the pass the product makes over B anyway.
   * Only with batch 1 and transB false, and written only when the product has
   * outputs (the ops layer handles M = 0 and K = 0 itself).
   */
  sumB?: H | null;
}

/** A product a model will run, described for Backend.prepare (compiling ahead of first use). */
export interface MatmulShape {
  batch?: number;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** Default: one matrix after another (M·K, K·N). */
  strideA?: number;
  strideB?: number;
  act?: Activation;
  bias?: boolean;
  prologue?: { on: 'a' | 'b'; op: ActGradOp } | null;
  sumB?: boolean;
}

export interface MatmulKernels<H> {
  /** out = act(op(A)·op(B) + bias), bias of length N broadcast over rows and batch. */
  matmul(a: H, b: H, bias: H | null, out: H, p: MatmulParams<H>): void;
  /**
   * A fact for the ops layer's plans (src/ops/linear.ts): the output extent
   * (columns for a prologue on A, rows for one on B) up to which a matmul
   * prologue re-reading its operand costs less than an elementwise pass
   * applying it once first. Infinity where fusing is always cheaper.
   */
  readonly fusedPrologueMaxReads: number;
}

/**
 * The checks both backends make on a product's parameters; returns the
 * output size and the element spans of A and B (0 when empty) for the
 * backend to check its handles against.
 */
export function matmulSizes(p: MatmulParams<unknown>, who: string): { total: number; sizeA: number; sizeB: number } {
  const { batch, M, N, K } = p;
  if (ACTIVATIONS[p.act] === undefined) throw new Error(`${who}: unknown activation ${p.act}`);
  if (p.sumB && (batch !== 1 || p.transB)) throw new Error(`${who}: matmul sumB needs batch 1 and B not transposed`);
  return {
    total: batch * M * N,
    sizeA: batch > 0 && M * K > 0 ? p.strideA * (batch - 1) + M * K : 0,
    sizeB: batch > 0 && K * N > 0 ? p.strideB * (batch - 1) + K * N : 0,
  };
}

/** WebGPU uniform: sizes, batch strides, and output blocks per row (tilesN) and column (tilesM) of C. */
export const MatmulDims = struct('MatmulDims', {
  M: 'u32', N: 'u32', K: 'u32', batch: 'u32', strideA: 'u32', strideB: 'u32', tilesN: 'u32', tilesM: 'u32',
}, 'wgsl');

/**
 * WASM job descriptor. `pro` is the prologue's BINARY code (0: none), on B
 * when `proOnB`; `sumB` 0 means no column sums. Each thread's scratch is
 * `scratch + slot * scratchPart`. Part p's block of C is the 6 words at
 * ranges[6p]: z0, z1, m0, m1, n0, n1 (half-open).
 */
export const MatmulJob = struct('MatmulJob', {
  a: 'u32', b: 'u32', bias: 'u32', out: 'u32', batch: 'u32', M: 'u32', N: 'u32', K: 'u32',
  transA: 'u32', transB: 'u32', strideA: 'u32', strideB: 'u32', act: 'u32',
  pro: 'u32', proOnB: 'u32', t: 'u32', sumB: 'u32', scratch: 'u32', scratchPart: 'u32',
  ranges: { array: 'u32', length: 0 },
}, 'wasm');

export const DECLS = [MatmulDims, MatmulJob];
