// GPU buffers pooled by size class. Freed buffers are kept for reuse instead
// of destroyed: creating buffers is slow and fragments device memory. A pool
// may keep only a few free buffers per class (readback staging: reads of many
// sizes, or many at once, must not leave their buffers behind), and a buffer
// whose allocation failed is destroyed, never kept.

/**
 * Size classes: 256 bytes, then four classes per power of two (1, 1.25, 1.5,
 * 1.75 × 2^k), so a buffer wastes at most 25% and usually far less.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

/** Makes a GPU buffer of `size` bytes for the op named `op` (the runtime checks that the allocation succeeded). */
export type CreateBuffer = (desc: GPUBufferDescriptor, op: string) => GPUBuffer;

export interface PoolOptions {
  /** Free buffers kept per size class; more are destroyed when released. Default: all. */
  keepPerClass?: number;
  /** Free bytes kept in all; a released buffer past it is destroyed. Default: no bound. */
  keepBytes?: number;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
  /** Buffers whose allocation failed: destroyed when released, never handed out again. */
  private readonly failed = new Set<GPUBuffer>();
  private readonly keepPerClass: number;
  private readonly keepBytes: number;
  private liveBytes = 0;
  private freeBytes = 0;

  constructor(
    private readonly create: CreateBuffer,
    private readonly usage: GPUBufferUsageFlags,
    private readonly label: string,
    /** Largest buffer the device allows; a class never rounds past it. */
    private readonly maxBytes: number,
    opts: PoolOptions = {},
  ) {
    this.keepPerClass = opts.keepPerClass ?? Infinity;
    this.keepBytes = opts.keepBytes ?? Infinity;
  }

  /** A buffer of at least `bytes` bytes (at least 256), from the pool or made for `op`. */
  acquire(bytes: number, op: string): GPUBuffer {
    // Near the limit a class would round up to it; there the request is taken as asked (a multiple of 4).
    const cls = sizeClass(bytes);
    const size = cls < this.maxBytes ? cls : Math.max(Math.ceil(bytes / 4) * 4, 4);
    let buf = this.free.get(size)?.pop();
    if (buf) this.freeBytes -= size;
    else buf = this.create({ size, usage: this.usage, label: `${this.label} ${size}` }, op);
    this.live.add(buf);
    this.liveBytes += size;
    return buf;
  }

  release(buf: GPUBuffer): void {
    if (!this.live.delete(buf)) throw new Error(`lepton webgpu: ${this.label} buffer released twice or not from this pool`);
    this.liveBytes -= buf.size;
    let list = this.free.get(buf.size);
    if (this.failed.delete(buf) || (list?.length ?? 0) >= this.keepPerClass || this.freeBytes + buf.size > this.keepBytes) {
      buf.destroy();
      return;
    }
    if (!list) this.free.set(buf.size, (list = []));
    list.push(buf);
    this.freeBytes += buf.size;
  }

  /** The device refused `buf` (found after it was handed out): destroy it now if free, else when released. */
  refuse(buf: GPUBuffer): void {
    const list = this.free.get(buf.size);
    const at = list?.indexOf(buf) ?? -1;
    if (at >= 0) {
      list!.splice(at, 1);
      this.freeBytes -= buf.size;
      buf.destroy();
    } else if (this.live.has(buf)) {
      this.failed.add(buf);
    }
  }

  /** Destroys the pooled (free) buffers; live ones stay valid. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeBytes = 0;
  }

  destroy(): void {
    this.trim();
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.failed.clear();
    this.liveBytes = 0;
  }

  get stats() {
    let freeBuffers = 0;
    for (const list of this.free.values()) freeBuffers += list.length;
    return { liveBuffers: this.live.size, liveBytes: this.liveBytes, freeBuffers, freeBytes: this.freeBytes };
  }
}
