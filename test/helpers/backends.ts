// The backends every test file runs on. WASM always; WebGPU when an adapter
// exists. Under CI a missing adapter is an error: WebGPU tests never pass by
// being skipped there. Kernel tests use `backends` (including the plain-SIMD
// WASM module where relaxed SIMD is the default); op tests use `devices`.
import type { Backend, DeviceName } from '../../src/backends/backend.js';
import { relErr } from './error.js';
import { getBackend, init } from '../../src/backends/registry.js';

// LEPTON_TEST_BACKENDS=wasm (or webgpu) narrows a local run; CI always runs both.
const wanted = (process.env.CI ? '' : process.env.LEPTON_TEST_BACKENDS ?? '').split(',').filter(Boolean);
const want = (name: string) => wanted.length === 0 || wanted.includes(name);

async function load(): Promise<{ backends: Backend[]; devices: DeviceName[] }> {
  const backends: Backend[] = [];
  const devices: DeviceName[] = [];
  if (want('wasm')) {
    await init({ backend: 'wasm' });
    const be = getBackend('wasm');
    backends.push(be);
    devices.push('wasm');
    // Four configurations (relaxed SIMD or plain SIMD, private or shared memory): test them all.
    // The default above is relaxed (where the runtime has it) with one thread per core.
    const { createWasmBackend } = await import('../../src/backends/wasm/backend.js');
    if ((be as { flavour?: string }).flavour !== 'relaxed' && process.env.CI) {
      throw new Error('CI: relaxed SIMD is unavailable; run node with --experimental-wasm-relaxed-simd');
    }
    backends.push(await createWasmBackend({ threads: 1 }));
    backends.push(await createWasmBackend({ simd: 'simd', threads: 1 }));
    // Two threads on one shared memory, every product split (even 1x1): the threaded path on every shape.
    for (const simd of ['auto', 'simd'] as const) {
      const mt = await createWasmBackend({ simd, threads: 2 });
      mt.minFlopsPerThread = 0;
      backends.push(mt);
    }
  }
  if (want('webgpu')) {
    try {
      // No autotune in tests: tile choices stay deterministic (webgpu-tuning.test.ts covers autotune).
      await init({ backend: 'webgpu', autotune: false });
      backends.push(getBackend('webgpu'));
      devices.push('webgpu');
    } catch (e) {
      if (process.env.CI) {
        throw new Error('CI is set but the WebGPU backend did not start: install chromium-common and libvulkan1 '
          + `(SwiftShader) or set VK_ICD_FILENAMES; the WebGPU tests must run under CI.\n${(e as Error).message}`);
      }
      console.warn('\n' + '!'.repeat(78) + '\n!! WebGPU tests SKIPPED: no WebGPU adapter found.\n'
        + '!! Enable them with: apt-get install chromium-common libvulkan1 (SwiftShader),\n'
        + '!! or point VK_ICD_FILENAMES at a Vulkan driver. Under CI=true this is a failure.\n'
        + '!'.repeat(78) + '\n');
    }
  }
  if (backends.length === 0) throw new Error(`LEPTON_TEST_BACKENDS=${wanted} names no backend`);
  // Tests name their device explicitly; the default is WASM.
  if (devices.includes('wasm')) await init({ backend: 'wasm' });
  return { backends, devices };
}

const g = globalThis as { __leptonTestBackends?: ReturnType<typeof load> };
g.__leptonTestBackends ??= load();
const loaded = await g.__leptonTestBackends;
export const backends: Backend[] = loaded.backends;
export const devices: DeviceName[] = loaded.devices;

/** Uploads `data` into fresh storage. */
export function upload(be: Backend, data: ArrayLike<number>) {
  const h = be.alloc(data.length);
  be.write(h, Float32Array.from(data));
  return h;
}

/** Fresh storage filled with NaN, so any element a kernel forgets to write fails the comparison. */
export function poisoned(be: Backend, n: number) {
  const h = be.alloc(n);
  be.write(h, new Float32Array(n).fill(NaN));
  return h;
}

/**
 * "webgpu", "wasm-relaxed" or "wasm-simd", plus "-mt<threads>" for a threaded WASM backend
 * and "-split" where every product is split: which module and path ran matters to a failure.
 */
export function label(be: Backend): string {
  const { flavour, threads, minFlopsPerThread } = be as { flavour?: string; threads?: number; minFlopsPerThread?: number };
  if (!flavour) return be.name;
  const mt = threads && threads > 1 ? `-mt${threads}${minFlopsPerThread === 0 ? '-split' : ''}` : '';
  return `${be.name}-${flavour}${mt}`;
}

/**
 * Every backend's output must agree with the first backend's (WASM), not only
 * with the reference; relative to `scale` where given (see relErr).
 */
export function agree(outs: Float32Array[], where: string, tol = 1e-5, scale?: ArrayLike<number>) {
  for (let i = 1; i < outs.length; i++) {
    const d = relErr(outs[i], outs[0], scale ?? outs[0]);
    if (!(d <= tol)) throw new Error(`${label(backends[i])} vs ${label(backends[0])} disagree on ${where}: relative difference ${d}`);
  }
}
