// GPU buffers pooled by size class. Freed buffers are kept for reuse instead
// of destroyed: creating buffers is slow and fragments device memory.

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

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly label: string,
    /** Largest buffer the device allows; a class never rounds past it. */
    private readonly maxBytes: number,
  ) {}

  /** A buffer of at least `bytes` bytes (at least 256). */
  acquire(bytes: number): GPUBuffer {
    const size = Math.min(sizeClass(bytes), Math.max(this.maxBytes - (this.maxBytes % 4), 4));
    const list = this.free.get(size);
    const buf = list?.pop() ?? this.device.createBuffer({ size, usage: this.usage, label: `${this.label} ${size}` });
    this.live.add(buf);
    return buf;
  }

  release(buf: GPUBuffer): void {
    if (!this.live.delete(buf)) throw new Error(`lepton webgpu: ${this.label} buffer released twice or not from this pool`);
    let list = this.free.get(buf.size);
    if (!list) this.free.set(buf.size, (list = []));
    list.push(buf);
  }

  /** Destroys the pooled (free) buffers; live ones stay valid. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }

  destroy(): void {
    this.trim();
    for (const b of this.live) b.destroy();
    this.live.clear();
  }

  get stats() {
    let freeBytes = 0, liveBytes = 0;
    for (const list of this.free.values()) for (const b of list) freeBytes += b.size;
    for (const b of this.live) liveBytes += b.size;
    return { liveBuffers: this.live.size, liveBytes, freeBytes };
  }
}
