// What each backend holds: live tensors and bytes, the peak, and the memory the
// backend keeps reserved (pooled GPU buffers, the WebAssembly memory). The
// counts are kept where storage is made and freed (tensor.ts), so memory() is
// a constant-time read that is always current.
import type { Backend, DeviceName } from './backends/backend.js';
import { getBackend } from './backends/registry.js';

/** Memory figures of one backend (`memory()`), named as in tfjs's `tf.memory()` and PyTorch's `torch.cuda.memory_*`. */
export interface MemoryInfo {
  device: DeviceName;
  /** Tensors alive on the backend: not disposed and not yet collected. Views count; the autograd graph's own references do not. */
  numTensors: number;
  /** Distinct storages behind them and behind the graph's saved references (a view shares its tensor's). */
  numDataBuffers: number;
  /** Bytes of live storage: 4 per element of each data buffer, shared storage counted once (tfjs's `numBytes`, PyTorch's `memory_allocated`). */
  numBytes: number;
  /** The highest `numBytes` since the backend started or since `resetPeakMemoryStats()` (PyTorch's `max_memory_allocated`). */
  peakBytes: number;
  /**
   * Device memory the backend holds (PyTorch's `memory_reserved`): on WebGPU the
   * live buffers at their pooled size, the freed buffers kept for reuse and the
   * readback staging buffers (`emptyCache()` gives the free ones back); on WASM
   * the size of the WebAssembly memory, which only grows (freed blocks are reused).
   */
  reservedBytes: number;
}

interface Counters {
  tensors: number;
  buffers: number;
  bytes: number;
  peak: number;
}

const counters = new WeakMap<Backend, Counters>();

function of(be: Backend): Counters {
  let c = counters.get(be);
  if (!c) counters.set(be, (c = { tensors: 0, buffers: 0, bytes: 0, peak: 0 }));
  return c;
}

/** @internal A storage of `n` values was made (tensor.ts). */
export function countStorage(be: Backend, n: number): void {
  const c = of(be);
  c.buffers++;
  c.bytes += 4 * n;
  if (c.bytes > c.peak) c.peak = c.bytes;
}

/** @internal A storage of `n` values was freed (tensor.ts). */
export function uncountStorage(be: Backend, n: number): void {
  const c = of(be);
  c.buffers--;
  c.bytes -= 4 * n;
}

/** @internal Device-loss recovery moved every storage (and so every tensor) of `from` to `to`. */
export function moveCounts(from: Backend, to: Backend): void {
  const a = of(from), b = of(to);
  b.tensors += a.tensors;
  b.buffers += a.buffers;
  b.bytes += a.bytes;
  if (b.bytes > b.peak) b.peak = b.bytes;
  a.tensors = a.buffers = a.bytes = 0;
}

/** @internal A user-visible tensor was made (+1) or disposed / collected (-1) (tensor.ts). */
export function countTensor(be: Backend, delta: 1 | -1): void {
  of(be).tensors += delta;
}

/**
 * The memory figures of a backend (the default one without `device`): live
 * tensors and bytes, the peak, and what the backend keeps reserved.
 *
 *   const { numTensors, numBytes, peakBytes } = memory();
 */
export function memory(device?: DeviceName): MemoryInfo {
  const be = getBackend(device);
  const c = of(be);
  return {
    device: be.name, numTensors: c.tensors, numDataBuffers: c.buffers, numBytes: c.bytes, peakBytes: c.peak,
    reservedBytes: be.reservedBytes(),
  };
}

/** Starts `peakBytes` again from the bytes live now (PyTorch's `reset_peak_memory_stats`). */
export function resetPeakMemoryStats(device?: DeviceName): void {
  const c = of(getBackend(device));
  c.peak = c.bytes;
}

/**
 * Gives back the memory a backend keeps for reuse (PyTorch's `empty_cache`):
 * on WebGPU the pooled buffers no tensor uses, after the queued work that may
 * still read them is submitted. Live tensors are untouched. On WASM there is
 * nothing to give back (a WebAssembly memory cannot shrink; its freed blocks
 * are reused by later tensors).
 */
export function emptyCache(device?: DeviceName): void {
  getBackend(device).trim();
}
