// The WebAssembly backend: the runtime (runtime.ts: kernel module, linear
// memory, worker threads) plus one module per kernel family
// (kernels/<family>.ts). Kernels run synchronously on storage in one linear
// memory owned by this backend; with threads, that memory is shared with
// worker threads and a job is split between them.
import type { Backend } from '../backend.js';
import type { Conv2dParams, ConvBackwardDataParams, ConvBackwardFilterParams } from '../primitives/conv.js';
import type { AttentionParams } from '../primitives/attention.js';
import type { BinaryOp, BroadcastParams, UnaryOp } from '../primitives/elementwise.js';
import type { MatmulParams } from '../primitives/matmul.js';
import type { NormParams } from '../primitives/norm.js';
import type { AdamParams, SgdParams } from '../primitives/optim.js';
import type { AvgPoolParams, PoolGeometry } from '../primitives/pool.js';
import type { ReduceOp, ReduceParams } from '../primitives/reduce.js';
import type { StridedParams } from '../primitives/strided.js';
import type { XentOptions } from '../primitives/xent.js';
import type { CumsumParams, GatherParams, TopkParams } from '../primitives/gather.js';
import * as gat from './kernels/gather.js';
import { importNode, isNode } from '../node-import.js';
import * as conv from './kernels/conv.js';
import * as attn from './kernels/attention.js';
import * as elementwise from './kernels/elementwise.js';
import * as emb from './kernels/embedding.js';
import * as norm from './kernels/norm.js';
import * as xent from './kernels/xent.js';
import * as mm from './kernels/matmul.js';
import * as optim from './kernels/optim.js';
import * as pool from './kernels/pool.js';
import * as red from './kernels/reduce.js';
import * as sm from './kernels/softmax.js';
import * as str from './kernels/strided.js';
import { LinearMemory, MAX_PAGES, PAGE_BYTES } from './memory.js';
import { compile, instantiate, pickFlavour, type Flavour } from './module.js';
import { WasmHandle, WasmRuntime, WHO } from './runtime.js';
import { ThreadPool } from './threads.js';

export { WasmHandle } from './runtime.js';

export interface WasmBackendOptions {
  /** Which module: relaxed SIMD where available ('auto', the default), or force one. */
  simd?: 'auto' | Flavour;
  /**
   * Threads including the calling one. 'auto' (default): min(cores, 8) where
   * shared memory works (Node; browsers only when crossOriginIsolated), else 1.
   * A number > 1 where shared memory does not work also falls back to 1; the
   * backend's `threads` says what it got. 1: no workers, a private memory.
   */
  threads?: 'auto' | number;
}

const INITIAL_PAGES = 16; // 1 MiB; grows on demand
/** The most threads 'auto' takes: past that the memory bandwidth, not the cores, limits. */
const AUTO_MAX_THREADS = 8;

/** Whether shared WebAssembly memory can be used with workers here. */
function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  if (isNode) return true;
  // Browsers hand out SharedArrayBuffer only to cross-origin isolated pages.
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof Worker !== 'undefined';
}

async function coreCount(): Promise<number> {
  if (isNode) {
    const os = await importNode<typeof import('node:os')>('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/** A shared memory with the largest maximum the engine will reserve (a shared memory declares it up front). */
function sharedMemory(): { memory: WebAssembly.Memory; maxPages: number } | null {
  for (const maxPages of [MAX_PAGES, MAX_PAGES / 4, MAX_PAGES / 16]) {
    try {
      return { memory: new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: maxPages, shared: true }), maxPages };
    } catch {
      // The engine could not reserve that much address space: try less.
    }
  }
  return null;
}

export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  const flavour = pickFlavour(opts.simd ?? 'auto');
  const want = opts.threads ?? 'auto';
  if (want !== 'auto' && !(Number.isInteger(want) && want >= 1)) {
    throw new Error(`${WHO}: option 'threads' must be 'auto' or a positive integer, got ${JSON.stringify(want)}`);
  }
  let threads = want === 'auto' ? Math.min(await coreCount(), AUTO_MAX_THREADS) : want;
  if (threads > 1 && !sharedMemoryWorks()) threads = 1;
  if (threads > 1) {
    const shared = sharedMemory();
    if (shared) {
      try {
        return await start(flavour, shared.memory, shared.maxPages, threads);
      } catch {
        // Workers could not start (e.g. a Content-Security-Policy without blob: workers): run on one thread.
      }
    }
  }
  return start(flavour, new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES }), MAX_PAGES, 1);
}

/** Instantiates the kernels on `memory` and, for threads > 1 (a shared memory), starts the workers. */
async function start(flavour: Flavour, memory: WebAssembly.Memory, maxPages: number, threads: number): Promise<WasmBackend> {
  const module = await compile(flavour, threads > 1);
  const kernels = await instantiate(module, memory);
  const heapBase = kernels.heapBase() >>> 0;
  if (heapBase > INITIAL_PAGES * PAGE_BYTES) memory.grow(Math.ceil(heapBase / PAGE_BYTES) - INITIAL_PAGES);
  const backend = new WasmBackend(flavour, kernels, new LinearMemory(memory, heapBase, maxPages * PAGE_BYTES), threads);
  if (threads > 1) {
    try {
      backend.attachPool(await ThreadPool.start(kernels, module, memory, backend.controlBlock, threads));
    } catch (e) {
      backend.destroy();
      throw e;
    }
  }
  return backend;
}

export class WasmBackend extends WasmRuntime implements Backend<WasmHandle> {
  /** A matmul prologue is always fused here: the packing applies it once per panel. */
  readonly fusedPrologueMaxReads = Infinity;
  /** Any head dimension: the attention tiles are sized from it. */
  readonly attentionMaxHeadDim = Infinity;

  // ---- kernels: one line each, the work is in kernels/<family>.ts ----

  fill(out: WasmHandle, n: number, value: number): void { elementwise.fill(this, out, n, value); }
  unary(op: UnaryOp, x: WasmHandle, out: WasmHandle, n: number, alpha = 1, beta = 0): void { elementwise.unary(this, op, x, out, n, alpha, beta); }
  binary(op: BinaryOp, a: WasmHandle, b: WasmHandle, out: WasmHandle, p: BroadcastParams): void { elementwise.binary(this, op, a, b, out, p); }
  matmul(a: WasmHandle, b: WasmHandle, bias: WasmHandle | null, out: WasmHandle, p: MatmulParams<WasmHandle>): void { mm.matmul(this, a, b, bias, out, p); }
  reduce(op: ReduceOp, x: WasmHandle, out: WasmHandle, p: ReduceParams): void { red.reduce(this, op, x, out, p); }
  softmax(x: WasmHandle, out: WasmHandle, rows: number, cols: number, log: boolean): void { sm.softmax(this, x, out, rows, cols, log); }
  strided(x: WasmHandle, out: WasmHandle, p: StridedParams): void { str.strided(this, x, out, p); }
  gather(x: WasmHandle, index: WasmHandle, out: WasmHandle, p: GatherParams): void { gat.gather(this, x, index, out, p); }
  scatterAdd(g: WasmHandle, index: WasmHandle, out: WasmHandle, p: GatherParams): void { gat.scatterAdd(this, g, index, out, p); }
  cumsum(x: WasmHandle, out: WasmHandle, p: CumsumParams): void { gat.cumsum(this, x, out, p); }
  topk(x: WasmHandle, values: WasmHandle, indices: WasmHandle, p: TopkParams): void { gat.topk(this, x, values, indices, p); }
  sgd(param: WasmHandle, grad: WasmHandle, velocity: WasmHandle | null, n: number, p: SgdParams): void { optim.sgd(this, param, grad, velocity, n, p); }
  adam(param: WasmHandle, grad: WasmHandle, m: WasmHandle, v: WasmHandle, n: number, p: AdamParams): void { optim.adam(this, param, grad, m, v, n, p); }
  conv2d(x: WasmHandle, w: WasmHandle, bias: WasmHandle | null, out: WasmHandle, p: Conv2dParams): void { conv.conv2d(this, x, w, bias, out, p); }
  conv2dBackwardData(dy: WasmHandle, w: WasmHandle, dx: WasmHandle, p: ConvBackwardDataParams<WasmHandle>): void { conv.conv2dBackwardData(this, dy, w, dx, p); }
  conv2dBackwardFilter(x: WasmHandle, dy: WasmHandle, dw: WasmHandle, p: ConvBackwardFilterParams<WasmHandle>): void { conv.conv2dBackwardFilter(this, x, dy, dw, p); }
  maxPool2d(x: WasmHandle, out: WasmHandle, argmax: WasmHandle | null, p: PoolGeometry): void { pool.maxPool2d(this, x, out, argmax, p); }
  maxPool2dBackward(dy: WasmHandle, argmax: WasmHandle, dx: WasmHandle, p: PoolGeometry): void { pool.maxPool2dBackward(this, dy, argmax, dx, p); }
  avgPool2d(x: WasmHandle, out: WasmHandle, p: AvgPoolParams): void { pool.avgPool2d(this, x, out, p); }
  avgPool2dBackward(dy: WasmHandle, dx: WasmHandle, p: AvgPoolParams): void { pool.avgPool2dBackward(this, dy, dx, p); }
  attention(q: WasmHandle, k: WasmHandle, v: WasmHandle, out: WasmHandle, lse: WasmHandle, p: AttentionParams<WasmHandle>): void { attn.attention(this, q, k, v, out, lse, p); }
  attentionBackward(q: WasmHandle, k: WasmHandle, v: WasmHandle, out: WasmHandle, lse: WasmHandle, dout: WasmHandle, dq: WasmHandle, dk: WasmHandle, dv: WasmHandle,
    p: AttentionParams<WasmHandle>, dbias: WasmHandle | null): void { attn.attentionBackward(this, q, k, v, out, lse, dout, dq, dk, dv, p, dbias); }
  normForward(x: WasmHandle, w: WasmHandle | null, b: WasmHandle | null, out: WasmHandle, stats: WasmHandle, p: NormParams): void { norm.normForward(this, x, w, b, out, stats, p); }
  normBackward(x: WasmHandle, w: WasmHandle | null, g: WasmHandle, stats: WasmHandle, dx: WasmHandle, dw: WasmHandle | null, db: WasmHandle | null, p: NormParams): void { norm.normBackward(this, x, w, g, stats, dx, dw, db, p); }
  embeddingGather(weight: WasmHandle, ids: WasmHandle, out: WasmHandle, n: number, dim: number): void { emb.embeddingGather(this, weight, ids, out, n, dim); }
  embeddingGrad(g: WasmHandle, order: WasmHandle, offsets: WasmHandle, out: WasmHandle, num: number, dim: number): void { emb.embeddingGrad(this, g, order, offsets, out, num, dim); }
  xentForward(logits: WasmHandle, targets: WasmHandle, loss: WasmHandle, lse: WasmHandle, rows: number, cols: number, o?: XentOptions): void { xent.xentForward(this, logits, targets, loss, lse, rows, cols, o); }
  xentBackward(logits: WasmHandle, targets: WasmHandle, lse: WasmHandle, g: WasmHandle, dx: WasmHandle, rows: number, cols: number, gStride: number, scale: number, o?: XentOptions): void {
    xent.xentBackward(this, logits, targets, lse, g, dx, rows, cols, gStride, scale, o);
  }
}
