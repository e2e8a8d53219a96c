// Entry point of the Wasm kernel module (built twice: SIMD128, and SIMD128 +
// relaxed SIMD; see asconfig.json). Kernels take raw byte pointers into the
// imported memory, which the JS side allocates (src/backends/wasm/memory.ts).
export { matmul, matmulScratch } from './matmul';
export { unary, binary, fill } from './elementwise';
export { reduce, reduceScratch } from './reduce';
export { softmax } from './softmax';
export { strided } from './strided';
export { sgd, adam } from './optim';

/** First byte after the module's static data: the JS allocator starts here. */
export function heapBase(): usize {
  return __heap_base;
}
