// Worker threads sharing the backend's WebAssembly.Memory. A job is a kernel
// entry (`runPart(kind, desc, part, slot)`) over `parts` independent parts,
// described in shared memory; threads claim parts one at a time, so a worker
// that wakes late takes fewer (or none) and never holds the caller up. The
// handoff goes through a control block in the same memory:
//   caller: write kind/desc, then parts and claim (tagged with the job
//           number, see worker.ts), done = 0; bump each woken worker's wake
//           word + Atomics.notify; claim and run parts itself; wait until
//           done = parts
//   worker: Atomics.wait on its wake word (after polling it a while); claim
//           and run parts; done += 1 per part (the last wakes the caller)
// A job's descriptor is rewritten only after all its parts are done, and
// only a thread holding a claimed part reads it.

import type { KernelExports } from './module.js';
import { browserWorkerSource, nodeWorkerSource, type WorkerInit } from './worker.js';
import { importNode, isNode } from '../node-import.js';

// Control block layout (i32 words). Wake words sit 64 bytes apart so that
// one worker's wake does not share a cache line with another's.
const AT = { kind: 0, desc: 1, parts: 2, claim: 3, done: 4, quit: 5, error: 6 } as const;
/** `parts` and `claim` hold the job's tag above a 10-bit count (worker.ts). */
const COUNT_BITS = 10;
export const MAX_PARTS = (1 << COUNT_BITS) - 1;
const WAKE0 = 16, WAKE_STRIDE = 16;

/** Words of the control block for `threads` threads. */
export function controlWords(threads: number): number {
  return WAKE0 + WAKE_STRIDE * threads;
}

/**
 * How long a worker polls for the next job before sleeping. A sleeping
 * worker takes ~25 µs to wake (futex + scheduler; more in a VM); polling
 * keeps back-to-back products (a training step's layers) at full speed.
 */
const WORKER_SPIN_MS = 0.5;
/** The caller polls `done` this many times before sleeping on it (Node; a browser main thread only polls). */
const CALLER_SPIN = 20000;
/** A worker that has not started by then is treated as unavailable. */
const START_TIMEOUT_MS = 20000;

interface WorkerHandle {
  post(init: WorkerInit): void;
  terminate(): void;
  /** Lets the process exit while the worker idles (Node; once it has started). */
  unref(): void;
}


/** Creates a worker running the source of worker.ts; messages and errors go to the callbacks. */
async function spawn(onMessage: (m: unknown) => void, onError: (e: Error) => void): Promise<WorkerHandle> {
  if (isNode) {
    const { Worker } = await importNode<typeof import('node:worker_threads')>('node:worker_threads');
    const w = new Worker(nodeWorkerSource(), { eval: true });
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', (code) => onError(new Error(`worker exited (code ${code})`)));
    return { post: (init) => w.postMessage(init), terminate: () => void w.terminate(), unref: () => w.unref() };
  }
  const url = URL.createObjectURL(new Blob([browserWorkerSource()], { type: 'text/javascript' }));
  try {
    const w = new Worker(url);
    w.onmessage = (e) => onMessage(e.data);
    w.onerror = (e) => onError(new Error(`worker failed: ${e.message}`));
    return { post: (init) => w.postMessage(init), terminate: () => w.terminate(), unref: () => {} };
  } finally {
    URL.revokeObjectURL(url); // the worker already holds the script
  }
}

/** Starts one worker; resolves once it has instantiated the kernels on the shared memory. */
async function startWorker(init: WorkerInit): Promise<WorkerHandle> {
  let ready!: () => void, fail!: (e: Error) => void;
  const started = new Promise<void>((resolve, reject) => { ready = resolve; fail = reject; });
  let isReady = false;
  const h = await spawn((m) => {
    const msg = m as { ready?: boolean; error?: string };
    if (msg?.ready) { isReady = true; ready(); }
    else if (msg?.error && !isReady) fail(new Error(msg.error));
    else if (msg?.error) console.error(`lepton wasm worker ${init.slot}: ${msg.error}`);
  }, (e) => fail(e));
  h.post(init);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('worker did not start in time')), START_TIMEOUT_MS);
    (timer as { unref?: () => void }).unref?.();
  });
  try {
    await Promise.race([started, timeout]);
  } catch (e) {
    h.terminate();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  h.unref();
  return h;
}

export class ThreadPool {
  private readonly ctrl: Int32Array;
  private seq = 0;
  /** Atomics.wait is not allowed on a browser's main thread: spin there instead. */
  private readonly canWait: boolean;
  private closed = false;

  private constructor(
    private readonly kernels: KernelExports,
    memory: WebAssembly.Memory,
    ctrlPtr: number,
    /** Threads including the calling one. */
    readonly threads: number,
    private readonly workers: WorkerHandle[],
  ) {
    this.ctrl = new Int32Array(memory.buffer, ctrlPtr, controlWords(threads));
    let canWait = true;
    try {
      Atomics.wait(this.ctrl, AT.quit, 1, 0); // quit is 0: returns 'not-equal' at once where waiting is allowed
    } catch {
      canWait = false;
    }
    this.canWait = canWait;
  }

  /**
   * Starts `threads - 1` workers on `module` + `memory` (shared), with the
   * control block at `ctrlPtr` (controlWords(threads) words, zeroed).
   */
  static async start(kernels: KernelExports, module: WebAssembly.Module, memory: WebAssembly.Memory,
    ctrlPtr: number, threads: number): Promise<ThreadPool> {
    const base = { module, memory, ctrl: ctrlPtr, ctrlWords: controlWords(threads), at: AT, spinMs: WORKER_SPIN_MS };
    const started = await Promise.allSettled(Array.from({ length: threads - 1 }, (_, i) =>
      startWorker({ ...base, wakeAt: WAKE0 + WAKE_STRIDE * (i + 1), slot: i + 1 })));
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      for (const w of workers) w.terminate();
      throw (failed as PromiseRejectedResult).reason;
    }
    return new ThreadPool(kernels, memory, ctrlPtr, threads, workers);
  }

  /**
   * Runs parts 0 .. parts-1 of a job on up to `threads` threads (this one
   * included, with scratch slot 0; worker w uses slot w); returns when all are done.
   */
  run(kind: number, desc: number, parts: number, threads: number): void {
    const c = this.ctrl;
    const woken = this.closed ? 0 : Math.min(threads, parts, this.threads) - 1;
    if (woken <= 0 || parts > MAX_PARTS) {
      for (let p = 0; p < parts; p++) this.kernels.runPart(kind, desc, p, 0);
      return;
    }
    this.seq = (this.seq + 1) | 0;
    const tag = (this.seq << COUNT_BITS) | 0;
    c[AT.kind] = kind;
    c[AT.desc] = desc | 0;
    Atomics.store(c, AT.error, 0);
    Atomics.store(c, AT.done, 0);
    Atomics.store(c, AT.parts, tag | parts);
    Atomics.store(c, AT.claim, tag); // publishes the job: claims start here
    for (let w = 1; w <= woken; w++) {
      Atomics.store(c, WAKE0 + WAKE_STRIDE * w, this.seq);
      Atomics.notify(c, WAKE0 + WAKE_STRIDE * w, 1);
    }
    let failure: unknown = null;
    for (;;) {
      // The same compare-exchange claim as the workers': `claim` never counts past `parts`.
      const claim = Atomics.load(c, AT.claim);
      const part = claim & MAX_PARTS;
      if (part >= parts) break;
      if (Atomics.compareExchange(c, AT.claim, claim, claim + 1) !== claim) continue;
      try {
        this.kernels.runPart(kind, desc, part, 0);
      } catch (e) {
        failure ??= e;
      }
      Atomics.add(c, AT.done, 1);
    }
    // Workers write into memory the caller owns (scratch, outputs): wait even after a failure.
    this.waitFor(AT.done, parts);
    if (failure) throw failure;
    const bad = Atomics.load(c, AT.error);
    if (bad !== 0) throw new Error(`lepton wasm: worker thread ${bad} failed running part of a job (its error is logged)`);
  }

  /** Blocks until control word `at` holds `value`: polls, then sleeps where this thread may (Atomics.wait). */
  private waitFor(at: number, value: number): void {
    const c = this.ctrl;
    let now = Atomics.load(c, at);
    for (let i = 0; now !== value && i < CALLER_SPIN; i++) now = Atomics.load(c, at);
    while (now !== value) {
      if (this.canWait) Atomics.wait(c, at, now);
      now = Atomics.load(c, at);
    }
  }

  /** Stops the workers (they are terminated; jobs then run on the calling thread alone). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, AT.quit, 1);
    for (let w = 1; w < this.threads; w++) {
      Atomics.add(this.ctrl, WAKE0 + WAKE_STRIDE * w, 1);
      Atomics.notify(this.ctrl, WAKE0 + WAKE_STRIDE * w);
    }
    for (const w of this.workers) w.terminate();
  }
}
