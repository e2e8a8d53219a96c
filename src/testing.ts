// Helpers for testing code that uses lepton: faults that are hard to cause on
// purpose. Exported as the `testing` namespace.
import type { DeviceName } from './backends/backend.js';
import { getBackend } from './backends/registry.js';
import { fail } from './errors.js';

export interface LoseDeviceOptions {
  /**
   * The GPU does not come back (as after a removed GPU or a driver that
   * keeps failing): recovery gets no new device and moves the tensors to
   * WASM. Default false: recovery asks for a new device as usual.
   */
  permanent?: boolean;
}

/**
 * Simulates losing the GPU: destroys the WebGPU backend's real GPUDevice, so
 * that lepton meets a genuine `device.lost` (reason 'destroyed') exactly as
 * after a driver reset or a removed GPU. Resolves once the backend has seen
 * the loss. With recovery on (the default) the backend then re-creates its
 * device, or moves to WASM, and replays its journal in the background: work
 * and reads carry on and resolve with the right values. With
 * `init({ recovery: false })` pending and new reads reject and new work
 * throws. The WASM backend is unaffected.
 *
 *   await testing.loseDevice('webgpu');
 *   await testing.loseDevice('webgpu', { permanent: true });   // continue on WASM
 */
export async function loseDevice(device: DeviceName = 'webgpu', opts: LoseDeviceOptions = {}): Promise<void> {
  if (device !== 'webgpu') {
    fail('testing.loseDevice', `only the WebGPU backend has a device to lose, got ${JSON.stringify(device)}`);
  }
  const be = getBackend('webgpu') as unknown as { device?: GPUDevice; recovery?: { refuseReconnect: boolean } | null };
  const gpu = be.device;
  if (!gpu) fail('testing.loseDevice', "the 'webgpu' backend holds no GPUDevice (its tensors moved to WASM after an earlier loss?)");
  if (opts.permanent && be.recovery) be.recovery.refuseReconnect = true;
  gpu.destroy();
  // The backend's own `lost` handler was attached first, so it has run when this resolves.
  await gpu.lost;
}
