// Loads the AssemblyScript kernel module (kernels-as/, built by
// `npm run build:wasm`). Two builds of the same source exist: plain SIMD128,
// and SIMD128 + relaxed SIMD (fused multiply-add in the matmul). The relaxed
// one is used where the engine validates it (browsers today; Node 20 only with
// --experimental-wasm-relaxed-simd). Both are embedded as bytes.
import relaxedBytes from '../../../build/lepton-relaxed.wasm';
import simdBytes from '../../../build/lepton-simd.wasm';

export type Flavour = 'relaxed' | 'simd';

/** The kernels' exports; pointers are byte addresses, booleans are 0/1. */
export interface KernelExports {
  heapBase(): number;
  matmulScratch(M: number, N: number, K: number): number;
  matmul(a: number, b: number, bias: number, out: number, batch: number, M: number, N: number, K: number,
    transA: number, transB: number, strideA: number, strideB: number, act: number, scratch: number): void;
  unary(op: number, x: number, out: number, n: number, alpha: number, beta: number): void;
  binary(op: number, a: number, b: number, out: number, rank: number, dims: number): void;
  fill(out: number, n: number, value: number): void;
  reduceScratch(op: number, rows: number, inner: number): number;
  reduce(op: number, x: number, out: number, outer: number, rows: number, inner: number, scratch: number): void;
  softmax(x: number, out: number, rows: number, cols: number, log: number): void;
  strided(x: number, out: number, rank: number, dims: number, offset: number): void;
  sgd(p: number, g: number, v: number, n: number, lr: number, momentum: number, weightDecay: number, nesterov: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, decoupled: number, bc1: number, bc2: number): void;
}

const BYTES: Record<Flavour, Uint8Array<ArrayBuffer>> = { relaxed: relaxedBytes, simd: simdBytes };
const compiled = new Map<Flavour, Promise<WebAssembly.Module>>();

/** Whether this engine accepts the module of that flavour. */
export function supports(flavour: Flavour): boolean {
  return WebAssembly.validate(BYTES[flavour]);
}

/** The flavour to use for `want`, or an Error saying why none fits. */
export function pickFlavour(want: 'auto' | Flavour): Flavour {
  if (want === 'relaxed' && !supports('relaxed')) {
    throw new Error('wasm backend: relaxed SIMD was requested but this engine does not support it '
      + '(Node 20 needs --experimental-wasm-relaxed-simd); use { simd: "auto" } to fall back to SIMD128');
  }
  if (want === 'auto' && supports('relaxed')) return 'relaxed';
  if (!supports('simd')) throw new Error('wasm backend: this engine does not support WebAssembly SIMD128');
  return want === 'relaxed' ? 'relaxed' : 'simd';
}

/** Instantiates the kernels of `flavour` on `memory` (the module's only import). */
export async function instantiate(flavour: Flavour, memory: WebAssembly.Memory): Promise<KernelExports> {
  let module = compiled.get(flavour);
  if (!module) compiled.set(flavour, (module = WebAssembly.compile(BYTES[flavour])));
  const instance = await WebAssembly.instantiate(await module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
