// What device-loss recovery replays (webgpu/recovery.ts): a checkpoint (the
// host values of every storage live at one point of the call order) and the
// journal of every Backend call since then (alloc, free, write with a copy of
// its data, each kernel with its arguments, reads). Restoring the checkpoint
// and replaying the calls in order, on a new device or on another backend,
// rebuilds every storage (kernels are deterministic) and re-issues the reads
// that were pending when the device died, each at its place in the order.
import type { Backend, Runtime } from './backend.js';

/** The Backend methods that run kernels: every method but the runtime's and prepare. */
export type KernelName = Exclude<{
  [K in keyof Backend]-?: Backend[K] extends (...args: never[]) => void ? K : never
}[keyof Backend], keyof Runtime | 'prepare'>;

/**
 * The storages each kernel writes (its outputs, and the state an optimizer
 * updates in place): they are what a checkpoint must read again. A new kernel
 * family adds its entry here (the type requires one per kernel).
 */
const WRITES: { [K in KernelName]: (args: Parameters<Backend[K]>) => unknown[] } = {
  fill: ([out]) => [out],
  unary: ([, , out]) => [out],
  binary: ([, , , out]) => [out],
  matmul: ([, , , out, p]) => [out, p.sumB],
  reduce: ([, , out]) => [out],
  softmax: ([, out]) => [out],
  strided: ([, out]) => [out],
  gather: ([, , out]) => [out],
  scatterAdd: ([, , out]) => [out],
  cumsum: ([, out]) => [out],
  topk: ([, values, indices]) => [values, indices],
  sgd: ([param, , velocity]) => [param, velocity],
  adam: ([param, , m, v]) => [param, m, v],
  conv2d: ([, , , out]) => [out],
  conv2dBackwardData: ([, , dx]) => [dx],
  conv2dBackwardFilter: ([, , dw, p]) => [dw, p.sumB, p.dzOut],
  maxPool2d: ([, out, argmax]) => [out, argmax],
  maxPool2dBackward: ([, , dx]) => [dx],
  avgPool2d: ([, out]) => [out],
  avgPool2dBackward: ([, dx]) => [dx],
  attention: ([, , , out, lse]) => [out, lse],
  attentionBackward: ([, , , , , , dq, dk, dv, , dbias]) => [dq, dk, dv, dbias],
  normForward: ([, , , out, stats]) => [out, stats],
  normBackward: ([, , , , dx, dw, db]) => [dx, dw, db],
  embeddingGather: ([, , out]) => [out],
  embeddingGrad: ([, , , out]) => [out],
  xentForward: ([, , loss, lse]) => [loss, lse],
  xentBackward: ([, , , , dx]) => [dx],
};
export const KERNELS = Object.keys(WRITES) as KernelName[];

/** A read recorded in the journal; recovery sets `redo` when it re-issues it. */
export interface JournalRead<H> {
  op: 'read';
  h: H;
  n: number;
  done: boolean;
  redo: Promise<Float32Array> | null;
}

type Entry<H> =
  | { op: 'alloc' | 'free'; h: H }
  | { op: 'write'; h: H; data: Float32Array }
  | { op: 'call'; name: KernelName; args: unknown[] }
  | JournalRead<H>;

/** Where a replay goes: the same backend on a new device, or another backend. */
export interface ReplaySink<H> {
  /** Storage `h` as it was at the checkpoint: `values`, or unspecified contents (never written) when null. */
  restore(h: H, values: Float32Array | null): void;
  alloc(h: H): void;
  free(h: H): void;
  write(h: H, data: Float32Array): void;
  call(name: KernelName, args: unknown[]): void;
  read(h: H, n: number): Promise<Float32Array>;
}

/** A checkpoint being taken: the storages whose values the caller reads back. */
export interface Checkpoint<H> {
  readonly read: readonly H[];
  /** Values known on the host (uploads), taken without a readback. */
  readonly known: ReadonlyMap<H, Float32Array>;
  readonly pos: number;
  readonly bytes: number;
  readonly calls: number;
  readonly live: readonly H[];
  readonly dirty: Set<H>;
}

type Sized = { readonly n: number };

export class Journal<H extends Sized> {
  private entries: Entry<H>[] = [];
  /** The last checkpoint: every storage live then, with its values (null: never written). */
  private base = new Map<H, Float32Array | null>();
  /** Storages written since the last checkpoint was begun: the next one reads only these. */
  private dirty = new Set<H>();
  /** Storages whose contents are all from one write() since no kernel changed them: known on the host, never read back. */
  private uploaded = new Map<H, Float32Array>();
  private pending: Checkpoint<H> | null = null;
  /** Storages allocated and not freed. */
  readonly live = new Set<H>();
  liveBytes = 0;
  /** Journaled since the checkpoint: bytes written plus bytes of kernel outputs, and kernel calls. */
  bytes = 0;
  calls = 0;
  /** Checkpoints completed, and the bytes checkpoints read back from the device (for tests and stats). */
  checkpoints = 0;
  readBack = 0;

  get checkpointPending(): boolean {
    return this.pending !== null;
  }
  /** Host bytes the checkpoint holds. */
  get baseBytes(): number {
    let b = 0;
    for (const v of this.base.values()) b += v ? v.byteLength : 0;
    return b;
  }

  alloc(h: H): void {
    this.entries.push({ op: 'alloc', h });
    this.live.add(h);
    this.liveBytes += h.n * 4;
  }

  free(h: H): void {
    this.entries.push({ op: 'free', h });
    if (this.live.delete(h)) this.liveBytes -= h.n * 4;
    this.dirty.delete(h);
    this.uploaded.delete(h);
  }

  /** Keeps a copy of `data`: the caller may reuse its array. */
  write(h: H, data: Float32Array): void {
    const copy = data.slice();
    this.entries.push({ op: 'write', h, data: copy });
    this.dirty.add(h);
    if (data.length === h.n) this.uploaded.set(h, copy);
    else this.uploaded.delete(h);
    this.bytes += data.length * 4;
  }

  call(name: KernelName, args: unknown[]): void {
    this.entries.push({ op: 'call', name, args });
    for (const w of (WRITES[name] as (a: unknown[]) => unknown[])(args)) {
      if (!w) continue;
      this.dirty.add(w as H);
      this.uploaded.delete(w as H);
      this.bytes += (w as H).n * 4;
    }
    this.calls++;
  }

  read(h: H, n: number): JournalRead<H> {
    const e: JournalRead<H> = { op: 'read', h, n, done: false, redo: null };
    this.entries.push(e);
    return e;
  }

  /**
   * Begins a checkpoint here: the caller reads back `read` (the live storages
   * a kernel wrote since the last one; those only uploaded are known
   * already) and passes the values to commit().
   */
  begin(): Checkpoint<H> {
    const read: H[] = [];
    const known = new Map<H, Float32Array>();
    for (const h of this.dirty) {
      if (!this.live.has(h)) continue;
      const v = this.uploaded.get(h);
      if (v) known.set(h, v);
      else read.push(h);
    }
    for (const h of read) this.readBack += h.n * 4;
    const cp = { read, known, pos: this.entries.length, bytes: this.bytes, calls: this.calls, live: [...this.live], dirty: this.dirty };
    this.dirty = new Set();
    this.pending = cp;
    return cp;
  }

  /** Makes `cp` the checkpoint (values in the order of cp.read) and drops the journal before it. */
  commit(cp: Checkpoint<H>, values: Float32Array[]): boolean {
    if (cp !== this.pending) return false; // discarded meanwhile (the device was lost)
    this.pending = null;
    // A read before the checkpoint still waiting could not be re-issued from it.
    for (let i = 0; i < cp.pos; i++) {
      const e = this.entries[i];
      if (e.op === 'read' && !e.done) {
        for (const h of cp.dirty) this.dirty.add(h);
        return false;
      }
    }
    const got = new Map<H, Float32Array>();
    cp.read.forEach((h, i) => got.set(h, values[i]));
    const base = new Map<H, Float32Array | null>();
    for (const h of cp.live) base.set(h, got.get(h) ?? cp.known.get(h) ?? this.base.get(h) ?? null);
    this.base = base;
    this.entries = this.entries.slice(cp.pos);
    this.bytes -= cp.bytes;
    this.calls -= cp.calls;
    this.checkpoints++;
    return true;
  }

  /** Abandons the checkpoint being taken (`cp`, when given, only if it is that one): its storages count as written again. */
  discard(cp?: Checkpoint<H>): void {
    if (!this.pending || (cp && cp !== this.pending)) return;
    for (const h of this.pending.dirty) this.dirty.add(h);
    this.pending = null;
  }

  /** Forgets everything (the storages moved to another backend, or are gone). */
  clear(): void {
    this.entries = [];
    this.base.clear();
    this.dirty.clear();
    this.uploaded.clear();
    this.live.clear();
    this.pending = null;
    this.liveBytes = this.bytes = this.calls = 0;
  }

  /** Restores the checkpoint into `sink`, then replays every call since, in order. Returns the calls replayed. */
  replay(sink: ReplaySink<H>): number {
    for (const [h, v] of this.base) sink.restore(h, v);
    let calls = 0;
    for (const e of this.entries) {
      switch (e.op) {
        case 'alloc': sink.alloc(e.h); break;
        case 'free': sink.free(e.h); break;
        case 'write': sink.write(e.h, e.data); break;
        case 'call': sink.call(e.name, e.args); calls++; break;
        case 'read':
          if (!e.done) {
            e.redo = sink.read(e.h, e.n);
            e.redo.catch(() => {}); // the read waiting on it reports the failure
          }
          break;
      }
    }
    return calls;
  }
}

/** Replays onto another backend (WASM): each storage gets a new handle there. */
export class MovingSink<H extends Sized> implements ReplaySink<H> {
  private readonly map = new Map<H, unknown>();
  constructor(readonly to: Backend) {}

  /** The new handle of `h`. */
  get(h: H): unknown {
    if (!this.map.has(h)) throw new Error(`lepton: recovery replayed a storage it never allocated`);
    return this.map.get(h);
  }
  restore(h: H, values: Float32Array | null): void {
    this.alloc(h);
    if (values) this.to.write(this.get(h), values);
  }
  alloc(h: H): void { this.map.set(h, this.to.alloc(h.n)); }
  free(h: H): void { this.to.free(this.get(h)); }
  write(h: H, data: Float32Array): void { this.to.write(this.get(h), data); }
  read(h: H, n: number): Promise<Float32Array> { return this.to.read(this.get(h), n); }
  call(name: KernelName, args: unknown[]): void {
    (this.to[name] as (...a: unknown[]) => void)(...args.map((a) => this.translate(a)));
  }

  /** Handles inside an argument (a parameter object's `sumB`, a prologue's `t`) are replaced too. */
  private translate(v: unknown, depth = 0): unknown {
    if (v === null || typeof v !== 'object' || depth > 3) return v;
    if (this.map.has(v as H)) return this.map.get(v as H);
    if (Array.isArray(v)) return v.map((x) => this.translate(x, depth + 1));
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = this.translate(x, depth + 1);
    return out;
  }
}
