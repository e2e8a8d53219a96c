// The WebGPU runtime: device, buffer pools, the uniform arena, the pipeline
// cache and the queue. Kernels are recorded into one pending command encoder
// (one compute pass) and submitted on flush(), on read(), before any write()
// and every BATCH dispatches. The kernel families (kernels/<family>.ts) record
// their dispatches through `dispatch`, `copy` and `aliasSafe`; nothing here
// knows what any kernel computes.
import { LeptonError } from '../../errors.js';
import type { Runtime, StorageRef } from '../backend.js';
import type { Fields, StructDecl, Values } from '../primitives/declare.js';
import { AllocCheck } from './alloc-check.js';
import { adapterFields } from './tuning.js';
import { grid } from './dims.js';
import { isNode } from '../node-import.js';
import { PipelineCache, type Kernel } from './pipelines.js';
import { ReadPacer } from './pacing.js';
import { BufferPool } from './pool.js';
import { SLOT_BYTES, UniformArena, type Slot } from './uniforms.js';

/** Dispatches recorded before a submit is forced (also the uniform arena's slot count). */
const BATCH = 128;
/**
 * Readback staging buffers kept for reuse: at most this many per size class,
 * and this many bytes in all; more are destroyed when their read is done
 * (200 concurrent 1 MiB reads once left 451 MiB behind).
 */
const STAGING_KEEP_PER_CLASS = 4;
const STAGING_KEEP_BYTES = 64 * 2 ** 20;
/** Workgroup size of the one-invocation-per-element kernels. */
export const WG = 256;

/**
 * `n` f32 values in a pooled GPU buffer (the buffer may be larger). The
 * handle outlives its device: device-loss recovery (recovery.ts) swaps in a
 * buffer of the new device, and `owner` is the Storage holding it, re-pointed
 * if recovery moves the values to another backend.
 */
export class GpuHandle {
  freed = false;
  owner: StorageRef | null = null;
  constructor(public buffer: GPUBuffer, readonly n: number) {}
}

/** Writes one dispatch's parameters into its uniform slot. */
export type Params = (s: Slot) => void;

/** A struct and its values, typed together (for `dispatch`). */
export function params<F extends Fields>(decl: StructDecl<F>, values: Values<F>): Params {
  return (s) => s.set(decl, values);
}

function describe(info: GPUAdapterInfo | undefined, fallback: boolean): string {
  const parts = info ? adapterFields(info).filter(Boolean) : [];
  const text = [...new Set(parts)].join(' ') || 'unknown adapter';
  return fallback ? `${text} (fallback adapter)` : text;
}

/** Every error the WebGPU backend raises starts so. */
export const WHO = 'lepton webgpu';
const DESTROYED = `${WHO}: the backend was destroyed`;


export class GpuRuntime implements Runtime<GpuHandle> {
  readonly name = 'webgpu' as const;
  // The device and everything made from it; attach() sets them, again after
  // a device loss when recovery re-creates the device (recovery.ts).
  description!: string;
  isFallbackAdapter!: boolean;
  device!: GPUDevice;
  /** The device has subgroups of exactly 4 invocations (SwiftShader), which matmul-subgroup.wgsl is written for. */
  subgroups4!: boolean;
  /** @internal */ pool!: BufferPool;
  /** @internal */ pipelines!: PipelineCache;
  /** @internal Bound where a kernel declares an optional input (bias) or output (column sums) that is absent. */
  dummy!: GPUBuffer;
  /** @internal A separate one: a buffer may not be bound writable and read-only in one dispatch. */
  dummyOut!: GPUBuffer;
  private staging!: BufferPool;
  /** @internal Confirms fresh buffers' allocations and refuses storage a failed one voided. */
  checks!: AllocCheck;
  /** Whether the open batch was recorded while an allocation was unconfirmed (its submit is then watched). */
  private batchWatched = false;
  private arena!: UniformArena;
  private maxGroups!: number;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dead: Error | null = null;
  private gpuError: Error | null = null;
  /** Work recorded since the last submit (see pacing.ts). */
  private unsubmitted = 0;
  private pacer!: ReadPacer;
  /**
   * @internal Called when the device is lost (not on destroy()): recovery
   * installs itself here. Without it the backend is dead for good.
   */
  onDeviceLost: ((info: GPUDeviceLostInfo) => void) | null = null;

  private ownsDevice = true;

  constructor(device: GPUDevice, info: GPUAdapterInfo | undefined, isFallbackAdapter: boolean, ownsDevice: boolean) {
    this.attach(device, info, isFallbackAdapter, ownsDevice);
  }

  /** @internal (Re)builds everything made from the device: pools, uniform arena, pipeline cache. */
  attach(device: GPUDevice, info: GPUAdapterInfo | undefined, isFallbackAdapter: boolean, ownsDevice = true): void {
    this.device = device;
    this.ownsDevice = ownsDevice;
    this.isFallbackAdapter = isFallbackAdapter;
    this.description = describe(info, isFallbackAdapter);
    const sub = info as { subgroupMinSize?: number; subgroupMaxSize?: number } | undefined;
    this.subgroups4 = device.features.has('subgroups') && sub?.subgroupMinSize === 4 && sub?.subgroupMaxSize === 4;
    const lim = device.limits;
    const maxBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    const limits = `the device's maxBufferSize is ${lim.maxBufferSize} bytes and maxStorageBufferBindingSize ${lim.maxStorageBufferBindingSize} bytes`;
    this.checks = new AllocCheck(device, limits, (b) => {
      this.pool.refuse(b);
      this.staging.refuse(b);
    }, (e) => { this.gpuError ??= e; });
    // A fresh buffer starts a new command buffer: if its allocation fails, WebGPU drops only work recorded with it watched.
    const create = (desc: GPUBufferDescriptor, op: string) => {
      this.flush();
      return this.checks.create(desc, op);
    };
    this.pool = new BufferPool(create, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'lepton tensor', maxBytes);
    this.staging = new BufferPool(create, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'lepton readback', lim.maxBufferSize,
      { keepPerClass: STAGING_KEEP_PER_CLASS, keepBytes: STAGING_KEEP_BYTES });
    this.arena = new UniformArena(device, BATCH);
    this.pipelines = new PipelineCache(device);
    this.dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'lepton unused binding' });
    this.dummyOut = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'lepton unused output' });
    this.maxGroups = lim.maxComputeWorkgroupsPerDimension;
    this.pacer = new ReadPacer(isFallbackAdapter && isNode);
    this.encoder = null;
    this.pass = null;
    this.dead = null;
    this.gpuError = null;
    this.unsubmitted = 0;
    device.lost.then((lost) => {
      // A device replaced by recovery, or destroyed by destroy(), is no news.
      if (device !== this.device || this.dead?.message === DESTROYED) return;
      this.encoder = null;
      this.pass = null;
      const why = `the GPU device was lost (${lost.reason}): ${lost.message || 'no message'}`;
      if (this.onDeviceLost) {
        // Recovery takes over; until it is done nothing may touch the dead device.
        this.dead = new LeptonError(WHO, `${why}; recovery is under way`);
        this.onDeviceLost(lost);
      } else {
        this.dead ??= new LeptonError(WHO, `${why}. Its tensors' contents are gone, as device-loss recovery was off `
          + '(init({ recovery: false })). Call init() again for a live backend, then rebuild or reload them (e.g. loadStateDict from a saved copy).');
      }
    });
    // Validation and out-of-memory errors surface at the next read() instead of as silently wrong data.
    device.addEventListener('uncapturederror', (e) => {
      if (device === this.device) this.gpuError ??= new Error(`${WHO}: GPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
    });
  }

  /** @internal Whether the device is gone and nothing will bring it back (the registry then starts a new backend). */
  get lost(): boolean {
    return this.dead !== null && !this.onDeviceLost;
  }

  /** @internal Marks the backend dead with `error` (recovery gave up, or moved its tensors elsewhere). */
  kill(error: Error): void {
    this.onDeviceLost = null;
    this.encoder = null;
    this.pass = null;
    this.dead = error;
  }

  // ---- memory ----

  /**
   * Storage for `n` values. A size over a device limit throws a LeptonError
   * naming `op`; a device that runs out of memory says so only later (see
   * alloc-check.ts): the storage is then refused, naming `op`, by every use.
   */
  alloc(n: number, op = WHO): GpuHandle {
    this.live();
    if (!Number.isInteger(n) || n < 0) throw new Error(`${WHO}: alloc(n) needs a non-negative integer, got ${n}`);
    const bytes = n * 4;
    const lim = this.device.limits;
    for (const limit of ['maxStorageBufferBindingSize', 'maxBufferSize'] as const) {
      if (bytes > lim[limit]) {
        throw new LeptonError(op, `cannot allocate ${n} f32 (${bytes} bytes) on WebGPU: the device's ${limit} is ${lim[limit]} bytes`);
      }
    }
    const buffer = this.pool.acquire(bytes, op);
    this.checks.reuse(buffer);
    return new GpuHandle(buffer, n);
  }

  free(h: GpuHandle): void {
    if (h.freed) throw new Error(`${WHO}: storage freed twice`);
    h.freed = true;
    if (!this.dead) this.pool.release(h.buffer);
  }

  write(h: GpuHandle, data: Float32Array): void {
    this.live();
    this.check(h, data.length, 'write');
    if (data.length === 0) return;
    // A pooled buffer may still be read by recorded, unsubmitted dispatches:
    // writeBuffer would overtake them, so submit them first.
    this.flush();
    this.device.queue.writeBuffer(h.buffer, 0, data as Float32Array<ArrayBuffer>);
  }

  async read(h: GpuHandle, n: number): Promise<Float32Array> {
    this.live();
    this.check(h, n, 'read');
    // Recovery may attach a new device while this read waits: finish it with the old one's objects.
    // The copy is recorded now, before any await: the caller may free `h` right after asking (t.data(); t.dispose()).
    // An unconfirmed allocation that voids `h` is found below, once every check has settled.
    const { device, staging: pool, pacer, checks } = this;
    const bytes = n * 4;
    if (bytes === 0) {
      this.flush();
      await this.untilLost(device, device.queue.onSubmittedWorkDone());
      return new Float32Array(0);
    }
    const staging = pool.acquire(bytes, 'data');
    checks.reuse(staging);
    try {
      this.copy(h.buffer, 0, staging, bytes);
      this.flush();
      if (checks.watching) {
        // An allocation is unconfirmed (maybe `h`'s or the staging buffer's): settle it before mapping anything.
        await this.untilLost(device, checks.settled().catch(() => {}));
        const refused = checks.refusal(h.buffer) ?? checks.refusal(staging);
        if (refused) throw refused;
      }
      await pacer.beforeMap();
      let mapped: unknown = null;
      const map = () => staging.mapAsync(GPUMapMode.READ, 0, bytes);
      await this.untilLost(device, checks.watching ? checks.capture(map) : map()).catch((e) => { mapped = e; });
      // Every allocation check made before this read has settled: a failed one refuses what it voided.
      await this.untilLost(device, checks.settled().catch(() => {}));
      const refused = checks.refusal(h.buffer) ?? checks.refusal(staging);
      if (refused) throw refused;
      if (mapped) throw mapped;
      pacer.completed();
      const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      this.throwGpuError();
      return out;
    } finally {
      if (staging.mapState === 'mapped') staging.unmap();
      // A pool of a lost or replaced device takes nothing back.
      if (!this.dead && pool === this.staging) pool.release(staging);
    }
  }

  // ---- queue ----

  flush(): void {
    this.live();
    if (!this.encoder) return;
    this.pass?.end();
    this.pass = null;
    this.arena.upload(); // before the submit that reads it
    const encoder = this.encoder;
    const submit = () => this.device.queue.submit([encoder.finish()]);
    if (this.batchWatched) this.checks.capture(submit);
    else submit();
    this.batchWatched = false;
    this.encoder = null;
    this.pacer.submitted(this.unsubmitted);
    this.unsubmitted = 0;
  }

  /** Destroys pooled buffers that are not in use (after submitting queued work that may still use them). */
  trim(): void {
    if (this.dead) return;
    this.flush();
    this.pool.trim();
    this.staging.trim();
  }

  /** Bytes in GPU buffers the pools hold: live and free tensor buffers and readback staging. */
  reservedBytes(): number {
    const t = this.pool.stats, r = this.staging.stats;
    return t.liveBytes + t.freeBytes + r.liveBytes + r.freeBytes;
  }

  /** Buffer and pipeline counts, for leak checks and benchmarks. */
  get stats() {
    return { tensors: this.pool.stats, readback: this.staging.stats, pipelines: this.pipelines.size };
  }

  destroy(): void {
    if (this.dead?.message === DESTROYED) return;
    this.encoder = null;
    this.pass = null;
    this.onDeviceLost = null;
    this.dead = new LeptonError(WHO, 'the backend was destroyed');
    this.pool.destroy();
    this.staging.destroy();
    this.arena.destroy();
    this.dummy.destroy();
    this.dummyOut.destroy();
    if (this.ownsDevice) this.device.destroy();
  }

  // ---- for the kernel families (kernels/*.ts) ----

  /** @internal Throws the device-lost or destroyed error, if any. */
  live(): void {
    if (this.dead) throw this.dead;
  }

  /** @internal Refuses freed handles and handles too small for `n` values. */
  check(h: GpuHandle, n: number, what: string): void {
    if (h.freed) throw new Error(`${WHO}: ${what}: storage used after free`);
    if (!Number.isInteger(n) || n < 0 || n > h.n) {
      throw new Error(`${WHO}: ${what}: ${n} elements requested of storage holding ${h.n}`);
    }
    const refused = this.checks.refusal(h.buffer);
    if (refused) throw refused;
  }

  /** @internal Refuses the same storage passed twice where a kernel updates in place. */
  distinct(what: string, hs: (GpuHandle | null)[]): void {
    const bufs = hs.filter((h): h is GpuHandle => h !== null).map((h) => h.buffer);
    if (new Set(bufs).size !== bufs.length) throw new Error(`${WHO}: ${what}: parameter, gradient and state must be distinct storage`);
  }

  /** @internal Reports an uncaptured GPU error once (the dispatch that caused it may be unrelated). */
  throwGpuError(): void {
    const e = this.gpuError;
    this.gpuError = null;
    if (e) throw e;
  }

  /** @internal Records a buffer-to-buffer copy (ends the open compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, bytes: number, dstOffset = 0): void {
    this.live();
    this.checks.assertUsable([src, dst]);
    this.encoder ??= this.device.createCommandEncoder({ label: 'lepton batch' });
    this.pass?.end();
    this.pass = null;
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    if (this.checks.watching) {
      this.batchWatched = true;
      this.checks.record([src, dst], [1]);
    }
  }

  /**
   * @internal A temporary buffer for work recorded before `release`; reuse
   * by later recordings is ordered after it, so release right after recording.
   */
  scratch(bytes: number): GPUBuffer {
    const buf = this.pool.acquire(bytes, `${WHO} scratch`);
    this.checks.reuse(buf);
    return buf;
  }

  /** @internal */
  release(buffer: GPUBuffer): void {
    this.pool.release(buffer);
  }

  /**
   * @internal Runs `record(target)`; WebGPU forbids binding one buffer as both an input
   * and the writable output of a dispatch, so when `out` aliases an input the
   * kernel writes a temporary that is then copied into `out`.
   */
  aliasSafe<T extends GpuHandle | null>(out: T, inputs: (GpuHandle | null)[], n: number,
    record: (target: T extends GpuHandle ? GPUBuffer : GPUBuffer | null) => void): void {
    type Target = T extends GpuHandle ? GPUBuffer : GPUBuffer | null;
    if (!out || !inputs.some((h) => h?.buffer === out.buffer)) {
      record((out?.buffer ?? null) as Target);
      return;
    }
    const tmp = this.scratch(n * 4);
    record(tmp as Target);
    this.copy(tmp, 0, out.buffer, n * 4);
    this.release(tmp); // later users are recorded after the copy, so reuse is ordered
  }

  /**
   * @internal Records one dispatch: buffers bind at 1, 2, ... after the parameter slot at 0.
   * `work` estimates its cost for read pacing (FLOPs for products; by default
   * a few units per invocation of a 256-wide workgroup).
   */
  dispatch(k: Kernel, buffers: GPUBuffer[], groups: number, p: Params, work = groups * WG * 4): void {
    this.live();
    if (groups === 0) return;
    this.checks.assertUsable(buffers);
    this.unsubmitted += work;
    const { pipeline, layout, writes } = this.pipelines.get(k);
    const slot = this.arena.next();
    p(slot);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena.buffer, offset: slot.offset, size: SLOT_BYTES } }];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    let group: GPUBindGroup;
    if (this.checks.watching) {
      // A buffer bound here may turn out invalid: capture the error, note what this dispatch writes.
      this.batchWatched = true;
      group = this.checks.capture(() => this.device.createBindGroup({ layout, entries }));
      this.checks.record(buffers, writes);
    } else {
      group = this.device.createBindGroup({ layout, entries });
    }
    pass.setBindGroup(0, group);
    const [x, y] = grid(groups, this.maxGroups);
    pass.dispatchWorkgroups(x, y);
    if (this.arena.full) this.flush();
  }

  /** Waits for `p`, or fails with the device-lost error if `device` goes first. */
  private async untilLost<T>(device: GPUDevice, p: Promise<T>): Promise<T> {
    const lost = device.lost.then(() => { throw this.dead ?? new LeptonError(WHO, 'the GPU device was lost'); });
    lost.catch(() => {}); // settles after the race when the device dies later: not an unhandled rejection
    try {
      return await Promise.race([p, lost]);
    } catch (e) {
      throw this.dead ?? e;
    }
  }

  private computePass(): GPUComputePassEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: 'lepton batch' });
    this.pass ??= this.encoder.beginComputePass();
    return this.pass;
  }
}
