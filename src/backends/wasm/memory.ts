// The JS-side allocator over the kernels' linear memory. Blocks are 64-byte
// aligned (a cache line; v128 loads never straddle a block's start) and come
// in size classes (multiples of 64 bytes up to 1 KiB, then 8 classes per
// power of two, so at most 12.5% is wasted). Freed blocks go to a free list
// per class and are reused by the next request of that class; a freed block
// at the top of the heap lowers the top instead, together with any free
// blocks directly below it, so short-lived scratch does not pile up.

export const PAGE_BYTES = 65536;
/** wasm32 addresses are 32-bit: 65536 pages of 64 KiB. */
export const MAX_PAGES = 65536;
export const MAX_BYTES = MAX_PAGES * PAGE_BYTES;
const ALIGN = 64;

/** The size class (bytes) a request of `bytes` is served from. */
export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  if (bytes <= 1024) return Math.ceil(bytes / ALIGN) * ALIGN;
  let pow = 2 ** Math.floor(Math.log2(bytes));
  if (pow >= bytes) pow /= 2; // the largest power of two below `bytes`
  const step = pow / 8;
  return Math.ceil(bytes / step) * step;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  /** The memory's maximum size in bytes (a shared memory declares one when it is made). */
  readonly maxBytes: number;
  private top: number;
  private readonly freeLists = new Map<number, Set<number>>();
  /** End address -> start of each free block, to merge free blocks into the top. */
  private readonly freeByEnd = new Map<number, number>();
  private f32View: Float32Array;
  private u32View: Uint32Array;
  /** Bytes in live blocks (class sizes). */
  inUse = 0;

  /** Manages `memory` (at most `maxBytes`) from `heapBase` (the module's first free byte) upwards. */
  constructor(memory: WebAssembly.Memory, heapBase: number, maxBytes = MAX_BYTES) {
    this.memory = memory;
    this.maxBytes = maxBytes;
    this.top = Math.ceil(heapBase / ALIGN) * ALIGN;
    this.f32View = new Float32Array(memory.buffer);
    this.u32View = new Uint32Array(memory.buffer);
  }

  /** A Float32Array over the whole memory, re-made after the memory grew. */
  get f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  /** A Uint32Array over the whole memory (descriptors, pointers), re-made after the memory grew. */
  get u32(): Uint32Array {
    if (this.u32View.buffer !== this.memory.buffer) this.u32View = new Uint32Array(this.memory.buffer);
    return this.u32View;
  }

  /** Allocates at least `bytes` bytes; returns the block's address and class size. */
  alloc(bytes: number): { ptr: number; size: number } {
    const size = sizeClass(bytes);
    const list = this.freeLists.get(size);
    if (list && list.size > 0) return { ptr: this.take(list, size), size };
    if (this.top + size <= this.maxBytes && this.ensure(this.top + size)) {
      const ptr = this.top;
      this.top += size;
      this.inUse += size;
      return { ptr, size };
    }
    // No room to grow: settle for the smallest larger free block.
    let best = Infinity;
    for (const [s, l] of this.freeLists) if (s > size && s < best && l.size > 0) best = s;
    if (best < Infinity) return { ptr: this.take(this.freeLists.get(best)!, best), size: best };
    const why = this.top + size > this.maxBytes
      ? (this.maxBytes === MAX_BYTES ? `WebAssembly (wasm32) memory is limited to 4 GiB (${MAX_PAGES} pages of 64 KiB)`
        : `this shared memory was created with a maximum of ${gib(this.maxBytes)}`)
      : `the engine refused to grow WebAssembly memory to ${gib(this.top + size)}`;
    throw new Error(`lepton wasm: cannot allocate ${bytes} bytes: ${why}; `
      + `${gib(this.inUse)} are in use and the heap top is at ${gib(this.top)}`);
  }

  /** Returns a block from `alloc` (same `ptr` and `size`) for reuse. */
  free(ptr: number, size: number): void {
    this.inUse -= size;
    if (ptr + size !== this.top) {
      let list = this.freeLists.get(size);
      if (!list) this.freeLists.set(size, (list = new Set()));
      list.add(ptr);
      this.freeByEnd.set(ptr + size, ptr);
      return;
    }
    this.top = ptr;
    for (let below = this.freeByEnd.get(this.top); below !== undefined; below = this.freeByEnd.get(this.top)) {
      this.freeByEnd.delete(this.top);
      this.freeLists.get(this.top - below)!.delete(below);
      this.top = below;
    }
  }

  private take(list: Set<number>, size: number): number {
    const ptr = list.values().next().value as number;
    list.delete(ptr);
    this.freeByEnd.delete(ptr + size);
    this.inUse += size;
    return ptr;
  }

  /** Grows the memory to hold `end` bytes (doubling, capped at the maximum); false if the engine refuses. */
  private ensure(end: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return true;
    const pages = have / PAGE_BYTES;
    const need = Math.ceil((end - have) / PAGE_BYTES);
    for (const delta of [Math.min(Math.max(need, pages), this.maxBytes / PAGE_BYTES - pages), need]) {
      try {
        this.memory.grow(delta);
        return true;
      } catch {
        // The engine could not reserve that much; retry with only what is needed.
      }
    }
    return false;
  }
}
