// Scaled dot-product attention, fused the FlashAttention-2 way: the forward
// runs Q·Kᵀ, the masks, an online softmax and ·V in one pass over K/V tiles
// and keeps only each query row's log-sum-exp; the backward recomputes the
// probabilities from Q, K and that log-sum-exp. No score matrix is stored.
// Kernels: kernels-wgsl/attention.wgsl, kernels-as/attention.ts.
import { codes, struct } from './declare.js';

/**
 * One attention call over [batch, heads, Lq, D] queries and [batch, kvHeads,
 * Lk, D] keys and values (contiguous). Query head h reads key/value head
 * floor(h / (heads / kvHeads)) (grouped-query attention; PyTorch's
 * repeat_interleave order). The ops layer has validated every shape.
 */
export interface AttentionParams<H = unknown> {
  batch: number;
  heads: number;
  kvHeads: number;
  Lq: number;
  Lk: number;
  /** Head dimension of q, k and v. */
  D: number;
  /** Multiplies Q·Kᵀ (the ops layer defaults it to 1/√D). */
  scale: number;
  /** Query i sees keys j <= i (PyTorch's is_causal: aligned top-left). */
  causal: boolean;
  /**
   * Additive mask read at mask[b·sB + h·sH + i·sQ + j·sK] (strides in
   * elements; 0 on a broadcast axis; sK is 0 or 1).
   */
  mask: { h: H; strides: readonly [number, number, number, number]; size: number } | null;
  /** `batch` f32 values, each an integer in [0, Lk]: keys at and past it are masked for that batch entry. */
  keyLengths: H | null;
}

export interface AttentionKernels<H> {
  /**
   * out = softmax(Q·Kᵀ·scale + masks)·V and lse = the log-sum-exp of each row
   * of masked, scaled scores ([batch, heads, Lq]). A row whose keys are all
   * masked gets out = 0 and lse = +Infinity.
   */
  attention(q: H, k: H, v: H, out: H, lse: H, p: AttentionParams<H>): void;
  /**
   * dq, dk, dv from the forward's out and lse and the output gradient dout.
   * With `dbias` (batch·heads·Lq·Lk values, zero-filled by the caller), also
   * the gradient of the pre-softmax scores, for a mask that needs one.
   */
  attentionBackward(q: H, k: H, v: H, out: H, lse: H, dout: H, dq: H, dk: H, dv: H, p: AttentionParams<H>, dbias: H | null): void;
  /** The largest head dimension the kernels take (the ops layer refuses larger, naming it). */
  readonly attentionMaxHeadDim: number;
}

/** The passes of a call: the WASM job's `pass`. */
export const ATTN = codes('ATTN', { forward: 0, backwardQ: 1, backwardKV: 2, backward: 3 });

/**
 * WebGPU uniform. Mask strides in elements; `kvHeads` = heads / group;
 * `rowsPerGroup` is the workgroup's query (or key) rows, `blocks` the
 * workgroups per (batch, head).
 */
export const AttentionDims = struct('AttentionDims', {
  batch: 'u32', heads: 'u32', group: 'u32', lq: 'u32', lk: 'u32', d: 'u32', scale: 'f32', causal: 'u32',
  maskB: 'u32', maskH: 'u32', maskQ: 'u32', maskK: 'u32', hasMask: 'u32', hasLens: 'u32', blocks: 'u32', hasBias: 'u32',
}, 'wgsl');

/**
 * WASM job descriptor, one layout for every pass. Units of work are
 * (batch·head, query block) for forward and backwardQ, (batch·kvHead, key
 * block) for backwardKV, batch·kvHead for the one-pass backward; part p runs
 * units p, p + parts, p + 2·parts, … (interleaved: causal blocks differ in
 * cost). Each thread's scratch is scratch + slot·scratchPart. `drow` holds
 * rowsum(dO ⊙ O) per query row, written by backwardQ (or the one-pass
 * backward) and read by backwardKV.
 */
export const AttentionJob = struct('AttentionJob', {
  pass: 'u32', q: 'u32', k: 'u32', v: 'u32', out: 'u32', lse: 'u32', dout: 'u32', dq: 'u32', dk: 'u32', dv: 'u32',
  drow: 'u32', dbias: 'u32', mask: 'u32', lens: 'u32',
  batch: 'u32', heads: 'u32', group: 'u32', lq: 'u32', lk: 'u32', d: 'u32', scale: 'f32', causal: 'u32',
  maskB: 'u32', maskH: 'u32', maskQ: 'u32', maskK: 'u32',
  scratch: 'u32', scratchPart: 'u32', parts: 'u32',
}, 'wasm');

export const DECLS = [ATTN, AttentionDims, AttentionJob];
