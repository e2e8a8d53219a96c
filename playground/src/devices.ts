// Which lepton backends this page can use, and the page's choice among them.
// "WASM" and "WASM threads" are one lepton backend (lepton keeps one WASM
// backend per page): it is started with threads where the page is
// cross-origin isolated, and lepton's setBackendOptions('wasm', { threads })
// switches between one thread and all of them before each piece of work.
import { describeDevice, getDeviceProperties, init, setBackendOptions, testing, type DeviceName, type RecoveryEvent } from 'lepton';
import type { BackendChoice, RaceBackend } from './state.js';

export interface DeviceInfo {
  /** Why a choice is unavailable, or null when it is usable. */
  unavailable: Record<RaceBackend, string | null>;
  /** What 'auto' resolves to. */
  auto: RaceBackend;
  /** Adapter / SIMD descriptions for the page. */
  describe: Record<RaceBackend, string>;
  /** Threads of the WASM backend (1 without cross-origin isolation). */
  threads: number;
  /** A software WebGPU adapter (SwiftShader): runs on the CPU, slower than WASM. */
  webgpuIsSoftware: boolean;
}

let info: DeviceInfo | null = null;
const recoveryListeners = new Set<(e: RecoveryEvent) => void>();

/** Called after lepton recovered from a lost GPU device (a new device, or its tensors moved to WASM). */
export function onDeviceRecovered(listener: (e: RecoveryEvent) => void): void {
  recoveryListeners.add(listener);
}

/**
 * lepton's device-loss recovery (on by default) keeps every tensor, the
 * optimizer state included, through a lost device: on a new device where the
 * browser gives one, else moved to WASM. The page only follows where the
 * tensors went.
 */
function recovered(e: RecoveryEvent): void {
  if (e.device !== 'webgpu') markWebGPULost(e.reason);
  for (const l of recoveryListeners) l(e);
}

/** The lepton device behind a choice. */
export const deviceOf = (c: RaceBackend): DeviceName => (c === 'webgpu' ? 'webgpu' : 'wasm');

export const LABELS: Record<RaceBackend, string> = { webgpu: 'WebGPU', wasm: 'WASM (1 thread)', 'wasm-threads': 'WASM threads' };

/**
 * Starts the WASM backend (with threads where allowed) and tries WebGPU.
 * Never throws: what is missing is recorded with the reason.
 */
export async function probeDevices(): Promise<DeviceInfo> {
  const unavailable: Record<RaceBackend, string | null> = { webgpu: null, wasm: null, 'wasm-threads': null };
  const describe: Record<RaceBackend, string> = { webgpu: '', wasm: '', 'wasm-threads': '' };
  await init({ backend: 'wasm', threads: 'auto' });
  const threads = getDeviceProperties('wasm').maxThreads;
  describe.wasm = `${describeDevice('wasm')}, 1 thread`;
  describe['wasm-threads'] = `${describeDevice('wasm')}, ${threads} threads`;
  if (threads < 2) {
    unavailable['wasm-threads'] = !globalThis.crossOriginIsolated
      ? 'WASM threads need SharedArrayBuffer, which browsers give only to cross-origin isolated pages (served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp).'
      : `this browser reports ${navigator.hardwareConcurrency ?? 1} core(s), or its worker threads could not start`;
  }
  // A software adapter (SwiftShader) runs WebGPU on the CPU: 'auto' then prefers WASM, as lepton's init() does.
  let hardwareGpu = false;
  try {
    await init({ backend: 'webgpu', recovery: { onRecovered: recovered } });
    describe.webgpu = describeDevice('webgpu');
    hardwareGpu = !getDeviceProperties('webgpu').fallbackAdapter;
  } catch (e) {
    unavailable.webgpu = !('gpu' in navigator)
      ? 'this browser has no WebGPU (navigator.gpu is missing). Chrome/Edge 113+, Safari 26 and Firefox 141+ (Windows) have it; Chromium on Linux needs --enable-unsafe-webgpu.'
      : /no adapter/.test((e as Error).message)
        ? 'the browser has WebGPU but offers no adapter (no supported GPU, or WebGPU is switched off; Chromium on Linux needs --enable-unsafe-webgpu).'
        : `WebGPU failed to start: ${(e as Error).message}`;
  }
  await init({ backend: 'wasm' }); // the page names a device for every tensor; keep the default on WASM
  const webgpuIsSoftware = !unavailable.webgpu && !hardwareGpu;
  const auto: RaceBackend = hardwareGpu ? 'webgpu' : !unavailable['wasm-threads'] ? 'wasm-threads' : 'wasm';
  info = { unavailable, auto, describe, threads, webgpuIsSoftware };
  return info;
}

export function deviceInfo(): DeviceInfo {
  if (!info) throw new Error('probeDevices() has not run');
  return info;
}

/** The usable backend for a choice: 'auto' resolved, an unavailable one replaced by WASM (with the reason). */
export function resolve(choice: BackendChoice): { backend: RaceBackend; note: string | null } {
  const d = deviceInfo();
  const want = choice === 'auto' ? d.auto : choice;
  const why = d.unavailable[want];
  if (!why) return { backend: want, note: null };
  const fallback: RaceBackend = want === 'webgpu' && !d.unavailable['wasm-threads'] ? 'wasm-threads' : 'wasm';
  return { backend: fallback, note: `${LABELS[want]} is unavailable: ${why} Training runs on ${LABELS[fallback]}.` };
}

/** Records that WebGPU is gone for good (lost, and no new device); later resolves fall back to WASM. */
function markWebGPULost(reason: string): void {
  deviceInfo().unavailable.webgpu = `the GPU device was lost (${reason}) and the browser gave no new one; reload the page to try WebGPU again.`;
}

/**
 * Makes the WASM backend split products over all its threads ('wasm-threads',
 * lepton's own policy: only products large enough to pay for waking a
 * worker) or keep them on one thread ('wasm'). Call before queuing WASM work;
 * WASM calls are synchronous, so two trainers can alternate settings safely.
 */
export function useThreads(c: RaceBackend): void {
  if (c === 'webgpu') return;
  setBackendOptions('wasm', { threads: c === 'wasm-threads' ? 'auto' : 1 });
}

/**
 * Test hook: loses lepton's real GPUDevice (lepton's testing.loseDevice), so
 * the page meets a genuine device loss, which lepton recovers from; with
 * `permanent`, as if no GPU came back (lepton moves the tensors to WASM).
 * Resolves to false where WebGPU is not in use.
 */
export async function loseWebGPUDevice(permanent = false): Promise<boolean> {
  if (deviceInfo().unavailable.webgpu) return false;
  await testing.loseDevice('webgpu', { permanent });
  return true;
}
