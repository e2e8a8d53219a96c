// The WebAssembly backend: kernels run synchronously on storage in one linear
// memory owned by this backend. With threads, that memory is shared with
// worker threads and a matmul is split between them (threads.ts); the call
// still returns only when the product is complete.
import {
  ACTIVATIONS, BINARY_OPS, MAX_RANK, REDUCE_OPS, UNARY_OPS, matmulSizes,
  type AdamParams, type Backend, type BinaryOp, type BroadcastParams, type MatmulParams, type ReduceOp,
  type ReduceParams, type SgdParams, type StridedParams, type UnaryOp,
} from '../backend.js';
import { collapse } from '../collapse.js';
import { importNode, isNode } from '../node-import.js';
import { D, descWords, planMatmul } from './matmul-job.js';
import { LinearMemory, MAX_PAGES, PAGE_BYTES } from './memory.js';
import { compile, instantiate, pickFlavour, type Flavour, type KernelExports } from './module.js';
import { controlWords, JOB_MATMUL, ThreadPool } from './threads.js';

/** Storage for `n` f32 values at byte address `ptr` of the backend's memory. */
export class WasmHandle {
  /** False once freed: a freed handle is refused by every kernel. */
  live = true;
  constructor(readonly ptr: number, readonly n: number, readonly size: number) {}
}

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

/** Bytes of the block the strided kernels read shape/strides from (4 x MAX_RANK i32s). */
const DIMS_BYTES = 4 * MAX_RANK * 4;
const INITIAL_PAGES = 16; // 1 MiB; grows on demand
/** The most threads 'auto' takes: past that the memory bandwidth, not the cores, limits. */
const AUTO_MAX_THREADS = 8;
/**
 * Default `minFlopsPerThread`: a product gets another thread only for at
 * least this much work (2·M·N·K) per thread. Measured on 2 cores: a worker
 * that is still polling after its last job (WORKER_SPIN_MS in threads.ts)
 * makes even 48³ 1.4x faster; one that has gone to sleep takes ~25 µs to
 * wake, and splitting then pays from ~1.5 MFLOP a thread (128³: 1.1-1.3x).
 */
const MIN_FLOPS_PER_THREAD = 2e6;


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
    throw new Error(`wasm backend: option 'threads' must be 'auto' or a positive integer, got ${JSON.stringify(want)}`);
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

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Stops the workers of a backend that was dropped without destroy() (they would idle until the process ends). */
const orphanedPools = typeof FinalizationRegistry === 'undefined' ? null
  : new FinalizationRegistry<ThreadPool>((pool) => pool.close());

export class WasmBackend implements Backend<WasmHandle> {
  readonly name = 'wasm' as const;
  readonly description: string;
  /**
   * Work (2·M·N·K) below which a matmul is not split further: a product gets
   * min(threads, floor(work / minFlopsPerThread)) threads. 0 splits every product.
   */
  minFlopsPerThread = MIN_FLOPS_PER_THREAD;
  private readonly dims: WasmHandle;
  /** The matmul descriptor (one, reused: calls are synchronous) and the threads' control block. */
  private readonly desc: WasmHandle;
  private readonly ctrl: WasmHandle;
  private readonly tileRows: number;
  private pool: ThreadPool | null = null;
  private destroyed = false;

  constructor(
    /** 'relaxed': SIMD128 + relaxed SIMD (fused multiply-add); 'simd': SIMD128 only. */
    readonly flavour: Flavour,
    private readonly k: KernelExports,
    private readonly mem: LinearMemory,
    /** Threads the backend runs on, the calling one included (1: no workers). */
    readonly threads: number,
  ) {
    this.description = flavour === 'relaxed'
      ? 'WebAssembly SIMD128 + relaxed SIMD (f32x4.relaxed_madd)'
      : 'WebAssembly SIMD128';
    this.dims = this.alloc(DIMS_BYTES / 4);
    this.desc = this.alloc(descWords(threads));
    this.ctrl = this.alloc(threads > 1 ? controlWords(threads) : 0);
    this.mem.u32.fill(0, this.ctrl.ptr / 4, this.ctrl.ptr / 4 + this.ctrl.n);
    this.tileRows = k.matmulTileRows();
  }

  /** Byte address of the (zeroed) control block the worker threads use. */
  get controlBlock(): number { return this.ctrl.ptr; }

  /** @internal Hands the started workers to the backend (createWasmBackend). */
  attachPool(pool: ThreadPool): void {
    this.pool = pool;
    orphanedPools?.register(this, pool, this);
  }

  /** The backend's linear memory (for interop: a view over it must be re-made after it grows). */
  get memory(): WebAssembly.Memory { return this.mem.memory; }

  alloc(n: number): WasmHandle {
    this.alive();
    if (!Number.isInteger(n) || n < 0) throw new Error(`wasm backend: alloc(n) needs a non-negative integer, got ${n}`);
    const { ptr, size } = this.mem.alloc(n * 4);
    return new WasmHandle(ptr, n, size);
  }

  free(h: WasmHandle): void {
    this.alive();
    if (!h.live) throw new Error('wasm backend: storage freed twice');
    h.live = false;
    this.mem.free(h.ptr, h.size);
  }

  write(h: WasmHandle, data: Float32Array): void {
    this.check(h, data.length, 'write');
    this.mem.f32.set(data, h.ptr / 4);
  }

  readSync(h: WasmHandle, n: number): Float32Array {
    this.check(h, n, 'read');
    const at = h.ptr / 4;
    return this.mem.f32.slice(at, at + n);
  }

  read(h: WasmHandle, n: number): Promise<Float32Array> {
    try {
      return Promise.resolve(this.readSync(h, n));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  fill(out: WasmHandle, n: number, value: number): void {
    this.check(out, n, 'fill');
    this.k.fill(out.ptr, n, value);
  }

  matmul(a: WasmHandle, b: WasmHandle, bias: WasmHandle | null, out: WasmHandle, p: MatmulParams<WasmHandle>): void {
    const { batch, M, N, K } = p;
    const { total, sizeA, sizeB } = matmulSizes(p, 'wasm backend');
    this.check(out, total, 'matmul out');
    const pro = p.prologue ?? null;
    if (pro) this.check(pro.t, pro.on === 'a' ? sizeA : sizeB, 'matmul prologue t');
    if (p.sumB) this.check(p.sumB, N, 'matmul sumB');
    if (total === 0) return;
    this.check(a, sizeA, 'matmul A');
    this.check(b, sizeB, 'matmul B');
    if (bias) this.check(bias, N, 'matmul bias');

    const flops = 2 * total * K;
    const cap = Math.min(this.threads, this.threadLimit);
    const threads = this.pool ? Math.max(1, this.minFlopsPerThread > 0
      ? Math.min(cap, Math.floor(flops / this.minFlopsPerThread)) : cap) : 1;
    // One part per thread: parts are claimed, so if a worker wakes late the caller runs its part too.
    const parts = planMatmul(batch, M, N, K, threads, this.tileRows);
    const slots = Math.min(threads, parts.length);
    let partM = 0, partN = 0;
    for (const q of parts) { partM = Math.max(partM, q.m1 - q.m0); partN = Math.max(partN, q.n1 - q.n0); }
    const perSlot = Math.ceil(this.k.matmulScratch(M, N, K, partM, partN) / 64) * 64;
    this.withScratch(perSlot * slots, (scratch) => {
      const w = this.mem.u32, at = this.desc.ptr / 4;
      w[at + D.a] = a.ptr; w[at + D.b] = b.ptr; w[at + D.bias] = bias ? bias.ptr : 0; w[at + D.out] = out.ptr;
      w[at + D.batch] = batch; w[at + D.M] = M; w[at + D.N] = N; w[at + D.K] = K;
      w[at + D.transA] = +p.transA; w[at + D.transB] = +p.transB; w[at + D.strideA] = p.strideA; w[at + D.strideB] = p.strideB;
      w[at + D.act] = ACTIVATIONS[p.act];
      w[at + D.pro] = pro ? BINARY_OPS[pro.op] : 0; w[at + D.proOnB] = pro?.on === 'b' ? 1 : 0; w[at + D.t] = pro ? pro.t.ptr : 0;
      w[at + D.sumB] = p.sumB ? p.sumB.ptr : 0;
      w[at + D.scratch] = scratch; w[at + D.scratchPart] = perSlot;
      parts.forEach((q, i) => w.set([q.z0, q.z1, q.m0, q.m1, q.n0, q.n1], at + D.ranges + 6 * i));
      // The pool runs the parts on this thread alone when one slot is all there is.
      if (this.pool) this.pool.run(JOB_MATMUL, this.desc.ptr, parts.length, slots);
      else for (let i = 0; i < parts.length; i++) this.k.runPart(JOB_MATMUL, this.desc.ptr, i, 0);
    });
  }

  unary(op: UnaryOp, x: WasmHandle, out: WasmHandle, n: number, alpha = 1, beta = 0): void {
    this.check(x, n, `unary ${op} input`);
    this.check(out, n, `unary ${op} output`);
    this.k.unary(UNARY_OPS[op], x.ptr, out.ptr, n, alpha, beta);
  }

  binary(op: BinaryOp, a: WasmHandle, b: WasmHandle, out: WasmHandle, p: BroadcastParams): void {
    const n = size(p.shape);
    this.check(out, n, `binary ${op} output`);
    if (n === 0) return;
    this.check(a, reach(`binary ${op} a`, p.shape, p.aStrides), `binary ${op} a`);
    this.check(b, reach(`binary ${op} b`, p.shape, p.bStrides), `binary ${op} b`);
    const c = collapse(p.shape, [p.aStrides, p.bStrides]);
    const rank = this.writeDims(c.shape.length ? c.shape : [1], c.shape.length ? c.strides : [[0], [0]]);
    this.k.binary(BINARY_OPS[op], a.ptr, b.ptr, out.ptr, rank, this.dims.ptr);
  }

  reduce(op: ReduceOp, x: WasmHandle, out: WasmHandle, p: ReduceParams): void {
    this.check(out, p.outer * p.inner, `reduce ${op} output`);
    this.check(x, p.outer * p.reduce * p.inner, `reduce ${op} input`);
    this.withScratch(this.k.reduceScratch(REDUCE_OPS[op], p.reduce, p.inner),
      (scratch) => this.k.reduce(REDUCE_OPS[op], x.ptr, out.ptr, p.outer, p.reduce, p.inner, scratch));
  }

  softmax(x: WasmHandle, out: WasmHandle, rows: number, cols: number, log: boolean): void {
    this.check(x, rows * cols, 'softmax input');
    this.check(out, rows * cols, 'softmax output');
    this.k.softmax(x.ptr, out.ptr, rows, cols, +log);
  }

  strided(x: WasmHandle, out: WasmHandle, p: StridedParams): void {
    const n = size(p.shape);
    this.check(out, n, 'strided output');
    if (n === 0) return;
    this.check(x, reach('strided input', p.shape, p.strides, p.offset), 'strided input');
    const c = collapse(p.shape, [p.strides]);
    const rank = this.writeDims(c.shape, c.strides);
    this.k.strided(x.ptr, out.ptr, rank, this.dims.ptr, p.offset);
  }

  sgd(param: WasmHandle, grad: WasmHandle, velocity: WasmHandle | null, n: number, p: SgdParams): void {
    for (const [h, what] of [[param, 'param'], [grad, 'grad'], [velocity, 'velocity']] as const) if (h) this.check(h, n, `sgd ${what}`);
    this.k.sgd(param.ptr, grad.ptr, velocity ? velocity.ptr : 0, n, p.lr, p.momentum, p.weightDecay, +p.nesterov);
  }

  adam(param: WasmHandle, grad: WasmHandle, m: WasmHandle, v: WasmHandle, n: number, p: AdamParams): void {
    for (const [h, what] of [[param, 'param'], [grad, 'grad'], [m, 'm'], [v, 'v']] as const) this.check(h, n, `adam ${what}`);
    this.k.adam(param.ptr, grad.ptr, m.ptr, v.ptr, n, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, +p.decoupled,
      p.biasCorrection1, p.biasCorrection2);
  }

  flush(): void {}

  destroy(): void {
    this.destroyed = true;
    if (this.pool) {
      orphanedPools?.unregister(this);
      this.pool.close();
      this.pool = null;
    }
  }

  /** Runs `run` with a scratch block of `bytes` bytes (none when 0), freed afterwards. */
  private withScratch(bytes: number, run: (ptr: number) => void): void {
    if (bytes <= 0) return run(0);
    const block = this.mem.alloc(bytes);
    try {
      run(block.ptr);
    } finally {
      this.mem.free(block.ptr, block.size);
    }
  }

  /** Writes shape and up to two stride lists into the dims block; returns the rank. */
  private writeDims(shape: readonly number[], strides: readonly (readonly number[])[]): number {
    const i32 = new Int32Array(this.mem.memory.buffer, this.dims.ptr, 4 * MAX_RANK);
    i32.fill(0);
    i32.set(shape, 0);
    strides.forEach((s, k) => i32.set(s, MAX_RANK * (k + 1)));
    return shape.length;
  }

  private alive(): void {
    if (this.destroyed) throw new Error('wasm backend: used after destroy()');
  }

  /** Refuses freed handles and handles too small for `n` values (a kernel would run past them). */
  private check(h: WasmHandle, n: number, what: string): void {
    this.alive();
    if (!h.live) throw new Error(`wasm backend: ${what}: storage used after free()`);
    if (n > h.n) throw new Error(`wasm backend: ${what}: needs ${n} values but the storage holds ${h.n}`);
  }

  /** The most threads one op may use (setBackendOptions('wasm', { threads })); at most `threads`. */
  private threadLimit = Infinity;

  /**
   * Caps the threads any later op may use, the calling one included, at
   * min(n, threads), and returns the cap in force (without `n`: only returns
   * it). The workers stay started, so a later call can raise the cap again up
   * to `threads`. Ops still take another thread only for enough work
   * (minFlopsPerThread).
   */
  limitThreads(n?: number): number {
    if (n !== undefined) {
      if (!Number.isInteger(n) || n < 1) throw new Error(`wasm backend: limitThreads(n) needs a positive integer, got ${n}`);
      this.threadLimit = n;
    }
    return Math.min(this.threadLimit, this.threads);
  }
}

/**
 * Values a strided view at `offset` needs in its storage (highest element
 * reached + 1); throws if a negative stride reaches below element 0.
 */
function reach(what: string, shape: readonly number[], strides: readonly number[], offset = 0): number {
  let lo = offset, hi = offset;
  for (let d = 0; d < shape.length; d++) {
    const step = (shape[d] - 1) * strides[d];
    if (step < 0) lo += step;
    else hi += step;
  }
  if (lo < 0) throw new Error(`wasm backend: ${what}: strides [${strides}] from offset ${offset} reach element ${lo}`);
  return hi + 1;
}
