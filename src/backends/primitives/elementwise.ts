// Elementwise primitives: fill, unary ops, binary ops with numpy broadcasting
// (the activation derivatives among them). Kernels: kernels-wgsl/elementwise.wgsl,
// kernels-as/elementwise.ts.
import { MAX_RANK } from './limits.js';
import { codes, struct } from './declare.js';

/**
 * Unary ops. `affine` is `alpha * x + beta`, `rdiv` is `alpha / x`; they let
 * ops with a number operand (x * 2, 1 - x) run without uploading a scalar.
 */
export const UNARY = codes('UNARY', {
  copy: 0, neg: 1, exp: 2, log: 3, abs: 4, sqrt: 5, square: 6, sign: 7,
  relu: 8, gelu: 9, tanh: 10, sigmoid: 11, affine: 12, rdiv: 13,
});
export const UNARY_OPS = UNARY.codes;
export type UnaryOp = keyof typeof UNARY_OPS;

/**
 * Binary ops with broadcasting. The `*_bwd` ops are activation derivatives:
 * `a` is the activation's input (relu, gelu) or its output (tanh, sigmoid),
 * `b` is the incoming gradient, and the result is `b * act'(...)`. `xmul` is
 * `a * b` except 0 where a = 0 and b is not NaN (0 · ±inf = 0: the 0 · log 0 = 0
 * of a cross-entropy, as torch.xlogy). `mask` is `a` where b is non-zero
 * (NaN counts as true, as bool(NaN) in PyTorch) and −0 elsewhere: where(c, a,
 * b) is mask(a, c) + mask(b, !c), and adding −0 changes no value, not even a
 * −0. `ge` is a >= b (0 with a NaN). `pow` is C's pow (PyTorch's): x^0 = 1 and
 * 1^y = 1 even for NaN, NaN for a negative base and a non-integer exponent,
 * signed zeros and infinities by the parity of an integer exponent.
 */
export const BINARY = codes('BINARY', {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, eq: 6, gt: 7,
  relu_bwd: 8, gelu_bwd: 9, tanh_bwd: 10, sigmoid_bwd: 11, xmul: 12,
  mask: 13, ge: 14, pow: 15,
});
export const BINARY_OPS = BINARY.codes;
export type BinaryOp = keyof typeof BINARY_OPS;

/** The activation derivatives a matmul can fold into an operand (see MatmulParams.prologue). */
export type ActGradOp = 'relu_bwd' | 'gelu_bwd' | 'tanh_bwd' | 'sigmoid_bwd';

export interface BroadcastParams {
  /** Output shape (rank <= MAX_RANK; rank 0 is a scalar). */
  shape: readonly number[];
  /** Element strides of each input in the output's index space; 0 where broadcast. */
  aStrides: readonly number[];
  bStrides: readonly number[];
}

export interface ElementwiseKernels<H> {
  fill(out: H, n: number, value: number): void;
  /** out[i] = op(x[i]) for i < n; out may be x. */
  unary(op: UnaryOp, x: H, out: H, n: number, alpha?: number, beta?: number): void;
  binary(op: BinaryOp, a: H, b: H, out: H, p: BroadcastParams): void;
}

// WebGPU uniforms.
export const FillParams = struct('FillParams', { n: 'u32', value: 'f32' }, 'wgsl');
export const UnaryParams = struct('UnaryParams', { n: 'u32', alpha: 'f32', beta: 'f32' }, 'wgsl');
export const ContigParams = struct('ContigParams', { n: 'u32' }, 'wgsl');
/** Broadcast shape and element strides of a and b. */
export const BroadcastDims = struct('BroadcastDims', {
  shape: { array: 'u32', length: MAX_RANK }, aStrides: { array: 'u32', length: MAX_RANK },
  bStrides: { array: 'u32', length: MAX_RANK }, n: 'u32', rank: 'u32',
}, 'wgsl');

// WASM job descriptors (pointers are byte addresses; `parts` splits the work over threads).
export const FillJob = struct('FillJob', { out: 'u32', n: 'u32', value: 'f32', parts: 'u32' }, 'wasm');
export const UnaryJob = struct('UnaryJob', { op: 'u32', x: 'u32', out: 'u32', n: 'u32', alpha: 'f32', beta: 'f32', parts: 'u32' }, 'wasm');
/** `coords` holds MAX_RANK scratch coordinates per part. */
export const BinaryJob = struct('BinaryJob', {
  op: 'u32', a: 'u32', b: 'u32', out: 'u32', rank: 'u32', parts: 'u32',
  shape: { array: 'i32', length: MAX_RANK }, aStrides: { array: 'i32', length: MAX_RANK },
  bStrides: { array: 'i32', length: MAX_RANK }, coords: { array: 'i32', length: 0 },
}, 'wasm');

export const DECLS = [UNARY, BINARY, FillParams, UnaryParams, ContigParams, BroadcastDims, FillJob, UnaryJob, BinaryJob];
