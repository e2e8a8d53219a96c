// Entry point of the Wasm kernel module (built four times: SIMD128, and
// SIMD128 + relaxed SIMD, each with a private and a shared (threads) memory;
// see asconfig.json). Kernels take raw byte pointers into the imported
// memory, which the JS side allocates (src/backends/wasm/memory.ts).
import { matmulPart } from './matmul';

export { matmulScratch, matmulTileRows } from './matmul';
export { unary, binary, fill } from './elementwise';
export { reduce, reduceScratch } from './reduce';
export { softmax } from './softmax';
export { strided } from './strided';
export { sgd, adam } from './optim';

/** First byte after the module's static data: the JS allocator starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/** Job kinds a worker thread runs (src/backends/wasm/threads.ts). */
const JOB_MATMUL = 1;

/** Runs part `part` of the job of `kind` described at `desc` with scratch slot `slot`: the one entry threads call. */
export function runPart(kind: i32, desc: usize, part: i32, slot: i32): void {
  if (kind == JOB_MATMUL) matmulPart(desc, part, slot);
}
