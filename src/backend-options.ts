// What a started backend is (getDeviceProperties) and the options that may
// change while it runs (setBackendOptions): the public face of per-backend
// knobs, so that no caller reaches into a backend object.
import type { DeviceName } from './backends/backend.js';
import { getBackend } from './backends/registry.js';
import type { WasmBackend } from './backends/wasm/backend.js';
import type { WebGPUBackend } from './backends/webgpu/backend.js';
import { fail } from './errors.js';
import { THREADS } from './backends/init-options.js';
import { options } from './options.js';

export interface WasmProperties {
  device: 'wasm';
  description: string;
  /** The module running: SIMD128 + relaxed SIMD, or SIMD128 only. */
  simd: 'relaxed' | 'simd';
  /** Threads the backend started with, the calling one included (1 without shared memory). */
  maxThreads: number;
  /** The most threads one op may use now (setBackendOptions), at most `maxThreads`. */
  threads: number;
}

export interface WebGPUProperties {
  device: 'webgpu';
  description: string;
  /** A software adapter (e.g. SwiftShader): WebGPU runs on the CPU, usually slower than the WASM backend. */
  fallbackAdapter: boolean;
}

export type DeviceProperties = WasmProperties | WebGPUProperties;

/** Options of a running WASM backend. */
export interface WasmRuntimeOptions {
  /**
   * The most threads one op may use, the calling one included: a positive
   * integer (capped at the threads the backend started with) or 'auto' (all
   * of them, the default). A product still takes another thread only when it
   * has enough work to pay for waking it.
   */
  threads?: number | 'auto';
}

/** Properties of an initialised backend (the default one without `device`). */
export function getDeviceProperties(device: 'wasm'): WasmProperties;
export function getDeviceProperties(device: 'webgpu'): WebGPUProperties;
export function getDeviceProperties(device?: DeviceName): DeviceProperties;
export function getDeviceProperties(device?: DeviceName): DeviceProperties {
  const be = getBackend(device);
  if (be.name === 'wasm') {
    const w = be as unknown as WasmBackend;
    return { device: 'wasm', description: w.description, simd: w.flavour, maxThreads: w.threads, threads: w.limitThreads() };
  }
  const g = be as unknown as WebGPUBackend;
  return { device: 'webgpu', description: g.description, fallbackAdapter: g.isFallbackAdapter };
}

/**
 * Changes options of an already-initialised backend; they apply to the ops
 * queued after the call. Returns the backend's properties with the options
 * now in force.
 *
 *   setBackendOptions('wasm', { threads: 1 });       // every op on the calling thread
 *   setBackendOptions('wasm', { threads: 'auto' });  // all the threads init() started
 *
 * Options fixed when a backend starts (the WASM module, how many workers
 * exist, the WebGPU adapter) are `init()` options.
 */
export function setBackendOptions(device: 'wasm', opts: WasmRuntimeOptions): WasmProperties {
  const op = 'setBackendOptions';
  if ((device as string) === 'webgpu') fail(op, "the WebGPU backend has no options to change while it runs; choose its adapter and tuning with init({ backend: 'webgpu', ... })");
  if (device !== 'wasm') fail(op, `argument 'device' must be 'wasm', got ${JSON.stringify(device)}`);
  const t = options(op, opts, { threads: THREADS }).threads;
  const be = getBackend('wasm') as unknown as WasmBackend;
  if (t !== undefined) be.limitThreads(t === 'auto' ? be.threads : t);
  return getDeviceProperties('wasm');
}
