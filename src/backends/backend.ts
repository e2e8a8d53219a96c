/**
 * The primitive kernels every backend implements. Nothing here knows about
 * gradients or tensors: arguments are storage handles plus plain numbers, and
 * the ops layer has already validated every shape. Outputs are allocated by the
 * caller; kernels never allocate tensor storage themselves.
 *
 * The numeric codes below are shared with the kernel sources
 * (kernels-wgsl/*.wgsl and kernels-as/*.ts), which switch on them. Change them
 * in all three places together; the kernel tests exercise every code.
 */

export type DeviceName = 'webgpu' | 'wasm';

/** Epilogue activation of the fused matmul, `act(A·B + bias)`. */
export const ACTIVATIONS = { none: 0, relu: 1, gelu: 2, tanh: 3, sigmoid: 4 } as const;
export type Activation = keyof typeof ACTIVATIONS;

/**
 * Unary ops. `affine` is `alpha * x + beta`, `rdiv` is `alpha / x`; they let
 * ops with a number operand (x * 2, 1 - x) run without uploading a scalar.
 */
export const UNARY_OPS = {
  copy: 0, neg: 1, exp: 2, log: 3, abs: 4, sqrt: 5, square: 6, sign: 7,
  relu: 8, gelu: 9, tanh: 10, sigmoid: 11, affine: 12, rdiv: 13,
} as const;
export type UnaryOp = keyof typeof UNARY_OPS;

/**
 * Binary ops with broadcasting. The `*_bwd` ops are activation derivatives:
 * `a` is the activation's input (relu, gelu) or its output (tanh, sigmoid),
 * `b` is the incoming gradient, and the result is `b * act'(...)`.
 */
export const BINARY_OPS = {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, eq: 6, gt: 7,
  relu_bwd: 8, gelu_bwd: 9, tanh_bwd: 10, sigmoid_bwd: 11,
} as const;
export type BinaryOp = keyof typeof BINARY_OPS;

export const REDUCE_OPS = { sum: 0, mean: 1, max: 2 } as const;
export type ReduceOp = keyof typeof REDUCE_OPS;

/** Highest tensor rank the strided kernels (binary broadcast, strided copy) take. */
export const MAX_RANK = 8;

/** The activation derivatives a matmul can fold into an operand (see MatmulParams.prologue). */
export type ActGradOp = 'relu_bwd' | 'gelu_bwd' | 'tanh_bwd' | 'sigmoid_bwd';

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

/**
 * Kernels a model will run, described for Backend.prepare: products, and
 * elementwise passes over `n` contiguous elements (operands of one shape, no broadcast).
 */
export interface PrepareWork {
  matmul?: readonly MatmulShape[];
  unary?: readonly { op: UnaryOp; n: number }[];
  binary?: readonly { op: BinaryOp; n: number }[];
}

export interface BroadcastParams {
  /** Output shape (rank <= MAX_RANK; rank 0 is a scalar). */
  shape: readonly number[];
  /** Element strides of each input in the output's index space; 0 where broadcast. */
  aStrides: readonly number[];
  bStrides: readonly number[];
}

/** Reduce the middle axis of a contiguous [outer, reduce, inner] view to [outer, inner]. */
export interface ReduceParams {
  outer: number;
  reduce: number;
  inner: number;
}

/** out[i] = x[offset + sum_d idx_d(i) * strides[d]] over the row-major output `shape`. */
export interface StridedParams {
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
}

export interface SgdParams {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decay the weights directly instead of adding `wd * p` to the gradient. */
  decoupled: boolean;
  /** 1 - beta1^t and 1 - beta2^t for the step t being taken (t starts at 1). */
  biasCorrection1: number;
  biasCorrection2: number;
}

/**
 * A backend owns device memory (handles of type H, each holding `n` f32s) and
 * runs kernels on it. Kernels may run later than they are called (WebGPU
 * queues them); `read` resolves once every earlier kernel has finished.
 */
export interface Backend<H = unknown> {
  readonly name: DeviceName;
  /** Human-readable description of the device, e.g. the adapter or the SIMD flavour. */
  readonly description: string;

  /** Storage for `n` f32 values; contents are unspecified. Throws if `n` exceeds a device limit. */
  alloc(n: number): H;
  /** Returns storage to the backend (pooled). The handle must not be used again. */
  free(h: H): void;
  /** Copies `data` into the start of `h`. */
  write(h: H, data: Float32Array): void;
  /** The first `n` values of `h`, after all queued work. */
  read(h: H, n: number): Promise<Float32Array>;
  /** Synchronous read where the device allows it (WASM); undefined elsewhere. */
  readSync?(h: H, n: number): Float32Array;

  fill(out: H, n: number, value: number): void;
  /** out = act(op(A)·op(B) + bias), bias of length N broadcast over rows and batch. */
  matmul(a: H, b: H, bias: H | null, out: H, p: MatmulParams<H>): void;
  /** out[i] = op(x[i]) for i < n. */
  unary(op: UnaryOp, x: H, out: H, n: number, alpha?: number, beta?: number): void;
  binary(op: BinaryOp, a: H, b: H, out: H, p: BroadcastParams): void;
  reduce(op: ReduceOp, x: H, out: H, p: ReduceParams): void;
  /** Softmax (or log-softmax) over each contiguous row of length `cols`. */
  softmax(x: H, out: H, rows: number, cols: number, log: boolean): void;
  strided(x: H, out: H, p: StridedParams): void;
  /** In-place SGD update of `param` (n values); `velocity` is null when momentum is 0. */
  sgd(param: H, grad: H, velocity: H | null, n: number, p: SgdParams): void;
  /** In-place Adam / AdamW update of `param`, `m` and `v`. */
  adam(param: H, grad: H, m: H, v: H, n: number, p: AdamParams): void;

  /** Compiles the kernels this work will use, ahead of their first use (where compiling exists: WebGPU). */
  prepare?(work: PrepareWork): Promise<void>;
  /**
   * A fact for the ops layer's plans (src/ops/linear.ts): the output extent
   * (columns for a prologue on A, rows for one on B) up to which a matmul
   * prologue re-reading its operand costs less than an elementwise pass
   * applying it once first. Infinity where fusing is always cheaper.
   */
  readonly fusedPrologueMaxReads: number;
  /** Submits queued work now (no-op where work runs eagerly). */
  flush(): void;
  /** Frees every resource; the backend is unusable afterwards. */
  destroy(): void;
}
