// The WebAssembly backend: every kernel runs synchronously on the calling
// thread, on storage in one linear memory owned by this backend.
import {
  ACTIVATIONS, BINARY_OPS, MAX_RANK, REDUCE_OPS, UNARY_OPS,
  type AdamParams, type Backend, type BinaryOp, type BroadcastParams, type MatmulParams, type ReduceOp,
  type ReduceParams, type SgdParams, type StridedParams, type UnaryOp,
} from '../backend.js';
import { collapse } from '../collapse.js';
import { LinearMemory, MAX_PAGES, PAGE_BYTES } from './memory.js';
import { instantiate, pickFlavour, type Flavour, type KernelExports } from './module.js';

/** Storage for `n` f32 values at byte address `ptr` of the backend's memory. */
export class WasmHandle {
  /** False once freed: a freed handle is refused by every kernel. */
  live = true;
  constructor(readonly ptr: number, readonly n: number, readonly size: number) {}
}

export interface WasmBackendOptions {
  /** Which module: relaxed SIMD where available ('auto', the default), or force one. */
  simd?: 'auto' | Flavour;
}

/** Bytes of the block the strided kernels read shape/strides from (4 x MAX_RANK i32s). */
const DIMS_BYTES = 4 * MAX_RANK * 4;
const INITIAL_PAGES = 16; // 1 MiB; grows on demand

export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  const flavour = pickFlavour(opts.simd ?? 'auto');
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES });
  const kernels = await instantiate(flavour, memory);
  const heapBase = kernels.heapBase() >>> 0;
  if (heapBase > INITIAL_PAGES * PAGE_BYTES) memory.grow(Math.ceil(heapBase / PAGE_BYTES) - INITIAL_PAGES);
  return new WasmBackend(flavour, kernels, new LinearMemory(memory, heapBase));
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export class WasmBackend implements Backend<WasmHandle> {
  readonly name = 'wasm' as const;
  readonly description: string;
  private readonly dims: WasmHandle;
  private destroyed = false;

  constructor(
    /** 'relaxed': SIMD128 + relaxed SIMD (fused multiply-add); 'simd': SIMD128 only. */
    readonly flavour: Flavour,
    private readonly k: KernelExports,
    private readonly mem: LinearMemory,
  ) {
    this.description = flavour === 'relaxed'
      ? 'WebAssembly SIMD128 + relaxed SIMD (f32x4.relaxed_madd)'
      : 'WebAssembly SIMD128';
    this.dims = this.alloc(DIMS_BYTES / 4);
  }

  /** The backend's linear memory (for interop: a view over it must be re-made after it grows). */
  get memory(): WebAssembly.Memory { return this.mem.memory; }

  alloc(n: number): WasmHandle {
    this.alive();
    if (!Number.isInteger(n) || n < 0) throw new Error(`wasm backend: alloc(n) needs a non-negative integer, got ${n}`);
    const { ptr, size } = this.mem.alloc(n * 4);
    return new WasmHandle(ptr, n, size);
  }

  free(h: WasmHandle): void {
    this.alive();
    if (!h.live) throw new Error('wasm backend: storage freed twice');
    h.live = false;
    this.mem.free(h.ptr, h.size);
  }

  write(h: WasmHandle, data: Float32Array): void {
    this.check(h, data.length, 'write');
    this.mem.f32.set(data, h.ptr / 4);
  }

  readSync(h: WasmHandle, n: number): Float32Array {
    this.check(h, n, 'read');
    const at = h.ptr / 4;
    return this.mem.f32.slice(at, at + n);
  }

  read(h: WasmHandle, n: number): Promise<Float32Array> {
    try {
      return Promise.resolve(this.readSync(h, n));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  fill(out: WasmHandle, n: number, value: number): void {
    this.check(out, n, 'fill');
    this.k.fill(out.ptr, n, value);
  }

  matmul(a: WasmHandle, b: WasmHandle, bias: WasmHandle | null, out: WasmHandle, p: MatmulParams): void {
    const { batch, M, N, K } = p;
    const total = batch * M * N;
    this.check(out, total, 'matmul out');
    if (total === 0) return;
    this.check(a, p.strideA * (batch - 1) + M * K, 'matmul A');
    this.check(b, p.strideB * (batch - 1) + K * N, 'matmul B');
    if (bias) this.check(bias, N, 'matmul bias');
    this.withScratch(this.k.matmulScratch(M, N, K), (scratch) => this.k.matmul(a.ptr, b.ptr, bias ? bias.ptr : 0, out.ptr,
      batch, M, N, K, +p.transA, +p.transB, p.strideA, p.strideB, ACTIVATIONS[p.act], scratch));
  }

  unary(op: UnaryOp, x: WasmHandle, out: WasmHandle, n: number, alpha = 1, beta = 0): void {
    this.check(x, n, `unary ${op} input`);
    this.check(out, n, `unary ${op} output`);
    this.k.unary(UNARY_OPS[op], x.ptr, out.ptr, n, alpha, beta);
  }

  binary(op: BinaryOp, a: WasmHandle, b: WasmHandle, out: WasmHandle, p: BroadcastParams): void {
    const n = size(p.shape);
    this.check(out, n, `binary ${op} output`);
    if (n === 0) return;
    this.check(a, reach(`binary ${op} a`, p.shape, p.aStrides), `binary ${op} a`);
    this.check(b, reach(`binary ${op} b`, p.shape, p.bStrides), `binary ${op} b`);
    const c = collapse(p.shape, [p.aStrides, p.bStrides]);
    const rank = this.writeDims(c.shape.length ? c.shape : [1], c.shape.length ? c.strides : [[0], [0]]);
    this.k.binary(BINARY_OPS[op], a.ptr, b.ptr, out.ptr, rank, this.dims.ptr);
  }

  reduce(op: ReduceOp, x: WasmHandle, out: WasmHandle, p: ReduceParams): void {
    this.check(out, p.outer * p.inner, `reduce ${op} output`);
    this.check(x, p.outer * p.reduce * p.inner, `reduce ${op} input`);
    this.withScratch(this.k.reduceScratch(REDUCE_OPS[op], p.reduce, p.inner),
      (scratch) => this.k.reduce(REDUCE_OPS[op], x.ptr, out.ptr, p.outer, p.reduce, p.inner, scratch));
  }

  softmax(x: WasmHandle, out: WasmHandle, rows: number, cols: number, log: boolean): void {
    this.check(x, rows * cols, 'softmax input');
    this.check(out, rows * cols, 'softmax output');
    this.k.softmax(x.ptr, out.ptr, rows, cols, +log);
  }

  strided(x: WasmHandle, out: WasmHandle, p: StridedParams): void {
    const n = size(p.shape);
    this.check(out, n, 'strided output');
    if (n === 0) return;
    this.check(x, reach('strided input', p.shape, p.strides, p.offset), 'strided input');
    const c = collapse(p.shape, [p.strides]);
    const rank = this.writeDims(c.shape, c.strides);
    this.k.strided(x.ptr, out.ptr, rank, this.dims.ptr, p.offset);
  }

  sgd(param: WasmHandle, grad: WasmHandle, velocity: WasmHandle | null, n: number, p: SgdParams): void {
    for (const [h, what] of [[param, 'param'], [grad, 'grad'], [velocity, 'velocity']] as const) if (h) this.check(h, n, `sgd ${what}`);
    this.k.sgd(param.ptr, grad.ptr, velocity ? velocity.ptr : 0, n, p.lr, p.momentum, p.weightDecay, +p.nesterov);
  }

  adam(param: WasmHandle, grad: WasmHandle, m: WasmHandle, v: WasmHandle, n: number, p: AdamParams): void {
    for (const [h, what] of [[param, 'param'], [grad, 'grad'], [m, 'm'], [v, 'v']] as const) this.check(h, n, `adam ${what}`);
    this.k.adam(param.ptr, grad.ptr, m.ptr, v.ptr, n, p.lr, p.beta1, p.beta2, p.eps, p.weightDecay, +p.decoupled,
      p.biasCorrection1, p.biasCorrection2);
  }

  flush(): void {}

  destroy(): void {
    this.destroyed = true;
  }

  /** Runs `run` with a scratch block of `bytes` bytes (none when 0), freed afterwards. */
  private withScratch(bytes: number, run: (ptr: number) => void): void {
    if (bytes <= 0) return run(0);
    const block = this.mem.alloc(bytes);
    try {
      run(block.ptr);
    } finally {
      this.mem.free(block.ptr, block.size);
    }
  }

  /** Writes shape and up to two stride lists into the dims block; returns the rank. */
  private writeDims(shape: readonly number[], strides: readonly (readonly number[])[]): number {
    const i32 = new Int32Array(this.mem.memory.buffer, this.dims.ptr, 4 * MAX_RANK);
    i32.fill(0);
    i32.set(shape, 0);
    strides.forEach((s, k) => i32.set(s, MAX_RANK * (k + 1)));
    return shape.length;
  }

  private alive(): void {
    if (this.destroyed) throw new Error('wasm backend: used after destroy()');
  }

  /** Refuses freed handles and handles too small for `n` values (a kernel would run past them). */
  private check(h: WasmHandle, n: number, what: string): void {
    this.alive();
    if (!h.live) throw new Error(`wasm backend: ${what}: storage used after free()`);
    if (n > h.n) throw new Error(`wasm backend: ${what}: needs ${n} values but the storage holds ${h.n}`);
  }
}

/**
 * Values a strided view at `offset` needs in its storage (highest element
 * reached + 1); throws if a negative stride reaches below element 0.
 */
function reach(what: string, shape: readonly number[], strides: readonly number[], offset = 0): number {
  let lo = offset, hi = offset;
  for (let d = 0; d < shape.length; d++) {
    const step = (shape[d] - 1) * strides[d];
    if (step < 0) lo += step;
    else hi += step;
  }
  if (lo < 0) throw new Error(`wasm backend: ${what}: strides [${strides}] from offset ${offset} reach element ${lo}`);
  return hi + 1;
}
