// The uniform arena: per-dispatch parameters are staged CPU-side in 256-byte
// slots (minUniformBufferOffsetAlignment) and uploaded with one writeBuffer
// right before the batch that reads them is submitted. Queue order makes
// reusing the same GPU buffer for the next batch safe: that batch's
// writeBuffer runs after the previous submit has consumed the old contents.

export const SLOT_BYTES = 256;

/** One dispatch's parameters: 64 32-bit words, written by word index. */
export class Slot {
  constructor(
    readonly offset: number,
    private readonly u32: Uint32Array,
    private readonly i32: Int32Array,
    private readonly f32: Float32Array,
  ) {}

  private at(word: number): number {
    return this.offset / 4 + word;
  }

  u(word: number, v: number): this {
    if (!(v >= 0 && v <= 0xffffffff)) throw new Error(`lepton webgpu: ${v} does not fit a u32 kernel parameter`);
    this.u32[this.at(word)] = v;
    return this;
  }

  i(word: number, v: number): this {
    if (!(v >= -0x80000000 && v <= 0x7fffffff)) throw new Error(`lepton webgpu: ${v} does not fit an i32 kernel parameter`);
    this.i32[this.at(word)] = v;
    return this;
  }

  f(word: number, v: number): this {
    this.f32[this.at(word)] = v;
    return this;
  }
}

export class UniformArena {
  readonly buffer: GPUBuffer;
  private readonly data: ArrayBuffer;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;
  private used = 0;

  constructor(private readonly device: GPUDevice, readonly capacity: number) {
    this.data = new ArrayBuffer(capacity * SLOT_BYTES);
    this.u32 = new Uint32Array(this.data);
    this.i32 = new Int32Array(this.data);
    this.f32 = new Float32Array(this.data);
    this.buffer = device.createBuffer({
      size: capacity * SLOT_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'lepton uniform arena',
    });
  }

  get full(): boolean {
    return this.used === this.capacity;
  }

  /** The next free slot, zeroed. The caller flushes when `full`. */
  next(): Slot {
    if (this.full) throw new Error('lepton webgpu: uniform arena overflow (flush first)');
    const offset = this.used++ * SLOT_BYTES;
    this.u32.fill(0, offset / 4, offset / 4 + SLOT_BYTES / 4);
    return new Slot(offset, this.u32, this.i32, this.f32);
  }

  /** Uploads the used slots and starts over; call right before submitting. */
  upload(): void {
    if (this.used > 0) this.device.queue.writeBuffer(this.buffer, 0, this.data, 0, this.used * SLOT_BYTES);
    this.used = 0;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
