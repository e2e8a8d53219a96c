// The uniform arena: per-dispatch parameters are staged CPU-side in 256-byte
// slots (minUniformBufferOffsetAlignment) and uploaded with one writeBuffer
// right before the batch that reads them is submitted. Queue order makes
// reusing the same GPU buffer for the next batch safe: that batch's
// writeBuffer runs after the previous submit has consumed the old contents.
import { viewsOf, writeStruct, type Fields, type StructDecl, type Values, type Views } from '../primitives/declare.js';

export const SLOT_BYTES = 256;

/** One dispatch's parameters: a struct declared in src/backends/primitives/, written by field name. */
export class Slot {
  constructor(readonly offset: number, private readonly views: Views) {}

  /** A slot over a buffer of its own (autotune's one-off dispatches). */
  static standalone(): { slot: Slot; bytes: ArrayBuffer } {
    const bytes = new ArrayBuffer(SLOT_BYTES);
    return { slot: new Slot(0, viewsOf(bytes)), bytes };
  }

  set<F extends Fields>(decl: StructDecl<F>, values: Values<F>): this {
    if (decl.words * 4 > SLOT_BYTES) throw new Error(`lepton webgpu: ${decl.name} does not fit a ${SLOT_BYTES}-byte uniform slot`);
    writeStruct(decl, values, this.views, this.offset / 4);
    return this;
  }
}

export class UniformArena {
  readonly buffer: GPUBuffer;
  private readonly data: ArrayBuffer;
  private readonly views: Views;
  private used = 0;

  constructor(private readonly device: GPUDevice, readonly capacity: number) {
    this.data = new ArrayBuffer(capacity * SLOT_BYTES);
    this.views = viewsOf(this.data);
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
    this.views.u32.fill(0, offset / 4, offset / 4 + SLOT_BYTES / 4);
    return new Slot(offset, this.views);
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
