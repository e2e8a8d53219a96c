// Allocation failures on WebGPU. createBuffer never throws for lack of
// memory: it returns a buffer at once and the device reports the failure
// later, through an 'out-of-memory' error scope (measured on SwiftShader:
// a buffer of exactly maxBufferSize = 1 GiB fails in vkAllocateMemory, known
// ~1 ms after createBuffer returned; `mappedAtCreation` does not throw either
// and takes 8 s). Meanwhile the op that asked has returned and more work may
// have been recorded with the invalid buffer, which WebGPU drops together with
// the rest of its command buffer. So each fresh buffer is checked (and starts
// a new command buffer: the runtime submits what was recorded before it).
// Until every check has settled, the commands recorded are stamped on a clock
// and their validation errors are captured (no driver dump on stdout). A
// failed check refuses its buffer and, if a command bound it, every buffer
// written between its creation and the failure, with a LeptonError naming the
// op that asked for the memory: reads await the checks, so none returns what
// a dropped command never computed.
import { LeptonError } from '../../errors.js';

interface Window {
  /** Clock when the failed buffer was made, and when its failure was known: writes in between are lost. */
  from: number;
  to: number;
  error: LeptonError;
}

const size = (bytes: number) => bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(2)} MiB`;

export class AllocCheck {
  /** Commands recorded while a check was pending (the stamps windows are measured in). */
  private clock = 0;
  /** Fresh buffers whose allocation is not yet confirmed -> clock when made. */
  private readonly pending = new Map<GPUBuffer, number>();
  /** Those of them a recorded command has bound. */
  private readonly bound = new Set<GPUBuffer>();
  private readonly failed = new Map<GPUBuffer, LeptonError>();
  private readonly windows: Window[] = [];
  /** The clock of the last write to a buffer recorded while checks were pending. */
  private readonly written = new WeakMap<GPUBuffer, number>();
  private all: Promise<void> = Promise.resolve();

  constructor(
    private readonly device: GPUDevice,
    /** The device's limits in words, for the error. */
    private readonly limits: string,
    /** Called with a buffer found invalid (the pools destroy it instead of keeping it). */
    private readonly onFailed: (buf: GPUBuffer) => void,
    /** Called with a captured validation error that no failed allocation explains. */
    private readonly onError: (e: Error) => void,
  ) {}

  /** createBuffer, checked: a failure is reported as a LeptonError naming `op`. */
  create(desc: GPUBufferDescriptor, op: string): GPUBuffer {
    this.device.pushErrorScope('out-of-memory');
    const buf = this.device.createBuffer(desc);
    const result = this.device.popErrorScope();
    this.pending.set(buf, this.clock);
    const settled = result.then((e) => this.settle(buf, op, desc.size, e), () => this.settle(buf, op, desc.size, null));
    // Settling only records the outcome: the chain never rejects, so a failure is reported by refusal(), not by every later wait.
    this.all = Promise.all([this.all, settled.catch(() => {})]).then(() => {});
    return buf;
  }

  private settle(buf: GPUBuffer, op: string, bytes: number, e: GPUError | null): void {
    const from = this.pending.get(buf)!;
    const bound = this.bound.delete(buf);
    this.pending.delete(buf);
    if (!e) return;
    const error = new LeptonError(op, `cannot allocate ${bytes} bytes (${size(bytes)}) of GPU memory: the device refused `
      + `(${e.message.split('\n')[0].trim()}); ${this.limits}. Free tensors you no longer need (dispose(), scope(), emptyCache()) or use smaller ones.`);
    this.failed.set(buf, error);
    // Only a command that bound it was dropped, with its command buffer: what they wrote, and what read that, is void.
    if (bound) this.windows.push({ from, to: this.clock, error });
    this.onFailed(buf);
  }

  /** Whether an allocation is unconfirmed: the commands recorded now are stamped and their errors captured. */
  get watching(): boolean {
    return this.pending.size > 0;
  }

  /** A command recorded while watching binds `bufs` and writes those at the indices `writes`. */
  record(bufs: readonly GPUBuffer[], writes: readonly number[]): void {
    if (this.pending.size === 0) return;
    for (const b of bufs) if (this.pending.has(b)) this.bound.add(b);
    for (const i of writes) if (bufs[i]) this.written.set(bufs[i], ++this.clock);
  }

  /** `buf` is handed out for new storage: what it held before is no one's. */
  reuse(buf: GPUBuffer): void {
    this.written.delete(buf);
  }

  /** Why storage in `buf` must not be used: its allocation failed, or it was written by work a failure voided. */
  refusal(buf: GPUBuffer): LeptonError | null {
    if (this.windows.length === 0) return null;
    const own = this.failed.get(buf);
    if (own) return own;
    const at = this.written.get(buf);
    if (at === undefined) return null;
    for (const w of this.windows) {
      if (at > w.from && at <= w.to) {
        return new LeptonError(w.error.op, `this storage was computed by GPU work recorded after an allocation failed, `
          + `which WebGPU discarded, so it holds no valid values: ${w.error.message}`);
      }
    }
    return null;
  }

  /** Throws the refusal of the first of `bufs` that has one. */
  assertUsable(bufs: readonly GPUBuffer[]): void {
    if (this.windows.length === 0) return;
    for (const b of bufs) {
      const e = this.refusal(b);
      if (e) throw e;
    }
  }

  /** Resolves when every check made so far has settled. */
  settled(): Promise<void> {
    return this.all;
  }

  /**
   * Runs `fn` (a call that may meet an invalid buffer) in a validation error
   * scope: an error that a failed allocation explains is expected and
   * dropped; any other goes to onError.
   */
  capture<T>(fn: () => T): T {
    this.device.pushErrorScope('validation');
    try {
      return fn();
    } finally {
      const at = this.clock;
      this.device.popErrorScope().then(async (e) => {
        if (!e) return;
        await this.all;
        if (!this.windows.some((w) => w.from <= at)) this.onError(new Error(`lepton webgpu: GPU error: ${e.message}`));
      }, () => {});
    }
  }
}
