// The WebGPU backend: storage handles are pooled GPU buffers; kernels are
// recorded into one pending command encoder (one compute pass) and submitted
// on flush(), on read(), before any write() and every BATCH dispatches.
// Per-dispatch parameters live in the uniform arena (uniforms.ts).
import {
  BINARY_OPS, MAX_RANK, REDUCE_OPS, UNARY_OPS, matmulSizes,
  type AdamParams, type Backend, type BinaryOp, type BroadcastParams, type MatmulParams, type PrepareWork,
  type ReduceOp, type ReduceParams, type SgdParams, type StridedParams, type UnaryOp,
} from '../backend.js';
import { collapse } from '../collapse.js';
import {
  adapterFields, adapterKey, autotune, cachedTuning, configFor, parseTuning, rememberTuning,
  type AutotuneOptions, type Tuning,
} from './autotune.js';
import { grid } from './dims.js';
import { getGPU } from './gpu.js';
import { isNode } from '../node-import.js';
import {
  TILE_LARGE, TILE_SMALL, planMatmul,
  type MatmulConfig, type MatmulShape, type ShapeClass,
} from './matmul-plan.js';
import { PipelineCache, type Kernel } from './pipelines.js';
import { ReadPacer } from './pacing.js';
import { BufferPool } from './pool.js';
import { SLOT_BYTES, UniformArena, type Slot } from './uniforms.js';

export type { AutotuneOptions, Tuning } from './autotune.js';
export type { MatmulConfig, MatmulShape, ShapeClass } from './matmul-plan.js';

/** Dispatches recorded before a submit is forced (also the uniform arena's slot count). */
const BATCH = 128;
/** Workgroup size of the one-invocation-per-element kernels. */
const WG = 256;
/** reduce_rows (workgroup tree) from this row length up; shorter rows fold one per invocation. */
const TREE_FROM = 128;
/** Chunk lengths of a multi-pass reduction (a pass only when the axis is over 4 chunks long). */
const ROW_CHUNK = 4096, COL_CHUNK = 256;
/**
 * Softmax rows up to this long run one per invocation (softmax_rows) instead
 * of one per workgroup with a tree: short rows on a GPU, and on a CPU adapter
 * (barriers are its slowest operation) rows a lane walks quickly.
 */
const SOFTMAX_ROWS_GPU = 32, SOFTMAX_ROWS_CPU = 1024;
/**
 * On a CPU adapter every block that reads a prologued operand also gathers
 * the prologue's tensor, so beyond this many output rows (B) or columns (A)
 * one elementwise pass applying it first is cheaper (fusedPrologueMaxReads).
 */
const PROLOGUE_PASS_FROM = 32;
/** Workgroup size of the row-per-invocation kernels. */
const ROWS_WG = 64;

/** `n` f32 values in a pooled GPU buffer (the buffer may be larger). */
export class GpuHandle {
  freed = false;
  constructor(readonly buffer: GPUBuffer, readonly n: number) {}
}

export interface WebGPUBackendOptions {
  /** Accept a software adapter (SwiftShader, WARP); default false: resolve null instead. */
  allowFallbackAdapter?: boolean;
  powerPreference?: GPUPowerPreference;
  /** Use this device instead of requesting one; it is not destroyed by destroy(). */
  device?: GPUDevice;
  /**
   * Run the matmul autotune before resolving: true / options, or false.
   * Default: on for hardware adapters, off for fallback (software) adapters.
   * Results already known for the adapter (this process, or `tuning`) are reused.
   */
  autotune?: boolean | AutotuneOptions;
  /** A tuning saved from getTuning() (e.g. in localStorage); ignored if it was made on another adapter. */
  tuning?: unknown;
}

/** Limits the kernels benefit from: ask for the adapter's best instead of the defaults. */
const WANTED_LIMITS = [
  'maxComputeWorkgroupStorageSize', 'maxStorageBufferBindingSize', 'maxBufferSize',
  'maxStorageBuffersPerShaderStage', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
] as const;

/**
 * Resolves null when there is no adapter, or when the only one is a fallback
 * (software) adapter and `allowFallbackAdapter` is not set.
 */
export async function createWebGPUBackend(opts: WebGPUBackendOptions = {}): Promise<WebGPUBackend | null> {
  if (opts.device) {
    const info = opts.device.adapterInfo;
    return tuned(new WebGPUBackend(opts.device, info, info?.isFallbackAdapter ?? false, false), opts);
  }
  const gpu = await getGPU();
  if (!gpu) return null;
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  } catch {
    return null;
  }
  if (!adapter) return null;
  const info = adapter.info;
  const fallback = info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  if (fallback && !opts.allowFallbackAdapter) return null;
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k];
  // Timestamps make autotune measurements exact; subgroups allow the CPU-adapter matmul (matmul-subgroup.wgsl).
  const requiredFeatures = (['timestamp-query', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'lepton' });
  } catch (e) {
    // An adapter that cannot give a device is no backend: let callers fall back (to WASM).
    console.warn(`lepton webgpu: requestDevice failed: ${(e as Error).message}`);
    return null;
  }
  return tuned(new WebGPUBackend(device, info, fallback, true), opts);
}

/** Installs a saved tuning and runs the autotune as `opts` asks (see WebGPUBackendOptions). */
async function tuned(be: WebGPUBackend, opts: WebGPUBackendOptions): Promise<WebGPUBackend> {
  if (opts.tuning !== undefined && opts.tuning !== null && !be.setTuning(opts.tuning)) {
    console.warn('lepton webgpu: the saved tuning is for another adapter or version; ignored');
  }
  const run = opts.autotune ?? !be.isFallbackAdapter;
  if (run) await be.autotune(typeof run === 'object' ? run : {});
  return be;
}

function describe(info: GPUAdapterInfo | undefined, fallback: boolean): string {
  const parts = info ? adapterFields(info).filter(Boolean) : [];
  const text = [...new Set(parts)].join(' ') || 'unknown adapter';
  return fallback ? `${text} (fallback adapter)` : text;
}

export class WebGPUBackend implements Backend<GpuHandle> {
  readonly name = 'webgpu' as const;
  readonly description: string;
  /**
   * Matmul kernel choice; 'auto' picks by shape class (tuned or heuristic). The
   * fixed choices run every product with that tiled config, or with the given
   * config: for tests and benchmarks.
   */
  matmulTiles: 'auto' | 'small' | 'large' | MatmulConfig = 'auto';
  /**
   * 'auto': fusedPrologueMaxReads states this adapter's measured limit; 'fused'
   * states Infinity, so plans always fuse the prologue (tests use it to cover that path).
   */
  matmulPrologue: 'auto' | 'fused' = 'auto';
  /** Identity of the adapter, which a tuning is keyed by. */
  readonly adapterKey: string;
  /**
   * The device has subgroups of exactly 4 invocations (SwiftShader), which
   * matmul-subgroup.wgsl is written for.
   */
  readonly subgroups4: boolean;
  private tuning: Tuning | null;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private readonly arena: UniformArena;
  private readonly pipelines: PipelineCache;
  /** Bound where a kernel declares an optional input (bias) or output (column sums) that is absent. */
  private readonly dummy: GPUBuffer;
  private readonly dummyOut: GPUBuffer;
  private readonly maxGroups: number;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dead: Error | null = null;
  private gpuError: Error | null = null;
  /** Work recorded since the last submit (see pacing.ts). */
  private unsubmitted = 0;
  private readonly pacer: ReadPacer;

  constructor(
    readonly device: GPUDevice,
    info: GPUAdapterInfo | undefined,
    readonly isFallbackAdapter: boolean,
    private readonly ownsDevice: boolean,
  ) {
    this.description = describe(info, isFallbackAdapter);
    this.adapterKey = adapterKey(info);
    const sub = info as { subgroupMinSize?: number; subgroupMaxSize?: number } | undefined;
    this.subgroups4 = device.features.has('subgroups') && sub?.subgroupMinSize === 4 && sub?.subgroupMaxSize === 4;
    this.tuning = cachedTuning(this.adapterKey) ?? null;
    const lim = device.limits;
    const maxBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    this.pool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'lepton tensor', maxBytes);
    this.staging = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'lepton readback', lim.maxBufferSize);
    this.arena = new UniformArena(device, BATCH);
    this.pipelines = new PipelineCache(device);
    this.dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'lepton unused binding' });
    // A separate one: a buffer may not be bound writable and read-only in one dispatch.
    this.dummyOut = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'lepton unused output' });
    this.maxGroups = lim.maxComputeWorkgroupsPerDimension;
    this.pacer = new ReadPacer(isFallbackAdapter && isNode);
    device.lost.then((info) => {
      this.dead ??= new Error(`lepton webgpu: the GPU device was lost (${info.reason}): ${info.message || 'no message'}; create a new backend`);
      this.encoder = null;
      this.pass = null;
    });
    // Validation and out-of-memory errors surface at the next read() instead of as silently wrong data.
    device.addEventListener('uncapturederror', (e) => {
      this.gpuError ??= new Error(`lepton webgpu: GPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
    });
  }

  // ---- memory ----

  alloc(n: number): GpuHandle {
    this.live();
    if (!Number.isInteger(n) || n < 0) throw new Error(`lepton webgpu: alloc(n) needs a non-negative integer, got ${n}`);
    const bytes = n * 4;
    const lim = this.device.limits;
    if (bytes > lim.maxStorageBufferBindingSize) {
      throw new Error(`lepton webgpu: alloc of ${n} f32 (${bytes} bytes) exceeds the device's maxStorageBufferBindingSize (${lim.maxStorageBufferBindingSize} bytes)`);
    }
    if (bytes > lim.maxBufferSize) {
      throw new Error(`lepton webgpu: alloc of ${n} f32 (${bytes} bytes) exceeds the device's maxBufferSize (${lim.maxBufferSize} bytes)`);
    }
    return new GpuHandle(this.pool.acquire(bytes), n);
  }

  free(h: GpuHandle): void {
    if (h.freed) throw new Error('lepton webgpu: storage freed twice');
    h.freed = true;
    if (!this.dead) this.pool.release(h.buffer);
  }

  write(h: GpuHandle, data: Float32Array): void {
    this.live();
    this.check(h, data.length, 'write');
    if (data.length === 0) return;
    // A pooled buffer may still be read by recorded, unsubmitted dispatches:
    // writeBuffer would overtake them, so submit them first.
    this.flush();
    this.device.queue.writeBuffer(h.buffer, 0, data);
  }

  async read(h: GpuHandle, n: number): Promise<Float32Array> {
    this.live();
    this.check(h, n, 'read');
    const bytes = n * 4;
    if (bytes === 0) {
      this.flush();
      await this.untilLost(this.device.queue.onSubmittedWorkDone());
      return new Float32Array(0);
    }
    const staging = this.staging.acquire(bytes);
    this.copy(h.buffer, 0, staging, bytes);
    this.flush();
    await this.pacer.beforeMap();
    await this.untilLost(staging.mapAsync(GPUMapMode.READ, 0, bytes));
    this.pacer.completed();
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.staging.release(staging);
    this.throwGpuError();
    return out;
  }

  // ---- kernels ----

  fill(out: GpuHandle, n: number, value: number): void {
    this.check(out, n, 'fill');
    this.dispatch({ file: 'elementwise', entry: 'fill', constants: { WG } }, [out.buffer], Math.ceil(n / WG), (s) => s.u(0, n).f(1, value));
  }

  unary(op: UnaryOp, x: GpuHandle, out: GpuHandle, n: number, alpha = 1, beta = 0): void {
    this.check(x, n, `unary ${op}`);
    this.check(out, n, `unary ${op}`);
    const code = UNARY_OPS[op];
    if (code === undefined) throw new Error(`lepton webgpu: unknown unary op ${op}`);
    const inPlace = x.buffer === out.buffer;
    this.dispatch(
      { file: 'elementwise', entry: inPlace ? 'unary_inplace' : 'unary', constants: { WG, OP: code } },
      inPlace ? [x.buffer] : [x.buffer, out.buffer], Math.ceil(n / WG),
      (s) => s.u(0, n).f(1, alpha).f(2, beta),
    );
  }

  binary(op: BinaryOp, a: GpuHandle, b: GpuHandle, out: GpuHandle, p: BroadcastParams): void {
    const code = BINARY_OPS[op];
    if (code === undefined) throw new Error(`lepton webgpu: unknown binary op ${op}`);
    if (p.shape.length > MAX_RANK) throw new Error(`lepton webgpu: binary ${op}: rank ${p.shape.length} exceeds ${MAX_RANK}`);
    const n = p.shape.reduce((x, y) => x * y, 1);
    this.check(out, n, `binary ${op}`);
    if (n === 0) return;
    const c = collapse(p.shape, [p.aStrides, p.bStrides]);
    const [sa, sb] = c.strides;
    const contiguous = c.shape.length === 1 && sa[0] === 1 && sb[0] === 1;
    this.aliasSafe(out, [a, b], n, (dst) => {
      if (contiguous) {
        const four = n % 4 === 0;
        this.dispatch({ file: 'elementwise', entry: four ? 'binary_contig4' : 'binary_contig', constants: { WG, OP: code } },
          [a.buffer, b.buffer, dst], Math.ceil(n / (four ? 4 * WG : WG)), (s) => s.u(0, n));
        return;
      }
      this.dispatch({ file: 'elementwise', entry: 'binary_strided', constants: { WG, OP: code } },
        [a.buffer, b.buffer, dst], Math.ceil(n / WG), (s) => {
          c.shape.forEach((d, i) => { s.u(i, d).u(8 + i, sa[i]).u(16 + i, sb[i]); });
          s.u(24, n).u(25, c.shape.length);
        });
    });
  }

  matmul(a: GpuHandle, b: GpuHandle, bias: GpuHandle | null, out: GpuHandle, p: MatmulParams<GpuHandle>): void {
    const { N, K } = p;
    const { total, sizeA, sizeB } = matmulSizes(p, 'lepton webgpu');
    this.check(out, total, 'matmul');
    if (sizeA) this.check(a, sizeA, 'matmul A');
    if (sizeB) this.check(b, sizeB, 'matmul B');
    if (bias) this.check(bias, N, 'matmul bias');
    const pro = p.prologue ?? null;
    if (pro) this.check(pro.t, pro.on === 'a' ? sizeA : sizeB, 'matmul prologue t');
    const sumB = p.sumB ?? null;
    if (sumB) {
      this.check(sumB, N, 'matmul sumB');
      if (sumB.buffer === out.buffer) throw new Error('lepton webgpu: matmul sumB and out must be distinct storage');
    }
    if (total === 0) return;
    const plan = this.planMatmul({ ...p, bias: bias !== null, sumB: sumB !== null, prologue: pro });
    const inputs = [a, b, bias, pro?.t ?? null];
    this.aliasSafe(out, inputs, total, (dst) => this.aliasSafe(sumB, inputs, N, (sums) => {
      this.dispatch(plan.kernel, [a.buffer, b.buffer, bias?.buffer ?? this.dummy, dst, pro?.t.buffer ?? this.dummy, sums ?? this.dummyOut],
        plan.groups, plan.params, 2 * total * K);
    }));
  }

  /** See Backend.fusedPrologueMaxReads: a GPU fuses any prologue; a CPU adapter up to PROLOGUE_PASS_FROM. */
  get fusedPrologueMaxReads(): number {
    return this.matmulPrologue === 'auto' && this.isFallbackAdapter ? PROLOGUE_PASS_FROM : Infinity;
  }

  /** The kernel config for a shape class: forced (matmulTiles), tuned, or the heuristic default. */
  private pickConfig(cls: ShapeClass): MatmulConfig {
    const f = this.matmulTiles;
    if (f === 'small') return TILE_SMALL;
    if (f === 'large') return TILE_LARGE;
    if (f !== 'auto') return f;
    return configFor(this.tuning, cls, { cpu: this.isFallbackAdapter, subgroups4: this.subgroups4 });
  }

  reduce(op: ReduceOp, x: GpuHandle, out: GpuHandle, p: ReduceParams): void {
    const code = REDUCE_OPS[op];
    if (code === undefined) throw new Error(`lepton webgpu: unknown reduce op ${op}`);
    const nOut = p.outer * p.inner;
    this.check(out, nOut, `reduce ${op}`);
    if (nOut === 0) return;
    if (p.reduce === 0) { // empty reduction: the identity (mean: 0/0)
      this.fill(out, nOut, op === 'sum' ? 0 : op === 'mean' ? NaN : -Infinity);
      return;
    }
    this.aliasSafe(out, [x], nOut, (dst) => this.reduceInto(code, x.buffer, dst, p.outer, p.reduce, p.inner, p.reduce));
  }

  softmax(x: GpuHandle, out: GpuHandle, rows: number, cols: number, log: boolean): void {
    this.check(out, rows * cols, 'softmax');
    if (rows * cols === 0) return;
    this.aliasSafe(out, [x], rows * cols, (dst) => {
      if (cols <= (this.isFallbackAdapter ? SOFTMAX_ROWS_CPU : SOFTMAX_ROWS_GPU)) {
        this.dispatch({ file: 'softmax', entry: 'softmax_rows', constants: { WG: ROWS_WG, LOG: log } },
          [x.buffer, dst], Math.ceil(rows / ROWS_WG), (s) => s.u(0, rows).u(1, cols));
        return;
      }
      // Short rows: a smaller workgroup means a shorter tree (fewer barriers).
      const wg = cols <= 64 ? 64 : 256;
      this.dispatch({ file: 'softmax', entry: 'softmax', constants: { WG: wg, LOG: log } },
        [x.buffer, dst], rows, (s) => s.u(0, rows).u(1, cols));
    });
  }

  strided(x: GpuHandle, out: GpuHandle, p: StridedParams): void {
    if (p.shape.length > MAX_RANK) throw new Error(`lepton webgpu: strided: rank ${p.shape.length} exceeds ${MAX_RANK}`);
    const n = p.shape.reduce((u, v) => u * v, 1);
    this.check(out, n, 'strided');
    if (n === 0) return;
    const c = collapse(p.shape, [p.strides]);
    const [st] = c.strides;
    this.aliasSafe(out, [x], n, (dst) => {
      if (c.shape.length === 0 || (c.shape.length === 1 && st[0] === 1)) {
        this.copy(x.buffer, p.offset * 4, dst, n * 4); // a contiguous run: a plain buffer copy
        return;
      }
      this.dispatch({ file: 'strided', entry: 'strided', constants: { WG } }, [x.buffer, dst], Math.ceil(n / WG), (s) => {
        c.shape.forEach((d, i) => { s.u(i, d).i(8 + i, st[i]); });
        s.u(16, n).u(17, c.shape.length).i(18, p.offset);
      });
    });
  }

  sgd(param: GpuHandle, grad: GpuHandle, velocity: GpuHandle | null, n: number, p: SgdParams): void {
    for (const h of [param, grad, velocity]) if (h) this.check(h, n, 'sgd');
    this.distinct('sgd', [param, grad, velocity]);
    const buffers = velocity ? [param.buffer, grad.buffer, velocity.buffer] : [param.buffer, grad.buffer];
    const four = !velocity && n % 4 === 0;
    this.dispatch({ file: 'optim', entry: velocity ? 'sgd_momentum' : four ? 'sgd4' : 'sgd', constants: { WG } }, buffers,
      Math.ceil(n / (four ? 4 * WG : WG)),
      (s) => {
        // Each hyperparameter as hi + lo f32s: the kernel computes in double-float (optim.wgsl).
        const [lr, mu, wd] = [p.lr, p.momentum, p.weightDecay].map((x) => [Math.fround(x), Math.fround(x - Math.fround(x))]);
        s.u(0, n).f(1, lr[0]).f(2, mu[0]).f(3, wd[0]).u(4, p.nesterov ? 1 : 0).f(5, lr[1]).f(6, mu[1]).f(7, wd[1]);
      });
  }

  adam(param: GpuHandle, grad: GpuHandle, m: GpuHandle, v: GpuHandle, n: number, p: AdamParams): void {
    for (const h of [param, grad, m, v]) this.check(h, n, 'adam');
    this.distinct('adam', [param, grad, m, v]);
    this.dispatch({ file: 'optim', entry: 'adam', constants: { WG } }, [param.buffer, grad.buffer, m.buffer, v.buffer], Math.ceil(n / WG),
      (s) => s.u(0, n).f(1, p.lr).f(2, p.beta1).f(3, p.beta2).f(4, 1 - p.beta1).f(5, 1 - p.beta2).f(6, p.eps)
        .f(7, p.weightDecay).f(8, 1 - p.lr * p.weightDecay).u(9, p.decoupled ? 1 : 0)
        .f(10, p.biasCorrection1).f(11, p.biasCorrection2));
  }

  // ---- queue ----

  flush(): void {
    this.live();
    if (!this.encoder) return;
    this.pass?.end();
    this.pass = null;
    this.arena.upload(); // before the submit that reads it
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pacer.submitted(this.unsubmitted);
    this.unsubmitted = 0;
  }

  /**
   * Compiles (in the background, createComputePipelineAsync) every pipeline the
   * given work will use, so a model can warm its forward and backward passes
   * when it is built. Run it after autotune: a tuning can change the kernel a
   * shape uses. Each item is planned exactly as the call that runs it.
   */
  async prepare(work: PrepareWork): Promise<void> {
    this.live();
    const kernels: Kernel[] = [];
    for (const s of work.matmul ?? []) if ((s.batch ?? 1) * s.M * s.N > 0) kernels.push(this.planMatmul(s).kernel);
    for (const u of work.unary ?? []) if (u.n > 0) kernels.push({ file: 'elementwise', entry: 'unary', constants: { WG, OP: UNARY_OPS[u.op] } });
    for (const b of work.binary ?? []) {
      if (b.n > 0) kernels.push({ file: 'elementwise', entry: b.n % 4 === 0 ? 'binary_contig4' : 'binary_contig', constants: { WG, OP: BINARY_OPS[b.op] } });
    }
    await Promise.all(kernels.map((k) => this.pipelines.warm(k)));
  }

  /**
   * Times a few matmul kernel configs per shape class on this adapter and uses
   * the fastest from then on (see autotune.ts). Classes already tuned for this
   * adapter (earlier in this process, or installed with setTuning) are kept
   * unless `force`. Resolves to the tuning, as getTuning() returns it.
   */
  async autotune(opts: AutotuneOptions = {}): Promise<Tuning> {
    this.live();
    this.flush();
    const t = await autotune({
      device: this.device, cpu: this.isFallbackAdapter, subgroups4: this.subgroups4, dummy: this.dummy, dummyOut: this.dummyOut,
      compile: (k: Kernel) => this.pipelines.warm(k),
    }, this.adapterKey, this.tuning, opts);
    this.throwGpuError();
    this.tuning = t;
    rememberTuning(t);
    return this.getTuning()!;
  }

  /** The tuning in use (plain JSON, for localStorage), or null while the heuristics apply. */
  getTuning(): Tuning | null {
    return this.tuning ? JSON.parse(JSON.stringify(this.tuning)) as Tuning : null;
  }

  /**
   * Installs a tuning saved from getTuning(); null goes back to the heuristics.
   * Returns false (and changes nothing) when `t` is malformed, of another
   * version, or made on another adapter.
   */
  setTuning(t: unknown): boolean {
    if (t === null) {
      this.tuning = null;
      return true;
    }
    const parsed = parseTuning(t, this.adapterKey);
    if (!parsed) return false;
    this.tuning = parsed;
    rememberTuning(parsed);
    return true;
  }

  private planMatmul(s: MatmulShape) {
    return planMatmul(s, (c) => this.pickConfig(c), this.isFallbackAdapter);
  }

  /** Destroys pooled buffers that are not in use (after submitting queued work that may still use them). */
  trim(): void {
    this.flush();
    this.pool.trim();
    this.staging.trim();
  }

  /** Buffer and pipeline counts, for leak checks and benchmarks. */
  get stats() {
    return { tensors: this.pool.stats, readback: this.staging.stats, pipelines: this.pipelines.size };
  }

  destroy(): void {
    if (this.dead?.message === DESTROYED) return;
    this.encoder = null;
    this.pass = null;
    this.dead = new Error(DESTROYED);
    this.pool.destroy();
    this.staging.destroy();
    this.arena.destroy();
    this.dummy.destroy();
    this.dummyOut.destroy();
    if (this.ownsDevice) this.device.destroy();
  }

  // ---- internals ----

  /**
   * Reduces [outer, R, inner] from `src` into `dst`. A long axis is first cut
   * into chunks whose partials ([outer, chunks, inner]) are reduced again:
   * more workgroups when there are few outputs, and short f32 summation runs.
   * Mean sums until the last pass, which divides by the full length `div`.
   */
  private reduceInto(code: number, src: GPUBuffer, dst: GPUBuffer, outer: number, R: number, inner: number, div: number): void {
    // A CPU adapter folds rows one per invocation too: a workgroup tree's barriers cost more there.
    const rows = inner === 1 && R >= TREE_FROM && !this.isFallbackAdapter;
    const chunk = rows ? ROW_CHUNK : COL_CHUNK;
    const kernel = (c: number, to: GPUBuffer, len: number, chunks: number) => this.dispatch(
      { file: 'reduce', entry: rows ? 'reduce_rows' : 'reduce_cols', constants: { WG, OP: c } }, [src, to],
      rows ? outer * chunks : Math.ceil((outer * chunks * inner) / WG),
      (s) => s.u(0, outer).u(1, R).u(2, inner).u(3, len).f(4, div));
    if (R <= 4 * chunk) {
      kernel(code, dst, R, 1);
      return;
    }
    const chunks = Math.ceil(R / chunk);
    const tmp = this.pool.acquire(outer * chunks * inner * 4);
    kernel(code === REDUCE_OPS.mean ? REDUCE_OPS.sum : code, tmp, chunk, chunks);
    this.reduceInto(code, tmp, dst, outer, chunks, inner, div);
    this.pool.release(tmp);
  }

  /** Reports an uncaptured GPU error once (the dispatch that caused it may be unrelated to this read). */
  private throwGpuError(): void {
    const e = this.gpuError;
    this.gpuError = null;
    if (e) throw e;
  }

  private live(): void {
    if (this.dead) throw this.dead;
  }

  private check(h: GpuHandle, n: number, what: string): void {
    if (h.freed) throw new Error(`lepton webgpu: ${what}: storage used after free`);
    if (!Number.isInteger(n) || n < 0 || n > h.n) {
      throw new Error(`lepton webgpu: ${what}: ${n} elements requested of storage holding ${h.n}`);
    }
  }

  private distinct(what: string, hs: (GpuHandle | null)[]): void {
    const bufs = hs.filter((h): h is GpuHandle => h !== null).map((h) => h.buffer);
    if (new Set(bufs).size !== bufs.length) throw new Error(`lepton webgpu: ${what}: parameter, gradient and state must be distinct storage`);
  }

  /** Waits for `p`, or fails with the device-lost error if the device goes first. */
  private async untilLost<T>(p: Promise<T>): Promise<T> {
    const lost = this.device.lost.then(() => { throw this.dead ?? new Error('lepton webgpu: the GPU device was lost'); });
    lost.catch(() => {}); // settles after the race when the device dies later: not an unhandled rejection
    try {
      return await Promise.race([p, lost]);
    } catch (e) {
      throw this.dead ?? e;
    }
  }

  private computePass(): GPUComputePassEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: 'lepton batch' });
    this.pass ??= this.encoder.beginComputePass();
    return this.pass;
  }

  private copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, bytes: number): void {
    this.live();
    this.encoder ??= this.device.createCommandEncoder({ label: 'lepton batch' });
    this.pass?.end();
    this.pass = null;
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, 0, bytes);
  }

  /**
   * Runs `record(target)`; WebGPU forbids binding one buffer as both an input
   * and the writable output of a dispatch, so when `out` aliases an input the
   * kernel writes a temporary that is then copied into `out`.
   */
  private aliasSafe<T extends GpuHandle | null>(out: T, inputs: (GpuHandle | null)[], n: number,
    record: (target: T extends GpuHandle ? GPUBuffer : GPUBuffer | null) => void): void {
    type Target = T extends GpuHandle ? GPUBuffer : GPUBuffer | null;
    if (!out || !inputs.some((h) => h?.buffer === out.buffer)) {
      record((out?.buffer ?? null) as Target);
      return;
    }
    const tmp = this.pool.acquire(n * 4);
    record(tmp as Target);
    this.copy(tmp, 0, out.buffer, n * 4);
    this.pool.release(tmp); // later users are recorded after the copy, so reuse is ordered
  }

  /**
   * Records one dispatch: buffers bind at 1, 2, ... after the parameter slot at 0.
   * `work` estimates its cost for read pacing (FLOPs for products; by default
   * a few units per invocation of a 256-wide workgroup).
   */
  private dispatch(k: Kernel, buffers: GPUBuffer[], groups: number, params: (s: Slot) => void, work = groups * WG * 4): void {
    this.live();
    if (groups === 0) return;
    this.unsubmitted += work;
    const { pipeline, layout } = this.pipelines.get(k);
    const slot = this.arena.next();
    params(slot);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena.buffer, offset: slot.offset, size: SLOT_BYTES } }];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.device.createBindGroup({ layout, entries }));
    const [x, y] = grid(groups, this.maxGroups);
    pass.dispatchWorkgroups(x, y);
    if (this.arena.full) this.flush();
  }
}

const DESTROYED = 'lepton webgpu: the backend was destroyed';
