// The WASM runtime: the kernel module's exports, the linear memory it works
// in (allocated from JS, memory.ts) and the worker threads. Every kernel is a
// job (kernels-as/index.ts runPart): its family module (kernels/<family>.ts)
// writes a descriptor declared in src/backends/primitives/ and `job` runs its
// parts, on this thread or spread over the workers. Calls are synchronous.
import type { Runtime } from '../backend.js';
import { viewsOf, wordsWithTail, writeStruct, type Fields, type StructDecl, type Values, type Views } from '../primitives/declare.js';
import { JOB, type JobKind } from '../primitives/jobs.js';
import { LeptonError } from '../../errors.js';
import { inNextTask } from '../macrotask.js';
import { MAX_RANK } from '../primitives/limits.js';
import { LinearMemory } from './memory.js';
import type { Flavour, KernelExports } from './module.js';
import { controlWords, ThreadPool } from './threads.js';

/** Every error the WASM backend raises starts so. */
export const WHO = 'lepton wasm';

/** Storage for `n` f32 values at byte address `ptr` of the backend's memory. */
export class WasmHandle {
  /** False once freed: a freed handle is refused by every kernel. */
  live = true;
  constructor(readonly ptr: number, readonly n: number, readonly size: number) {}
}

/**
 * Default `minFlopsPerThread`: a job gets another thread only for at least
 * this much work per thread (2·M·N·K for a product; elementwise jobs count
 * each element as a few dozen flops, see the families). Measured on 2 cores:
 * a worker that is still polling after its last job (WORKER_SPIN_MS in
 * threads.ts) makes even 48³ 1.4x faster; one that has gone to sleep takes
 * ~25 µs to wake, and splitting then pays from ~1.5 MFLOP a thread.
 */
const MIN_FLOPS_PER_THREAD = 2e6;
/** Descriptor words besides the per-part tails (the largest job's fixed fields fit). */
const DESC_FIXED_WORDS = 64;

/** Stops the workers of a backend that was dropped without destroy() (they would idle until the process ends). */
const orphanedPools = typeof FinalizationRegistry === 'undefined' ? null
  : new FinalizationRegistry<ThreadPool>((pool) => pool.close());

export class WasmRuntime implements Runtime<WasmHandle> {
  readonly name = 'wasm' as const;
  readonly description: string;
  /**
   * Work below which a job is not split further: a job gets
   * min(threads, floor(work / minFlopsPerThread)) threads. 0 splits every job.
   */
  minFlopsPerThread = MIN_FLOPS_PER_THREAD;
  /** @internal The job descriptor (one, reused: calls are synchronous). */
  private readonly desc: WasmHandle;
  private readonly descViews: () => Views;
  private readonly ctrl: WasmHandle;
  /** @internal Rows of the matmul micro-tile: row splits align to it. */
  readonly tileRows: number;
  /** @internal The kernel module's exports. */
  readonly k: KernelExports;
  /** @internal The allocator over the kernels' memory. */
  readonly mem: LinearMemory;
  private pool: ThreadPool | null = null;
  private destroyed = false;
  private threadLimit = Infinity;

  constructor(
    /** 'relaxed': SIMD128 + relaxed SIMD (fused multiply-add); 'simd': SIMD128 only. */
    readonly flavour: Flavour,
    k: KernelExports,
    mem: LinearMemory,
    /** Threads the backend runs on, the calling one included (1: no workers). */
    readonly threads: number,
  ) {
    this.k = k;
    this.mem = mem;
    this.description = flavour === 'relaxed'
      ? 'WebAssembly SIMD128 + relaxed SIMD (f32x4.relaxed_madd)'
      : 'WebAssembly SIMD128';
    this.desc = this.alloc(DESC_FIXED_WORDS + MAX_RANK * threads);
    this.ctrl = this.alloc(threads > 1 ? controlWords(threads) : 0);
    this.mem.u32.fill(0, this.ctrl.ptr / 4, this.ctrl.ptr / 4 + this.ctrl.n);
    this.tileRows = k.matmulTileRows();
    let views: Views | null = null;
    this.descViews = () => (views && views.u32.buffer === this.mem.memory.buffer ? views : (views = viewsOf(this.mem.memory.buffer)));
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

  // ---- memory ----

  alloc(n: number, op = WHO): WasmHandle {
    this.alive();
    if (!Number.isInteger(n) || n < 0) throw new Error(`${WHO}: alloc(n) needs a non-negative integer, got ${n}`);
    const block = this.mem.alloc(n * 4);
    if (!block) {
      throw new LeptonError(op, `cannot allocate ${n} f32 (${n * 4} bytes) in WebAssembly memory: ${this.mem.refusal(n * 4)}. `
        + 'Free tensors you no longer need (dispose(), scope()) or use smaller ones.');
    }
    return new WasmHandle(block.ptr, n, block.size);
  }

  free(h: WasmHandle): void {
    if (!h.live) throw new Error(`${WHO}: storage freed twice`);
    h.live = false;
    // After destroy() the memory is gone with the backend (a late finalizer may still free).
    if (!this.destroyed) this.mem.free(h.ptr, h.size);
  }

  /** The WebAssembly memory's size: it only grows, and freed blocks are reused. */
  reservedBytes(): number {
    return this.mem.memory.buffer.byteLength;
  }

  /** Nothing to give back: a WebAssembly memory cannot shrink. */
  trim(): void {}

  write(h: WasmHandle, data: Float32Array): void {
    this.check(h, data.length, 'write');
    this.mem.f32.set(data, h.ptr / 4);
  }

  readSync(h: WasmHandle, n: number): Float32Array {
    this.check(h, n, 'read');
    const at = h.ptr / 4;
    return this.mem.f32.slice(at, at + n);
  }

  /**
   * The values now (every kernel has run), delivered in a later task rather
   * than a microtask: a training loop whose only await is a read then lets the
   * FinalizationRegistry free the tensors it forgot (see tensor.ts).
   */
  read(h: WasmHandle, n: number): Promise<Float32Array> {
    try {
      return inNextTask(this.readSync(h, n));
    } catch (e) {
      return Promise.reject(e);
    }
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

  // ---- for the kernel families (kernels/*.ts) ----

  /** @internal Refuses freed handles and handles too small for `n` values (a kernel would run past them). */
  check(h: WasmHandle, n: number, what: string): void {
    this.alive();
    if (!h.live) throw new Error(`${WHO}: ${what}: storage used after free()`);
    if (n > h.n) throw new Error(`${WHO}: ${what}: needs ${n} values but the storage holds ${h.n}`);
  }

  /**
   * @internal How many parts a job of `work` (flop-equivalents) with `units`
   * independent pieces is split into: one per thread it is worth waking.
   */
  partsFor(work: number, units: number): number {
    if (!this.pool) return 1;
    const cap = this.limitThreads();
    const byWork = this.minFlopsPerThread > 0 ? Math.floor(work / this.minFlopsPerThread) : cap;
    return Math.max(1, Math.min(cap, byWork, units));
  }

  /**
   * Caps the threads any later job may use, the calling one included, at
   * min(n, threads), and returns the cap in force (without `n`: only returns
   * it). The workers stay started, so a later call can raise the cap again up
   * to `threads`. Jobs still take another thread only for enough work
   * (minFlopsPerThread).
   */
  limitThreads(n?: number): number {
    if (n !== undefined) {
      if (!Number.isInteger(n) || n < 1) throw new Error(`${WHO}: limitThreads(n) needs a positive integer, got ${n}`);
      this.threadLimit = n;
    }
    return Math.min(this.threadLimit, this.threads);
  }

  /**
   * @internal Writes the descriptor `decl` (with a tail of `tail` words) and
   * runs `parts` parts of job `kind` on up to as many threads; returns when all are done.
   */
  job<F extends Fields>(kind: JobKind, decl: StructDecl<F>, values: Values<F>, parts: number, tail = 0): void {
    if (wordsWithTail(decl, tail) > this.desc.n) throw new Error(`${WHO}: ${decl.name} with ${tail} tail words exceeds the descriptor block`);
    writeStruct(decl, values, this.descViews(), this.desc.ptr / 4);
    const code = JOB.codes[kind];
    // The pool runs the parts on this thread alone when one slot is all there is.
    if (this.pool && parts > 1) this.pool.run(code, this.desc.ptr, parts, Math.min(this.threads, parts));
    else for (let i = 0; i < parts; i++) this.k.runPart(code, this.desc.ptr, i, 0);
  }

  /** @internal Runs `run` with a scratch block of `bytes` bytes (none when 0), freed afterwards. */
  withScratch(bytes: number, run: (ptr: number) => void): void {
    if (bytes <= 0) return run(0);
    const block = this.mem.alloc(bytes);
    if (!block) throw new Error(`${WHO}: cannot allocate ${bytes} bytes of kernel scratch: ${this.mem.refusal(bytes)}`);
    try {
      run(block.ptr);
    } finally {
      this.mem.free(block.ptr, block.size);
    }
  }

  private alive(): void {
    if (this.destroyed) throw new Error(`${WHO}: used after destroy()`);
  }
}
