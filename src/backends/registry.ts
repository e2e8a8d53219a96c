// Which backends are initialised, and which one new tensors go to.
import { fail } from '../errors.js';
import type { Backend, DeviceName } from './backend.js';
import { describe, options } from '../options.js';
import { checkRestart, INIT_OPTIONS, recordStart } from './init-options.js';
import { isNode } from './node-import.js';
import { dawnUnavailable } from './webgpu/gpu.js';
import { checkRecoveryOptions, type RecoveryOptions } from './recovery.js';

export interface InitOptions {
  /**
   * 'auto' (default): WebGPU on a hardware adapter, else WASM. A software
   * (fallback) WebGPU adapter such as SwiftShader is slower than the WASM
   * kernels, so 'auto' only takes it when `allowFallbackAdapter` is true.
   * 'webgpu' / 'wasm' force one backend and throw if it is unavailable.
   */
  backend?: 'auto' | DeviceName;
  /** Let 'auto' pick a software WebGPU adapter. 'webgpu' always accepts one. */
  allowFallbackAdapter?: boolean;
  /** WASM module: 'auto' takes relaxed SIMD where the runtime validates it. */
  simd?: 'auto' | 'relaxed' | 'simd';
  /**
   * WASM threads, the calling one included. 'auto' (default): one per core
   * (at most 8) where shared memory works (Node; browsers only when
   * crossOriginIsolated), else 1.
   */
  threads?: number | 'auto';
  /**
   * Time a few matmul tile configurations on this adapter before first use
   * and keep the fastest (cached per adapter for the process). Default: on
   * for hardware adapters, off for software ones (where compiling the
   * candidates is slow). `{ budgetMs }` bounds the time it may take.
   */
  autotune?: boolean | { budgetMs?: number; force?: boolean };
  /** A tuning saved from the WebGPU backend's getTuning() (e.g. in localStorage); ignored if made on another adapter. */
  webgpuTuning?: unknown;
  /** Passed to requestAdapter (the values of WebGPU's GPUPowerPreference, spelled out so consumers need no WebGPU types). */
  powerPreference?: 'low-power' | 'high-performance';
  /**
   * WebGPU device-loss recovery (default on): the backend journals its work
   * and keeps host checkpoints, so that after a lost device it continues on a
   * new one, or moves its tensors to WASM, with nothing lost (README, "When
   * the GPU is lost"). false turns it off; an object tunes the checkpoints.
   */
  recovery?: boolean | RecoveryOptions;
}

const ready = new Map<DeviceName, Backend>();
/** A backend that took over another's tensors after its device was lost for good: 'webgpu' -> the WASM backend. */
const movedTo = new Map<DeviceName, Backend>();
const pending = new Map<DeviceName, Promise<Backend | null>>();
let current: Backend | null = null;

/** Recovery moved every storage of `from` to `to`: the name and the default follow them. */
function moved(from: Backend, to: Backend): void {
  if (ready.get(from.name) === from) {
    ready.delete(from.name);
    movedTo.set(from.name, to);
  }
  if (current === from) current = to;
  console.warn(`lepton: the ${from.name} device was lost and no new one could be had; its tensors moved to the ${to.name} backend, `
    + `which '${from.name}' now names until init({ backend: '${from.name}' }) starts a new one`);
}

async function start(name: DeviceName, opts: InitOptions, allowFallback: boolean): Promise<Backend | null> {
  const have = ready.get(name);
  if (have && !have.lost) {
    checkRestart(have, opts);
    return have;
  }
  if (have) ready.delete(name); // its device is gone for good: start afresh
  let p = pending.get(name);
  if (!p) {
    // Loaded on demand: a WASM-only program never evaluates the WebGPU code, and the reverse.
    const made: Promise<Backend | null> = name === 'wasm'
      ? import('./wasm/backend.js').then((m) => m.createWasmBackend({ simd: opts.simd ?? 'auto', threads: opts.threads ?? 'auto' }))
      : import('./webgpu/backend.js').then((m) => m.createWebGPUBackend({
        allowFallbackAdapter: allowFallback, powerPreference: opts.powerPreference, autotune: opts.autotune, tuning: opts.webgpuTuning,
        recovery: opts.recovery,
        recoveryHooks: {
          fallback: async () => (await start('wasm', opts, false)) ?? fail('lepton', 'the WASM backend failed to start'),
          moved,
        },
      }));
    p = made.finally(() => pending.delete(name));
    pending.set(name, p);
  }
  const be = await p;
  if (be) {
    if (!ready.has(name)) recordStart(be, opts);
    ready.set(name, be);
    movedTo.delete(name);
  }
  return be;
}

/** @internal Makes `be` the backend of its name and the default (benchmarks swap WASM thread counts). */
export function useBackend(be: Backend): void {
  ready.set(be.name, be);
  current = be;
}

/**
 * Initialises a backend and makes it the default for new tensors. Returns its
 * name. Calling it again switches the default; initialised backends stay
 * usable (tensors carry their device).
 */
export async function init(options_?: InitOptions): Promise<DeviceName> {
  const opts = options('init', options_, INIT_OPTIONS);
  const want = opts.backend ?? 'auto';
  checkRecoveryOptions(opts.recovery);
  let be: Backend | null = null;
  if (want === 'webgpu' || want === 'auto') {
    be = await start('webgpu', opts, want === 'webgpu' || opts.allowFallbackAdapter === true);
    if (!be && want === 'webgpu') {
      const where = typeof navigator !== 'undefined' && 'gpu' in navigator ? 'navigator.gpu gave no adapter'
        : isNode ? dawnUnavailable() ?? "Dawn's 'webgpu' package gave no adapter (is a Vulkan/Metal/D3D12 driver present?)"
          : 'this environment has no navigator.gpu';
      fail('init', `the WebGPU backend is unavailable: ${where}. Use init({ backend: 'wasm' }) or init() to fall back.`);
    }
  }
  if (!be) be = await start('wasm', opts, false);
  if (!be) fail('init', 'the WASM backend failed to start');
  current = be;
  return be.name;
}

/** The default backend, or the named one; throws if it was never initialised. */
export function getBackend(name?: DeviceName): Backend {
  if (name === undefined) {
    if (!current) fail('lepton', 'no backend is initialised: call `await init()` first');
    return current;
  }
  if (name !== 'wasm' && name !== 'webgpu') fail('lepton', `unknown device ${describe(name)}; the devices are 'wasm' and 'webgpu'`);
  const be = ready.get(name) ?? movedTo.get(name);
  if (!be) fail('lepton', `the '${name}' backend is not initialised: call \`await init({ backend: '${name}' })\` first`);
  return be;
}

/** Name of the default device, or null before init(). */
export function currentDevice(): DeviceName | null {
  return current?.name ?? null;
}

/** A description of the device behind a backend (adapter name, SIMD flavour). */
export function describeDevice(name?: DeviceName): string {
  return getBackend(name).description;
}
