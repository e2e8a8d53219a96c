// The WebGPU backend: the runtime (runtime.ts: device, pools, queue, dispatch)
// plus one module per kernel family (kernels/<family>.ts), and the tuning
// state the families' shape classes are configured from (tuning.ts).
import type { Backend, PrepareWork } from '../backend.js';
import type { Conv2dParams, ConvBackwardDataParams, ConvBackwardFilterParams } from '../primitives/conv.js';
import type { AttentionParams } from '../primitives/attention.js';
import type { BinaryOp, BroadcastParams, UnaryOp } from '../primitives/elementwise.js';
import type { MatmulParams } from '../primitives/matmul.js';
import type { NormParams } from '../primitives/norm.js';
import type { AdamParams, SgdParams } from '../primitives/optim.js';
import type { AvgPoolParams, PoolGeometry } from '../primitives/pool.js';
import type { ReduceOp, ReduceParams } from '../primitives/reduce.js';
import type { StridedParams } from '../primitives/strided.js';
import type { XentOptions } from '../primitives/xent.js';
import type { CumsumParams, GatherParams, TopkParams } from '../primitives/gather.js';
import * as gat from './kernels/gather.js';
import { getGPU } from './gpu.js';
import * as conv from './kernels/conv.js';
import * as attn from './kernels/attention.js';
import * as elementwise from './kernels/elementwise.js';
import * as emb from './kernels/embedding.js';
import * as norm from './kernels/norm.js';
import * as xent from './kernels/xent.js';
import * as mm from './kernels/matmul.js';
import { matmulTunable, TILE_LARGE, TILE_SMALL, type MatmulConfig, type ShapeClass } from './kernels/matmul-plan.js';
import * as optim from './kernels/optim.js';
import * as pool from './kernels/pool.js';
import * as red from './kernels/reduce.js';
import * as sm from './kernels/softmax.js';
import * as str from './kernels/strided.js';
import type { Kernel } from './pipelines.js';
import type { RecoveryOptions } from '../recovery.js';
import { Recovery, type RecoveryHooks } from './recovery.js';
import { GpuHandle, GpuRuntime, WHO } from './runtime.js';
import type { StorageRef } from '../backend.js';
import {
  adapterKey, autotune, cachedTuning, configFor, parseTuning, rememberTuning,
  type AutotuneOptions, type DeviceKind, type TunableFamily, type Tuning,
} from './tuning.js';

export type { AutotuneOptions, Tuning } from './tuning.js';
export type { RecoveryEvent, RecoveryOptions } from '../recovery.js';
export type { MatmulConfig, ShapeClass } from './kernels/matmul-plan.js';
export type { MatmulShape } from '../primitives/matmul.js';
export { GpuHandle } from './runtime.js';

/** The kernel families with tuned shape classes. A new tunable family adds itself here. */
const TUNABLE: readonly TunableFamily[] = [matmulTunable as TunableFamily];

/**
 * On a CPU adapter every block that reads a prologued operand also gathers
 * the prologue's tensor, so beyond this many output rows (B) or columns (A)
 * one elementwise pass applying it first is cheaper (fusedPrologueMaxReads).
 */
const PROLOGUE_PASS_FROM = 32;

export interface WebGPUBackendOptions {
  /** Accept a software adapter (SwiftShader, WARP); default false: resolve null instead. */
  allowFallbackAdapter?: boolean;
  powerPreference?: 'low-power' | 'high-performance';
  /** Use this device instead of requesting one; it is not destroyed by destroy(). */
  device?: GPUDevice;
  /**
   * Run the autotune before resolving: true / options, or false.
   * Default: on for hardware adapters, off for fallback (software) adapters.
   * Results already known for the adapter (this process, or `tuning`) are reused.
   */
  autotune?: boolean | AutotuneOptions;
  /** A tuning saved from getTuning() (e.g. in localStorage); ignored if it was made on another adapter. */
  tuning?: unknown;
  /** Device-loss recovery (recovery.ts): on by default; false turns it off. */
  recovery?: boolean | RecoveryOptions;
  /** Where recovery goes without a GPU, and who it tells (the registry); by default a WASM backend of its own. */
  recoveryHooks?: Partial<RecoveryHooks>;
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
    const fallback = info?.isFallbackAdapter ?? false;
    return tuned(recoverable(new WebGPUBackend(opts.device, info, fallback, false), opts, fallback), opts);
  }
  const got = await openDevice(opts);
  if (!got) return null;
  return tuned(recoverable(new WebGPUBackend(got.device, got.info, got.fallback, true), opts, got.fallback), opts);
}

/**
 * A device on the first adapter the platform offers; null when there is none,
 * or when it is a fallback (software) adapter and `allowFallbackAdapter` is not set.
 */
async function openDevice(opts: WebGPUBackendOptions): Promise<{ device: GPUDevice; info: GPUAdapterInfo | undefined; fallback: boolean } | null> {
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
  try {
    return { device: await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'lepton' }), info, fallback };
  } catch (e) {
    // An adapter that cannot give a device is no backend: let callers fall back (to WASM).
    console.warn(`${WHO}: requestDevice failed: ${(e as Error).message}`);
    return null;
  }
}

/** Installs device-loss recovery unless `opts.recovery` is false. */
function recoverable(be: WebGPUBackend, opts: WebGPUBackendOptions, fallback: boolean): WebGPUBackend {
  if (opts.recovery === false) return be;
  const hooks: RecoveryHooks = {
    // A software adapter only where the lost device was one: a hardware GPU that went away is better replaced by WASM.
    reconnect: () => openDevice({ powerPreference: opts.powerPreference, allowFallbackAdapter: fallback }),
    fallback: async () => (await import('../wasm/backend.js')).createWasmBackend(),
    ...opts.recoveryHooks,
  };
  be.recovery = new Recovery(be, opts.recovery === true || opts.recovery === undefined ? {} : opts.recovery, hooks);
  return be;
}

/** Installs a saved tuning and runs the autotune as `opts` asks (see WebGPUBackendOptions). */
async function tuned(be: WebGPUBackend, opts: WebGPUBackendOptions): Promise<WebGPUBackend> {
  if (opts.tuning !== undefined && opts.tuning !== null && !be.setTuning(opts.tuning)) {
    console.warn(`${WHO}: the saved tuning is for another adapter or version; ignored`);
  }
  const run = opts.autotune ?? !be.isFallbackAdapter;
  if (run) await be.autotune(typeof run === 'object' ? run : {});
  return be;
}

export class WebGPUBackend extends GpuRuntime implements Backend<GpuHandle> {
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
  /** Attention kernels: 'auto' (workgroup tiles on a GPU, direct reads on a CPU adapter), or force one (tests). */
  attentionVariant: attn.AttentionVariant = 'auto';
  /** Identity of the adapter, which a tuning is keyed by. */
  adapterKey: string;
  private tuning: Tuning | null;
  /** @internal Device-loss recovery (recovery.ts); null when turned off. */
  recovery: Recovery | null = null;

  constructor(device: GPUDevice, info: GPUAdapterInfo | undefined, isFallbackAdapter: boolean, ownsDevice: boolean) {
    super(device, info, isFallbackAdapter, ownsDevice);
    this.adapterKey = adapterKey(info);
    this.tuning = cachedTuning(this.adapterKey) ?? null;
  }

  /** @internal A new device after a loss (recovery.ts): the same adapter keeps its tuning, another gets its own. */
  attachDevice(device: GPUDevice, info: GPUAdapterInfo | undefined, isFallbackAdapter: boolean): void {
    this.attach(device, info, isFallbackAdapter);
    const key = adapterKey(info);
    if (key !== this.adapterKey) {
      this.adapterKey = key;
      this.tuning = cachedTuning(key) ?? null;
    }
  }

  /** @internal Recovery re-points the Storage holding `h` if it moves its values to another backend. */
  adopt(h: GpuHandle, owner: StorageRef): void {
    h.owner = owner;
  }

  private get kind(): DeviceKind {
    return { cpu: this.isFallbackAdapter, subgroups4: this.subgroups4 };
  }

  // ---- kernels: one line each, the work is in kernels/<family>.ts ----

  fill(out: GpuHandle, n: number, value: number): void { elementwise.fill(this, out, n, value); }
  unary(op: UnaryOp, x: GpuHandle, out: GpuHandle, n: number, alpha = 1, beta = 0): void { elementwise.unary(this, op, x, out, n, alpha, beta); }
  binary(op: BinaryOp, a: GpuHandle, b: GpuHandle, out: GpuHandle, p: BroadcastParams): void { elementwise.binary(this, op, a, b, out, p); }
  matmul(a: GpuHandle, b: GpuHandle, bias: GpuHandle | null, out: GpuHandle, p: MatmulParams<GpuHandle>): void { mm.matmul(this, a, b, bias, out, p); }
  reduce(op: ReduceOp, x: GpuHandle, out: GpuHandle, p: ReduceParams): void { red.reduce(this, op, x, out, p); }
  softmax(x: GpuHandle, out: GpuHandle, rows: number, cols: number, log: boolean): void { sm.softmax(this, x, out, rows, cols, log); }
  strided(x: GpuHandle, out: GpuHandle, p: StridedParams): void { str.strided(this, x, out, p); }
  gather(x: GpuHandle, index: GpuHandle, out: GpuHandle, p: GatherParams): void { gat.gather(this, x, index, out, p); }
  scatterAdd(g: GpuHandle, index: GpuHandle, out: GpuHandle, p: GatherParams): void { gat.scatterAdd(this, g, index, out, p); }
  cumsum(x: GpuHandle, out: GpuHandle, p: CumsumParams): void { gat.cumsum(this, x, out, p); }
  topk(x: GpuHandle, values: GpuHandle, indices: GpuHandle, p: TopkParams): void { gat.topk(this, x, values, indices, p); }
  sgd(param: GpuHandle, grad: GpuHandle, velocity: GpuHandle | null, n: number, p: SgdParams): void { optim.sgd(this, param, grad, velocity, n, p); }
  adam(param: GpuHandle, grad: GpuHandle, m: GpuHandle, v: GpuHandle, n: number, p: AdamParams): void { optim.adam(this, param, grad, m, v, n, p); }
  conv2d(x: GpuHandle, w: GpuHandle, bias: GpuHandle | null, out: GpuHandle, p: Conv2dParams): void { conv.conv2d(this, x, w, bias, out, p); }
  conv2dBackwardData(dy: GpuHandle, w: GpuHandle, dx: GpuHandle, p: ConvBackwardDataParams<GpuHandle>): void { conv.conv2dBackwardData(this, dy, w, dx, p); }
  conv2dBackwardFilter(x: GpuHandle, dy: GpuHandle, dw: GpuHandle, p: ConvBackwardFilterParams<GpuHandle>): void { conv.conv2dBackwardFilter(this, x, dy, dw, p); }
  maxPool2d(x: GpuHandle, out: GpuHandle, argmax: GpuHandle | null, p: PoolGeometry): void { pool.maxPool2d(this, x, out, argmax, p); }
  maxPool2dBackward(dy: GpuHandle, argmax: GpuHandle, dx: GpuHandle, p: PoolGeometry): void { pool.maxPool2dBackward(this, dy, argmax, dx, p); }
  avgPool2d(x: GpuHandle, out: GpuHandle, p: AvgPoolParams): void { pool.avgPool2d(this, x, out, p); }
  avgPool2dBackward(dy: GpuHandle, dx: GpuHandle, p: AvgPoolParams): void { pool.avgPool2dBackward(this, dy, dx, p); }
  attention(q: GpuHandle, k: GpuHandle, v: GpuHandle, out: GpuHandle, lse: GpuHandle, p: AttentionParams<GpuHandle>): void { attn.attention(this, q, k, v, out, lse, p, this.attentionVariant); }
  attentionBackward(q: GpuHandle, k: GpuHandle, v: GpuHandle, out: GpuHandle, lse: GpuHandle, dout: GpuHandle, dq: GpuHandle, dk: GpuHandle, dv: GpuHandle,
    p: AttentionParams<GpuHandle>, dbias: GpuHandle | null): void { attn.attentionBackward(this, q, k, v, out, lse, dout, dq, dk, dv, p, dbias, this.attentionVariant); }
  /** One row of q, k or v lives in an invocation's registers (kernels/attention.ts). */
  readonly attentionMaxHeadDim = attn.MAX_HEAD_DIM;
  normForward(x: GpuHandle, w: GpuHandle | null, b: GpuHandle | null, out: GpuHandle, stats: GpuHandle, p: NormParams): void { norm.normForward(this, x, w, b, out, stats, p); }
  normBackward(x: GpuHandle, w: GpuHandle | null, g: GpuHandle, stats: GpuHandle, dx: GpuHandle, dw: GpuHandle | null, db: GpuHandle | null, p: NormParams): void { norm.normBackward(this, x, w, g, stats, dx, dw, db, p); }
  embeddingGather(weight: GpuHandle, ids: GpuHandle, out: GpuHandle, n: number, dim: number): void { emb.embeddingGather(this, weight, ids, out, n, dim); }
  embeddingGrad(g: GpuHandle, order: GpuHandle, offsets: GpuHandle, out: GpuHandle, num: number, dim: number): void { emb.embeddingGrad(this, g, order, offsets, out, num, dim); }
  xentForward(logits: GpuHandle, targets: GpuHandle, loss: GpuHandle, lse: GpuHandle, rows: number, cols: number, o?: XentOptions): void { xent.xentForward(this, logits, targets, loss, lse, rows, cols, o); }
  xentBackward(logits: GpuHandle, targets: GpuHandle, lse: GpuHandle, g: GpuHandle, dx: GpuHandle, rows: number, cols: number, gStride: number, scale: number, o?: XentOptions): void {
    xent.xentBackward(this, logits, targets, lse, g, dx, rows, cols, gStride, scale, o);
  }

  /** See MatmulKernels.fusedPrologueMaxReads: a GPU fuses any prologue; a CPU adapter up to PROLOGUE_PASS_FROM. */
  get fusedPrologueMaxReads(): number {
    return this.matmulPrologue === 'auto' && this.isFallbackAdapter ? PROLOGUE_PASS_FROM : Infinity;
  }

  /** @internal The config for a matmul shape class: forced (matmulTiles), tuned, or the heuristic default. */
  pickMatmulConfig(cls: ShapeClass): MatmulConfig {
    const f = this.matmulTiles;
    if (f === 'small') return TILE_SMALL;
    if (f === 'large') return TILE_LARGE;
    if (f !== 'auto') return f;
    return configFor(this.tuning, matmulTunable, cls, this.kind);
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
    for (const s of work.matmul ?? []) if ((s.batch ?? 1) * s.M * s.N > 0) kernels.push(mm.plan(this, s).kernel);
    for (const u of work.unary ?? []) if (u.n > 0) kernels.push(elementwise.unaryKernel(u.op, false));
    for (const b of work.binary ?? []) if (b.n > 0) kernels.push(elementwise.contiguousKernel(b.op, b.n));
    await Promise.all(kernels.map((k) => this.pipelines.warm(k)));
  }

  // ---- tuning ----

  /**
   * Times a few kernel configs per shape class of every tunable family on this
   * adapter and uses the fastest from then on (see tuning.ts). Classes already
   * tuned for this adapter (earlier in this process, or installed with
   * setTuning) are kept unless `force`. Resolves to the tuning, as getTuning() returns it.
   */
  async autotune(opts: AutotuneOptions = {}): Promise<Tuning> {
    this.live();
    this.flush();
    const t = await autotune({
      device: this.device, kind: this.kind, dummy: this.dummy, dummyOut: this.dummyOut,
      compile: (k: Kernel) => this.pipelines.warm(k),
    }, this.adapterKey, TUNABLE, this.tuning, opts);
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
    const parsed = parseTuning(t, this.adapterKey, TUNABLE, this.kind);
    if (!parsed) return false;
    this.tuning = parsed;
    rememberTuning(parsed);
    return true;
  }
}
