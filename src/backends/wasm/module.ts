// Loads the AssemblyScript kernel module (kernels-as/, built by
// `npm run build:wasm`). Four builds of the same source exist: plain SIMD128
// and SIMD128 + relaxed SIMD (fused multiply-add in the matmul), each with a
// private memory and with a shared one (threads: the same module instantiated
// in worker threads on one memory). The relaxed ones are used where the engine
// validates them (browsers today; Node 20 only with
// --experimental-wasm-relaxed-simd). All are embedded as bytes.
import relaxedMtBytes from '../../../build/lepton-relaxed-mt.wasm';
import relaxedBytes from '../../../build/lepton-relaxed.wasm';
import simdMtBytes from '../../../build/lepton-simd-mt.wasm';
import simdBytes from '../../../build/lepton-simd.wasm';
import type { KernelExports } from './kernel-exports.gen.js';

export type Flavour = 'relaxed' | 'simd';

export type { KernelExports } from './kernel-exports.gen.js';

const BYTES: Record<Flavour, { private: Uint8Array<ArrayBuffer>; shared: Uint8Array<ArrayBuffer> }> = {
  relaxed: { private: relaxedBytes, shared: relaxedMtBytes },
  simd: { private: simdBytes, shared: simdMtBytes },
};
const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Whether this engine accepts the module of that flavour. */
export function supports(flavour: Flavour): boolean {
  return WebAssembly.validate(BYTES[flavour].private);
}

/** The flavour to use for `want`, or an Error saying why none fits. */
export function pickFlavour(want: 'auto' | Flavour): Flavour {
  if (want === 'relaxed' && !supports('relaxed')) {
    throw new Error('lepton wasm: relaxed SIMD was requested but this engine does not support it '
      + '(Node 20 needs --experimental-wasm-relaxed-simd); use { simd: "auto" } to fall back to SIMD128');
  }
  if (want === 'auto' && supports('relaxed')) return 'relaxed';
  if (!supports('simd')) throw new Error('lepton wasm: this engine does not support WebAssembly SIMD128');
  return want === 'relaxed' ? 'relaxed' : 'simd';
}

/** The compiled module of `flavour` (cached): the shared-memory build when `shared`. */
export function compile(flavour: Flavour, shared: boolean): Promise<WebAssembly.Module> {
  const key = `${flavour}${shared ? '-mt' : ''}`;
  let module = compiled.get(key);
  if (!module) {
    module = WebAssembly.compile(shared ? BYTES[flavour].shared : BYTES[flavour].private);
    compiled.set(key, module);
    module.catch(() => compiled.delete(key)); // let a later call retry
  }
  return module;
}

/** Instantiates the kernels on `memory` (the module's only import). */
export async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
