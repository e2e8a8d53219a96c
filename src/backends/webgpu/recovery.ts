// Device-loss recovery for the WebGPU backend. Every Backend call is recorded
// in a journal (../journal.ts) next to a checkpoint of the host values of the
// live storages, refreshed after a read once the journal has grown past a
// budget. When the device is lost the backend asks for a new device (on the
// same adapter where the platform gives one), swaps each handle's buffer for
// one of the new device, restores the checkpoint and replays the journal;
// without a new device it replays onto the WASM backend and re-points every
// Storage there. Reads pending at the loss resolve with the replayed values.
// Calls made while recovery runs are journaled and replayed with the rest.
import { LeptonError } from '../../errors.js';
import type { Backend, DeviceName } from '../backend.js';
import { Journal, KERNELS, MovingSink, type KernelName, type ReplaySink } from '../journal.js';
import { overBudget, type RecoveryOptions } from '../recovery.js';
import { moveCounts } from '../../memory-stats.js';
import { GpuHandle, WHO } from './runtime.js';
import type { WebGPUBackend } from './backend.js';

/** Provided by the registry: where to go without a GPU, and who to tell. */
export interface RecoveryHooks {
  /** A new device (on the same adapter where possible), or null. */
  reconnect(): Promise<{ device: GPUDevice; info: GPUAdapterInfo | undefined; fallback: boolean } | null>;
  /** The backend to move to when no device can be had (the registry's WASM backend). */
  fallback(): Promise<Backend>;
  /** Every storage of `from` now lives on `to`. */
  moved?(from: Backend, to: Backend): void;
}

/** Journaled past twice the budget without a read: checkpoint without waiting for one. */
const NO_READ_FACTOR = 2;
/** How long a failed read waits for the device's `lost` to tell a loss from another failure. */
const LOSS_GRACE_MS = 200;

type State = 'live' | 'recovering' | 'moved' | 'dead';
type Fn = (...args: never[]) => unknown;

export class Recovery {
  state: State = 'live';
  readonly journal = new Journal<GpuHandle>();
  /** Settles when the recovery under way is done (rejects if it failed for good). */
  private recovered: Promise<void> = Promise.resolve();
  /** testing.loseDevice(…, { permanent: true }): the next recovery gets no new device. */
  refuseReconnect = false;
  private readonly raw: Record<string, Fn> = {};

  constructor(private readonly be: WebGPUBackend, private readonly opts: RecoveryOptions, private readonly hooks: RecoveryHooks) {
    this.install();
    be.onDeviceLost = (info) => this.lost(info);
  }

  private over(factor: number): boolean {
    return overBudget(this.journal, this.opts, factor);
  }

  // ---- the journaling layer over the backend's own methods ----

  private install(): void {
    const be = this.be as unknown as Record<string, Fn>;
    for (const k of ['alloc', 'free', 'write', 'read', 'flush', 'prepare', ...KERNELS]) this.raw[k] = be[k];
    const j = this.journal;
    const call = (k: string, args: unknown[]) => (this.raw[k] as (...a: unknown[]) => unknown).apply(this.be, args);
    const live = () => this.state === 'live';
    const waiting = () => this.state === 'recovering';
    be.alloc = ((n: number, op?: string) => {
      let h: GpuHandle;
      if (waiting()) {
        if (!Number.isInteger(n) || n < 0) throw new Error(`${WHO}: alloc(n) needs a non-negative integer, got ${n}`);
        h = new GpuHandle(this.be.dummy, n); // a buffer of the new device comes with the replay
      } else h = call('alloc', [n, op]) as GpuHandle;
      j.alloc(h);
      return h;
    }) as Fn;
    be.free = ((h: GpuHandle) => {
      if (!waiting()) call('free', [h]);
      else if (h.freed) throw new Error(`${WHO}: storage freed twice`);
      h.freed = true;
      if (live() || waiting()) j.free(h);
    }) as Fn;
    be.write = ((h: GpuHandle, data: Float32Array) => {
      if (!waiting()) call('write', [h, data]);
      else this.be.check(h, data.length, 'write');
      j.write(h, data);
    }) as Fn;
    be.read = ((h: GpuHandle, n: number) => this.read(h, n)) as Fn;
    be.flush = (() => { if (!waiting()) call('flush', []); }) as Fn;
    be.prepare = ((work: unknown) => (live() ? call('prepare', [work]) : Promise.resolve())) as Fn;
    const destroy = be.destroy;
    be.destroy = (() => {
      this.state = 'dead';
      j.clear();
      destroy.call(this.be);
    }) as Fn;
    for (const name of KERNELS) {
      be[name] = ((...args: unknown[]) => {
        if (!waiting()) call(name, args); // dead or moved: throws the backend's error
        j.call(name, args);
        if (this.over(NO_READ_FACTOR)) this.checkpoint();
      }) as Fn;
    }
  }

  /** A read that survives a device loss: recovery re-issues it at its place in the journal. */
  private async read(h: GpuHandle, n: number): Promise<Float32Array> {
    const raw = this.raw.read as (h: GpuHandle, n: number) => Promise<Float32Array>;
    if (this.gone()) return raw.call(this.be, h, n); // throws the backend's error
    const e = this.journal.read(h, n);
    // The device the current attempt runs on: its loss means "wait for the replay", any other failure is final.
    let device: GPUDevice | null = null;
    let attempt: Promise<Float32Array> | null = null;
    if (this.state === 'live') {
      device = this.be.device;
      attempt = raw.call(this.be, h, n);
    }
    for (;;) {
      if (attempt) {
        try {
          const v = await attempt;
          e.done = true;
          if (this.state === 'live' && this.over(1)) this.checkpoint();
          return v;
        } catch (err) {
          if (!device || !(await this.wasLost(device))) {
            e.done = true;
            throw err;
          }
        }
      }
      await this.recovered; // throws if recovery failed for good
      if (!e.redo && this.gone()) return raw.call(this.be, h, n); // destroyed meanwhile: throws that
      if (!e.redo) throw new LeptonError(WHO, 'internal: recovery did not re-issue a pending read');
      device = this.state === 'live' ? this.be.device : null;
      attempt = e.redo;
    }
  }

  /** Moved to another backend, or dead for good (a method, so that TypeScript does not narrow `state` across awaits). */
  private gone(): boolean {
    return this.state === 'moved' || this.state === 'dead';
  }

  private async wasLost(device: GPUDevice): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), LOSS_GRACE_MS); });
    const lost = await Promise.race([device.lost.then(() => true), late]);
    clearTimeout(timer);
    return lost;
  }

  // ---- checkpoints ----

  /** Copies the live storages written since the last checkpoint to the host (in the background). */
  private checkpoint(): void {
    const j = this.journal;
    if (this.state !== 'live' || j.checkpointPending) return;
    const cp = j.begin();
    const be = this.be;
    const device = be.device;
    // Staging buffers no larger than the device allows; each storage at a 4-byte offset.
    const max = device.limits.maxBufferSize;
    const chunks: { buf: GPUBuffer | null; bytes: number }[] = [];
    let cur = { buf: null as GPUBuffer | null, bytes: 0 };
    const place: { chunk: number; offset: number }[] = [];
    for (const h of cp.read) {
      const bytes = h.n * 4;
      if (cur.bytes + bytes > max && cur.bytes > 0) { chunks.push(cur); cur = { buf: null, bytes: 0 }; }
      place.push({ chunk: chunks.length, offset: cur.bytes });
      cur.bytes += bytes;
    }
    chunks.push(cur);
    for (const c of chunks) {
      if (c.bytes > 0) c.buf = device.createBuffer({ size: c.bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'lepton checkpoint' });
    }
    cp.read.forEach((h, i) => {
      const { chunk, offset } = place[i];
      if (h.n > 0) be.copy(h.buffer, 0, chunks[chunk].buf!, h.n * 4, offset);
    });
    (this.raw.flush as () => void).call(be);
    const bufs = chunks.map((c) => c.buf).filter((b): b is GPUBuffer => b !== null);
    Promise.all(bufs.map((b) => b.mapAsync(GPUMapMode.READ))).then(() => {
      const ranges = chunks.map((c) => (c.buf ? c.buf.getMappedRange() : null));
      const values = cp.read.map((h, i) => {
        const { chunk, offset } = place[i];
        return h.n > 0 ? new Float32Array(ranges[chunk]!, offset, h.n).slice() : new Float32Array(0);
      });
      for (const b of bufs) b.destroy();
      j.commit(cp, values);
    }, () => {
      for (const b of bufs) b.destroy();
      j.discard(cp);
    });
  }

  // ---- the loss ----

  private lost(info: GPUDeviceLostInfo): void {
    if (this.state !== 'live') return;
    this.state = 'recovering';
    this.journal.discard();
    this.recovered = this.recover(info);
    this.recovered.catch(() => {}); // reads waiting on it report the failure
  }

  private async recover(info: GPUDeviceLostInfo): Promise<void> {
    const t0 = performance.now();
    const be = this.be;
    const j = this.journal;
    const restoredBytes = j.baseBytes;
    let replayedCalls = -1;
    let device: DeviceName = 'webgpu';
    const refuse = this.refuseReconnect;
    this.refuseReconnect = false;
    let got: Awaited<ReturnType<RecoveryHooks['reconnect']>> = null;
    if (!refuse) {
      try { got = await this.hooks.reconnect(); } catch { got = null; }
    }
    if (this.gone()) { // destroy() while waiting
      got?.device.destroy();
      return;
    }
    if (got) {
      try {
        be.attachDevice(got.device, got.info, got.fallback);
        this.state = 'live'; // the replay runs the backend's own methods (and their internal flushes)
        replayedCalls = j.replay(this.inPlace());
      } catch (e) {
        this.state = 'recovering';
        console.warn(`${WHO}: replaying onto a new GPU device failed (${(e as Error).message}); moving to WASM`);
        be.kill(new LeptonError(WHO, 'the GPU device was lost'));
        be.device.destroy();
      }
    }
    if (this.state === 'recovering') {
      try {
        const to = await this.hooks.fallback();
        if (this.gone()) return;
        const sink = new MovingSink<GpuHandle>(to);
        replayedCalls = j.replay(sink);
        for (const h of j.live) {
          if (h.owner) { h.owner.backend = to; h.owner.handle = sink.get(h); }
        }
        moveCounts(be, to);
        device = to.name;
        this.state = 'moved';
        j.clear();
        be.kill(new LeptonError(WHO, `the GPU device was lost (${info.reason}) and no new one could be had: `
          + `its tensors moved to the ${to.name} backend (use t.device / getBackend to reach them there).`));
        this.hooks.moved?.(be, to);
      } catch (e) {
        this.state = 'dead';
        j.clear();
        const err = new LeptonError(WHO, `the GPU device was lost (${info.reason}: ${info.message || 'no message'}) and recovery failed `
          + `(${(e as Error).message}). Its tensors' contents are gone: call init() for a live backend and rebuild or reload them.`);
        be.kill(err);
        throw err;
      }
    }
    try {
      this.opts.onRecovered?.({
        device, reason: info.reason, message: info.message, replayedCalls, restoredBytes, ms: performance.now() - t0,
      });
    } catch (e) {
      console.error(`${WHO}: recovery.onRecovered threw:`, e); // the recovery itself succeeded
    }
  }

  /** Replays onto the backend itself, now on a new device: each handle gets a buffer there. */
  private inPlace(): ReplaySink<GpuHandle> {
    const be = this.be;
    const call = (k: string, args: unknown[]) => (this.raw[k] as (...a: unknown[]) => unknown).apply(be, args);
    const alloc = (h: GpuHandle) => {
      h.buffer = (call('alloc', [h.n]) as GpuHandle).buffer;
      h.freed = false;
    };
    return {
      restore: (h, values) => { alloc(h); if (values) call('write', [h, values]); },
      alloc,
      free: (h) => call('free', [h]),
      write: (h, data) => call('write', [h, data]),
      call: (name: KernelName, args) => call(name, args),
      read: (h, n) => call('read', [h, n]) as Promise<Float32Array>,
    };
  }
}
