// Loads the AssemblyScript kernel module (kernels-as/, built by
// `npm run build:wasm`). Two builds of the same source exist: plain SIMD128
// and SIMD128 + relaxed SIMD (fused multiply-add in the matmul). The relaxed
// one is used where the engine has relaxed SIMD (browsers today; Node 20 only
// with --experimental-wasm-relaxed-simd). Both are embedded gzipped (a third
// of the bytes) and unpacked with DecompressionStream on first use.
//
// Threads instantiate the same module in workers on one shared memory. The
// kernels use no atomics, so the shared-memory module differs from the
// private one only in the memory import's limits (shared, with a maximum):
// it is made here by rewriting those limits instead of being shipped too
// (test/wasm-module.test.ts checks it equals asc's own threads build).
import relaxedGz from '../../../build/lepton-relaxed.wasm.gz';
import simdGz from '../../../build/lepton-simd.wasm.gz';
import type { KernelExports } from './kernel-exports.gen.js';

export type Flavour = 'relaxed' | 'simd';

export type { KernelExports } from './kernel-exports.gen.js';

const GZIPPED: Record<Flavour, Uint8Array<ArrayBuffer>> = { relaxed: relaxedGz, simd: simdGz };

/** The maximum (64 KiB pages) of the shared memory import: the whole 32-bit address space, as asc's threads build declared. */
export const SHARED_MAXIMUM_PAGES = 65536;

// One-function modules that validate only where the engine has the feature:
// (func (result v128) v128.const 0), and the same through i32x4.relaxed_trunc_f32x4_s.
const probe = (body: number[]) => new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0,
  10, body.length + 4, 1, body.length + 2, 0, ...body, 0x0b]);
const V128_CONST = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const PROBES: Record<Flavour, Uint8Array<ArrayBuffer>> = { simd: probe(V128_CONST), relaxed: probe([...V128_CONST, 0xfd, 0x81, 0x02]) };

const unpacked = new Map<Flavour, Promise<Uint8Array<ArrayBuffer>>>();
const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Whether this engine accepts the module of that flavour (relaxed implies SIMD128: asc builds it with both). */
export function supports(flavour: Flavour): boolean {
  return WebAssembly.validate(PROBES.simd) && WebAssembly.validate(PROBES[flavour]);
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

/** The module's bytes as asc built it (private memory), unpacked once. */
export function kernelBytes(flavour: Flavour): Promise<Uint8Array<ArrayBuffer>> {
  let bytes = unpacked.get(flavour);
  if (!bytes) {
    if (typeof DecompressionStream === 'undefined') {
      return Promise.reject(new Error('lepton wasm: this engine has no DecompressionStream, which unpacks the embedded kernels'));
    }
    const stream = new Blob([GZIPPED[flavour]]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Response(stream).arrayBuffer().then((b) => new Uint8Array(b));
    unpacked.set(flavour, bytes);
    bytes.catch(() => unpacked.delete(flavour));
  }
  return bytes;
}

/** The compiled module of `flavour` (cached): the shared-memory variant when `shared`. */
export function compile(flavour: Flavour, shared: boolean): Promise<WebAssembly.Module> {
  const key = `${flavour}${shared ? '-mt' : ''}`;
  let module = compiled.get(key);
  if (!module) {
    module = kernelBytes(flavour).then((bytes) => WebAssembly.compile(shared ? withSharedMemory(bytes) : bytes));
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

/**
 * `bytes` (a module importing env.memory) with that import's limits made
 * shared, maximum SHARED_MAXIMUM_PAGES; every other byte is kept. Walks the
 * import section as the binary format defines it; throws on anything else.
 */
export function withSharedMemory(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const bad = (why: string): never => { throw new Error(`lepton wasm: cannot make the kernels' memory shared: ${why}`); };
  let at = 8;
  const u32 = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= bytes.length || shift > 28) bad('truncated LEB128');
      const b = bytes[at++];
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
    }
  };
  const name = (): string => { const n = u32(); at += n; return new TextDecoder().decode(bytes.subarray(at - n, at)); };
  const leb = (v: number): number[] => { const out = []; do { out.push((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)); v = Math.floor(v / 128); } while (v); return out; };
  const limits = (): void => { const flags = bytes[at++]; u32(); if (flags & 1) u32(); };

  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d || bytes[4] !== 1) bad('not a version 1 module');
  while (at < bytes.length) {
    const id = bytes[at++];
    const sizeAt = at;
    const size = u32();
    const start = at;
    if (start + size > bytes.length) bad('truncated section');
    if (id !== 2) { at = start + size; continue; }
    for (let count = u32(); count > 0; count--) {
      const where = `${name()}.${name()}`;
      const kind = bytes[at++];
      if (kind === 0) u32(); // function: type index
      else if (kind === 1) { at++; limits(); } // table: element type, limits
      else if (kind === 3) at += 2; // global: value type, mutability
      else if (kind === 4) { at++; u32(); } // tag: attribute, type index
      else if (kind === 2) {
        if (where !== 'env.memory') bad(`unexpected memory import ${where}`);
        const limitsAt = at;
        const flags = bytes[at++];
        if (flags > 1) bad(`memory limits flags ${flags} (shared or 64-bit already)`);
        const minimum = u32();
        if (flags & 1) u32();
        const limitsEnd = at;
        const section = [
          ...bytes.subarray(start, limitsAt), 0x03, ...leb(minimum), ...leb(SHARED_MAXIMUM_PAGES), ...bytes.subarray(limitsEnd, start + size),
        ];
        const head = [...bytes.subarray(0, sizeAt), ...leb(section.length), ...section];
        const rest = bytes.subarray(start + size);
        const out = new Uint8Array(head.length + rest.length);
        out.set(head);
        out.set(rest, head.length);
        return out;
      } else bad(`unknown import kind ${kind}`);
    }
    bad('no memory import');
  }
  return bad('no import section');
}
