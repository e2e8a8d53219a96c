// Helpers for testing code that uses lepton: faults that are hard to cause on
// purpose. Exported as the `testing` namespace.
import type { DeviceName } from './backends/backend.js';
import { getBackend } from './backends/registry.js';
import { fail } from './errors.js';

/**
 * Simulates losing the GPU: destroys the WebGPU backend's real GPUDevice, so
 * that lepton meets a genuine `device.lost` (reason 'destroyed') exactly as
 * after a driver reset or a removed GPU. Resolves once the backend has seen
 * the loss: from then on pending and new reads reject and new work throws
 * (the WASM backend is unaffected). The lost backend stays registered; in
 * this version a page or process that wants WebGPU again starts afresh.
 *
 *   await testing.loseDevice('webgpu');
 */
export async function loseDevice(device: DeviceName = 'webgpu'): Promise<void> {
  if (device !== 'webgpu') {
    fail('testing.loseDevice', `only the WebGPU backend has a device to lose, got ${JSON.stringify(device)}`);
  }
  const be = getBackend('webgpu') as unknown as { device?: GPUDevice };
  const gpu = be.device;
  if (!gpu) fail('testing.loseDevice', 'the WebGPU backend holds no GPUDevice');
  gpu.destroy();
  // The backend's own `lost` handler was attached first, so it has run when this resolves.
  await gpu.lost;
}
