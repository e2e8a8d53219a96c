/**
 * The Backend interface: a runtime (device memory, queue) plus the primitive
 * kernels every backend implements. Nothing here knows about gradients or
 * tensors: arguments are storage handles plus plain numbers, and the ops
 * layer has already validated every shape. Outputs are allocated by the
 * caller; kernels never allocate tensor storage themselves.
 *
 * Each primitive family declares its methods, codes and parameter layouts
 * once, in src/backends/primitives/<family>.ts; the build generates what the
 * WGSL and AssemblyScript kernels need from those declarations.
 */
import type { ConvKernels } from './primitives/conv.js';
import type { AttentionKernels } from './primitives/attention.js';
import type { BinaryOp, ElementwiseKernels, UnaryOp } from './primitives/elementwise.js';
import type { EmbeddingKernels } from './primitives/embedding.js';
import type { GatherKernels } from './primitives/gather.js';
import type { MatmulKernels, MatmulShape } from './primitives/matmul.js';
import type { NormKernels } from './primitives/norm.js';
import type { OptimKernels } from './primitives/optim.js';
import type { PoolKernels } from './primitives/pool.js';
import type { ReduceKernels } from './primitives/reduce.js';
import type { SoftmaxKernels } from './primitives/softmax.js';
import type { StridedKernels } from './primitives/strided.js';
import type { XentKernels } from './primitives/xent.js';

export { ACTIVATIONS, type Activation } from './primitives/activation.js';
export type {
  Conv2dParams, ConvBackwardDataParams, ConvBackwardFilterParams, ConvGeometry, ConvPrologue,
} from './primitives/conv.js';
export type { AttentionParams } from './primitives/attention.js';
export {
  BINARY_OPS, UNARY_OPS, type ActGradOp, type BinaryOp, type BroadcastParams, type UnaryOp,
} from './primitives/elementwise.js';
export { MAX_RANK } from './primitives/limits.js';
export type { NormParams } from './primitives/norm.js';
export { matmulSizes, type MatmulParams, type MatmulShape } from './primitives/matmul.js';
export type { AdamParams, SgdParams } from './primitives/optim.js';
export type { AvgPoolParams, PoolGeometry } from './primitives/pool.js';
export { REDUCE_OPS, type ReduceOp, type ReduceParams } from './primitives/reduce.js';
export type { StridedParams } from './primitives/strided.js';
export type { CumsumParams, GatherParams, ScanParams, TopkParams } from './primitives/gather.js';

export type DeviceName = 'webgpu' | 'wasm';

/**
 * Who holds a handle (a tensor's Storage): device-loss recovery re-points it
 * when it moves the handle's values to another backend (webgpu/recovery.ts).
 */
export interface StorageRef {
  backend: Backend;
  handle: unknown;
}

/** Device memory and the work queue: what every backend has besides its kernels. */
export interface Runtime<H = unknown> {
  readonly name: DeviceName;
  /** Human-readable description of the device, e.g. the adapter or the SIMD flavour. */
  readonly description: string;

  /**
   * Storage for `n` f32 values; contents are unspecified. `op` names the op
   * that asks, for the LeptonError thrown when the memory cannot be had (a
   * device limit, an exhausted heap) or, where the device says so only later
   * (WebGPU), for the error every later use of the storage meets.
   */
  alloc(n: number, op?: string): H;
  /** Returns storage to the backend (pooled). The handle must not be used again. */
  free(h: H): void;
  /** Copies `data` into the start of `h`. */
  write(h: H, data: Float32Array): void;
  /** The first `n` values of `h`, after all queued work. */
  read(h: H, n: number): Promise<Float32Array>;
  /** Synchronous read where the device allows it (WASM); undefined elsewhere. */
  readSync?(h: H, n: number): Float32Array;
  /** Device memory held now, in bytes: live storage, pooled buffers, staging (memory()'s reservedBytes). */
  reservedBytes(): number;
  /** Gives back pooled memory no storage uses (emptyCache()); live storage is untouched. */
  trim(): void;
  /** Submits queued work now (no-op where work runs eagerly). */
  flush(): void;
  /** Frees every resource; the backend is unusable afterwards. */
  destroy(): void;
  /** Tells the backend which Storage holds `h` (a backend that may move its storage elsewhere keeps it). */
  adopt?(h: H, owner: StorageRef): void;
  /** True once the backend is unusable for good (its device lost, nothing recovered it): init() then starts a new one. */
  readonly lost?: boolean;
}

/**
 * Kernels a model will run, described without storage for Backend.prepare
 * (e.g. a layer's plan, src/ops/linear.ts). A new family adds its own list.
 */
export interface PrepareWork {
  matmul?: readonly MatmulShape[];
  unary?: readonly { op: UnaryOp; n: number }[];
  binary?: readonly { op: BinaryOp; n: number }[];
}

/**
 * A backend owns device memory (handles of type H, each holding `n` f32s) and
 * runs kernels on it. Kernels may run later than they are called (WebGPU
 * queues them); `read` resolves once every earlier kernel has finished.
 */
export interface Backend<H = unknown> extends Runtime<H>,
  ElementwiseKernels<H>, MatmulKernels<H>, ReduceKernels<H>, SoftmaxKernels<H>, StridedKernels<H>, OptimKernels<H>,
  ConvKernels<H>, PoolKernels<H>, AttentionKernels<H>, NormKernels<H>, EmbeddingKernels<H>, XentKernels<H>, GatherKernels<H> {
  /** Compiles the kernels this work will use, ahead of their first use (where compiling exists: WebGPU). */
  prepare?(work: PrepareWork): Promise<void>;
}
