// Matmul autotune: for each shape class, time a few candidate kernel configs
// on a representative product and keep the fastest. Results are keyed by the
// adapter's identity, cached for the process and exportable as plain JSON
// (getTuning / setTuning on the backend), so a page can keep them in
// localStorage and skip the measurement next time.
import type { CachedPipeline, Kernel } from './pipelines.js';
import {
  CLASSES, candidates, classify, defaultConfig, planMatmul, validConfig,
  type DeviceKind, type MatmulConfig, type MatmulShape, type ShapeClass,
} from './matmul-plan.js';
import { SLOT_BYTES, Slot } from './uniforms.js';

// 2: register-block kernels (reg, sg) and new CPU-adapter candidates; a version 1
// tuning chose among slower candidates there, so it is not reused.
export const TUNING_VERSION = 2;
/** How much faster than the default a candidate must be to replace it. */
const MARGIN = 0.05;

/** What autotune found on one adapter; plain JSON. */
export interface Tuning {
  version: number;
  /** Adapter identity (vendor | architecture | device | description); a tuning applies only to its adapter. */
  adapter: string;
  /** Best config per measured class; a class not listed keeps the heuristic default. */
  configs: Partial<Record<ShapeClass, MatmulConfig>>;
  /** Microseconds per product of each candidate measured, for reports. */
  timings?: Partial<Record<ShapeClass, { config: MatmulConfig; us: number }[]>>;
  /** 'timestamp' (GPU timestamp queries) or 'wall' (submit to completion). */
  clock?: 'timestamp' | 'wall';
}

export interface AutotuneOptions {
  /**
   * Stop starting new measurements after this many milliseconds (default 3000;
   * all five classes take about 1 s on a GPU, 4-5 s on SwiftShader).
   * A class whose default and at least one alternative were not both measured
   * in time keeps its heuristic config. Pipeline compiles are most of the cost
   * on software adapters (about 0.5 s each on SwiftShader).
   */
  budgetMs?: number;
  /** Measure the classes again even where this adapter already has results (cached or installed). */
  force?: boolean;
  /** Only these classes (default: all). */
  classes?: ShapeClass[];
}

/** Process-wide results by adapter identity: a second backend on the same adapter reuses them. */
const cache = new Map<string, Tuning>();

/** The adapter-info fields that identify an adapter (and describe it). */
export const adapterFields = (info: GPUAdapterInfo) => [info.vendor, info.architecture, info.device, info.description];

export function adapterKey(info: GPUAdapterInfo | undefined): string {
  return info ? adapterFields(info).join('|') : 'unknown';
}

export function cachedTuning(key: string): Tuning | undefined {
  return cache.get(key);
}

export function rememberTuning(t: Tuning): void {
  cache.set(t.adapter, t);
}

/** A copy of `t` if it is a well-formed tuning for adapter `key`, else null. */
export function parseTuning(t: unknown, key: string): Tuning | null {
  const o = t as Partial<Tuning> | null;
  if (!o || typeof o !== 'object' || o.version !== TUNING_VERSION || o.adapter !== key) return null;
  if (!o.configs || typeof o.configs !== 'object') return null;
  const configs: Tuning['configs'] = {};
  for (const [cls, cfg] of Object.entries(o.configs)) {
    if (!(CLASSES as readonly string[]).includes(cls) || !validConfig(cfg)) return null;
    configs[cls as ShapeClass] = { ...cfg };
  }
  return JSON.parse(JSON.stringify({ ...o, configs })) as Tuning;
}

/**
 * Representative products per class: the MLP layer shapes where they apply;
 * smaller ones on a CPU adapter, where a large product takes 100s of ms.
 */
export function representative(cls: ShapeClass, cpu: boolean): MatmulShape {
  switch (cls) {
    case 'small-output': return { M: 128, N: 10, K: 256 };
    case 'small-k': return cpu ? { M: 128, N: 256, K: 10, transB: true } : { M: 1024, N: 512, K: 16 };
    case 'skinny': return cpu ? { M: 1024, N: 10, K: 256 } : { M: 8192, N: 10, K: 512 };
    case 'square-small': return cpu ? { M: 64, N: 128, K: 256 } : { M: 256, N: 256, K: 256 };
    case 'square-large': return cpu ? { M: 256, N: 256, K: 256 } : { M: 1024, N: 1024, K: 1024 };
  }
}

/** What autotune needs from the backend. */
export interface TuneHost {
  device: GPUDevice;
  cpu: boolean;
  /** Subgroups of exactly 4 invocations (the subgroup matmul is a candidate). */
  subgroups4: boolean;
  compile(k: Kernel): Promise<CachedPipeline>;
  /** Read-only / writable 16-byte buffers for bindings a kernel does not use. */
  dummy: GPUBuffer;
  dummyOut: GPUBuffer;
}

/**
 * Measures the classes `prev` lacks (all asked for with `force`) and returns
 * the merged tuning. Every measurement runs on buffers of its own, in command buffers of
 * its own: nothing queued by the backend is touched.
 */
export async function autotune(host: TuneHost, key: string, prev: Tuning | null, opts: AutotuneOptions = {}): Promise<Tuning> {
  const budget = opts.budgetMs ?? 3000;
  const start = performance.now();
  const timer = new Timer(host.device);
  const out: Tuning = {
    version: TUNING_VERSION, adapter: key, configs: { ...prev?.configs }, timings: { ...prev?.timings }, clock: prev?.clock,
  };
  const over = () => performance.now() - start > budget;
  try {
    for (const cls of opts.classes ?? CLASSES) {
      if (over()) break;
      if (out.configs[cls] && !opts.force) continue;
      const shape = representative(cls, host.cpu);
      if (classify(shape.M, shape.N, shape.K, 1, host.cpu) !== cls) throw new Error(`lepton webgpu: autotune shape for ${cls} is misclassified`);
      const bench = new Problem(host, shape);
      const results: { config: MatmulConfig; us: number }[] = [];
      try {
        for (const config of candidates(cls, { cpu: host.cpu, subgroups4: host.subgroups4 })) {
          if (over()) break;
          results.push({ config, us: await bench.time(config, timer) });
        }
      } finally {
        bench.destroy();
      }
      // The default alone proves nothing: keep the heuristic unless something was compared with it.
      if (results.length < 2) break;
      // The default (measured first) stays unless beaten by more than MARGIN: a
      // near-tie is within run-to-run noise and not worth leaving the heuristic for.
      const fastest = results.reduce((x, y) => (y.us < x.us ? y : x));
      out.configs[cls] = results[0].us <= fastest.us * (1 + MARGIN) ? results[0].config : fastest.config;
      out.timings![cls] = results.map((r) => ({ config: r.config, us: Math.round(r.us * 10) / 10 }));
      out.clock = timer.kind;
    }
  } finally {
    timer.destroy();
  }
  return out;
}

/** One representative product's buffers; times one config at a time. */
class Problem {
  private readonly buffers: GPUBuffer[];
  private readonly uniform: GPUBuffer;

  constructor(private readonly host: TuneHost, private readonly shape: MatmulShape) {
    const { M, N, K } = shape;
    const make = (n: number, data: boolean) => {
      const b = host.device.createBuffer({ size: Math.max(16, n * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: 'lepton autotune' });
      if (data) host.device.queue.writeBuffer(b, 0, Float32Array.from({ length: n }, (_, i) => Math.sin(i)));
      return b;
    };
    this.buffers = [make(M * K, true), make(K * N, true), make(M * N, false)];
    this.uniform = host.device.createBuffer({ size: SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'lepton autotune params' });
  }

  /** Microseconds per product under `config`: compile, one warm-up run, then the best of three timed batches. */
  async time(config: MatmulConfig, timer: Timer): Promise<number> {
    const plan = planMatmul(this.shape, () => config, this.host.cpu);
    const { pipeline, layout } = await this.host.compile(plan.kernel);
    const words = new ArrayBuffer(SLOT_BYTES);
    plan.params(new Slot(0, new Uint32Array(words), new Int32Array(words), new Float32Array(words)));
    this.host.device.queue.writeBuffer(this.uniform, 0, words);
    const [a, b, c] = this.buffers;
    const bind = this.host.device.createBindGroup({
      layout,
      entries: [this.uniform, a, b, this.host.dummy, c, this.host.dummy, this.host.dummyOut].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const record = (pass: GPUComputePassEncoder, n: number) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      for (let i = 0; i < n; i++) pass.dispatchWorkgroups(plan.groups); // autotune shapes stay under 65,535 workgroups
    };
    const first = await timer.measure(record, 1); // also the warm-up
    // Batches of about 5 ms: well above timer resolution (browsers quantise timestamps to
    // 0.1 ms, SwiftShader to 65 µs) and dispatch overhead, yet cheap. The best of three
    // batches: other work on the machine only ever adds time.
    const n = Math.max(1, Math.min(64, Math.round(5000 / Math.max(first, 10))));
    let best = Infinity;
    for (let i = 0; i < 3; i++) best = Math.min(best, await timer.measure(record, n));
    return best / n;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.uniform.destroy();
  }
}

/**
 * Times a compute pass: GPU timestamps at its start and end where the device
 * has 'timestamp-query', else the wall-clock time from submit to completion.
 */
class Timer {
  readonly kind: 'timestamp' | 'wall';
  private readonly query: GPUQuerySet | null = null;
  private readonly resolve: GPUBuffer | null = null;
  private readonly readback: GPUBuffer | null = null;

  constructor(private readonly device: GPUDevice) {
    this.kind = device.features.has('timestamp-query') ? 'timestamp' : 'wall';
    if (this.kind === 'timestamp') {
      this.query = device.createQuerySet({ type: 'timestamp', count: 2 });
      this.resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      this.readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
  }

  /** Microseconds `record` takes to run `n` dispatches. */
  async measure(record: (pass: GPUComputePassEncoder, n: number) => void, n: number): Promise<number> {
    const enc = this.device.createCommandEncoder({ label: 'lepton autotune' });
    const pass = enc.beginComputePass(this.query
      ? { timestampWrites: { querySet: this.query, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } }
      : undefined);
    record(pass, n);
    pass.end();
    if (this.query) {
      enc.resolveQuerySet(this.query, 0, 2, this.resolve!, 0);
      enc.copyBufferToBuffer(this.resolve!, 0, this.readback!, 0, 16);
    }
    const t0 = performance.now();
    this.device.queue.submit([enc.finish()]);
    if (!this.query) {
      await this.device.queue.onSubmittedWorkDone();
      return (performance.now() - t0) * 1000;
    }
    await this.readback!.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigUint64Array(this.readback!.getMappedRange().slice(0));
    this.readback!.unmap();
    const wall = (performance.now() - t0) * 1000;
    // Some implementations return zeros or quantise heavily: fall back to the wall clock then.
    const us = Number(end - begin) / 1000;
    return end > begin ? us : wall;
  }

  destroy(): void {
    this.query?.destroy();
    this.resolve?.destroy();
    this.readback?.destroy();
  }
}

/** The config each class runs with under `tuning` (the default where it has none). */
export function configFor(tuning: Tuning | null, cls: ShapeClass, kind: DeviceKind): MatmulConfig {
  const t = tuning?.configs[cls];
  // A saved subgroup config on a device made without subgroups (e.g. one passed in) cannot run there.
  return t && (t.kind !== 'sg' || kind.subgroups4) ? t : defaultConfig(cls, kind);
}
