// The JS-side allocator over the kernels' linear memory. Blocks are 64-byte
// aligned (a cache line; v128 loads never straddle a block's start) and sized
// by class (multiples of 64 bytes up to 1 KiB, then 8 classes per power of
// two, so at most 12.5% is wasted). Freed blocks merge with free neighbours
// (and into the top of the heap when they reach it); a request takes a free
// block of its exact size, else the smallest larger one, split, and grows the
// memory only when no free block fits. A long run with a steady mix of sizes
// therefore reuses the memory it has instead of growing it.

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

/** A block from LinearMemory.alloc: its address and (class) size in bytes. */
export interface Block {
  ptr: number;
  size: number;
}

export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  /** The memory's maximum size in bytes (a shared memory declares one when it is made). */
  readonly maxBytes: number;
  /** End of the highest block handed out (free blocks never touch it: they merge into it). */
  private top: number;
  /** Free blocks: start -> size, end -> start, and size -> starts. */
  private readonly freeAt = new Map<number, number>();
  private readonly freeEnd = new Map<number, number>();
  private readonly bins = new Map<number, Set<number>>();
  /** The sizes that have a non-empty bin, ascending (best fit by binary search). */
  private readonly sizes: number[] = [];
  private f32View: Float32Array;
  private u32View: Uint32Array;
  /** Bytes in live blocks (class sizes). */
  inUse = 0;
  /** Bytes in free blocks below the top. */
  freeBytes = 0;

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

  /** The heap top: bytes from address 0 up to the end of the highest block in use. */
  get heapTop(): number {
    return this.top;
  }

  /** At least `bytes` bytes, or null when neither a free block nor growing the memory can give them (see refusal()). */
  alloc(bytes: number): Block | null {
    const size = sizeClass(bytes);
    let ptr = this.reuse(size);
    if (ptr === null) {
      if (this.top + size > this.maxBytes || !this.ensure(this.top + size)) return null;
      ptr = this.top;
      this.top += size;
    }
    this.inUse += size;
    return { ptr, size };
  }

  /** Why alloc(bytes) returned null, in words. */
  refusal(bytes: number): string {
    const size = sizeClass(bytes);
    const why = this.top + size > this.maxBytes
      ? (this.maxBytes === MAX_BYTES ? `WebAssembly (wasm32) memory is limited to 4 GiB (${MAX_PAGES} pages of 64 KiB)`
        : `this shared memory was created with a maximum of ${gib(this.maxBytes)}`)
      : `the engine refused to grow WebAssembly memory to ${gib(this.top + size)}`;
    return `${why}; ${gib(this.inUse)} are in use, ${gib(this.freeBytes)} free in blocks too small, and the heap top is at ${gib(this.top)}`;
  }

  /** Returns a block from `alloc` (same `ptr` and `size`) for reuse. */
  free(ptr: number, size: number): void {
    this.inUse -= size;
    let start = ptr, end = ptr + size;
    const left = this.freeEnd.get(start);
    if (left !== undefined) {
      this.unlist(left);
      start = left;
    }
    const right = this.freeAt.get(end);
    if (right !== undefined) {
      this.unlist(end);
      end += right;
    }
    if (end === this.top) this.top = start;
    else this.list(start, end - start);
  }

  /** A free block of `size` bytes: an exact fit, else the low end of the smallest larger block. */
  private reuse(size: number): number | null {
    const exact = this.bins.get(size);
    if (exact) {
      const ptr = exact.values().next().value as number;
      this.unlist(ptr);
      return ptr;
    }
    const i = lowerBound(this.sizes, size);
    if (i === this.sizes.length) return null;
    const have = this.sizes[i];
    const ptr = this.bins.get(have)!.values().next().value as number;
    this.unlist(ptr);
    this.list(ptr + size, have - size);
    return ptr;
  }

  private list(start: number, size: number): void {
    this.freeAt.set(start, size);
    this.freeEnd.set(start + size, start);
    let bin = this.bins.get(size);
    if (!bin) {
      this.bins.set(size, (bin = new Set()));
      this.sizes.splice(lowerBound(this.sizes, size), 0, size);
    }
    bin.add(start);
    this.freeBytes += size;
  }

  private unlist(start: number): void {
    const size = this.freeAt.get(start)!;
    this.freeAt.delete(start);
    this.freeEnd.delete(start + size);
    const bin = this.bins.get(size)!;
    bin.delete(start);
    if (bin.size === 0) {
      this.bins.delete(size);
      this.sizes.splice(lowerBound(this.sizes, size), 1);
    }
    this.freeBytes -= size;
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

/** The first index of sorted `xs` whose value is >= `x`. */
function lowerBound(xs: number[], x: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
