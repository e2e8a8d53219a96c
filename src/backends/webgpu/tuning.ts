// Autotune for any kernel family: a family sorts each call into a shape class,
// and each class runs with a kernel configuration: the family's heuristic
// default, or the fastest of a few candidates measured on this adapter on a
// representative problem. Results are keyed by the adapter's identity,
// cached for the process and exportable as plain JSON (getTuning / setTuning
// on the backend), so a page can keep them in localStorage and skip the
// measurement next time. A family takes part by exporting a TunableFamily
// (e.g. kernels/matmul-plan.ts) listed in the backend's TUNABLE table.
import type { CachedPipeline, Kernel } from './pipelines.js';
import type { Params } from './runtime.js';
import { Slot } from './uniforms.js';

// 3: configs keyed by family and class ('matmul/small-k'); version 2 tunings were matmul-only.
export const TUNING_VERSION = 3;
/** How much faster than the default a candidate must be to replace it. */
const MARGIN = 0.05;

/** What the defaults depend on besides the class. */
export interface DeviceKind {
  /** A CPU (fallback) adapter such as SwiftShader. */
  cpu: boolean;
  /** Subgroups of exactly 4 invocations (matmul-subgroup.wgsl). */
  subgroups4: boolean;
}

/** A storage binding of a timing problem, in binding order after the uniform: data, an output, or unused. */
export type TimingBinding = { in: number } | { out: number } | 'unused' | 'unusedOut';

/** What autotune needs to know of a kernel family with shape `S` and configuration `C`. */
export interface TunableFamily<S = unknown, C = unknown> {
  readonly name: string;
  readonly classes: readonly string[];
  classify(s: S, kind: DeviceKind): string;
  defaultConfig(cls: string, kind: DeviceKind): C;
  /** What autotune tries, the default first. */
  candidates(cls: string, kind: DeviceKind): C[];
  /** Checks a config read back from storage: only shapes the kernels support on this device. */
  valid(c: unknown, kind: DeviceKind): c is C;
  /** The problem a class is timed on (smaller ones on a CPU adapter). */
  representative(cls: string, kind: DeviceKind): S;
  /** The dispatch `s` runs under config `c`. */
  plan(s: S, c: C, kind: DeviceKind): { kernel: Kernel; groups: number; params: Params };
  bindings(s: S): TimingBinding[];
}

/** What autotune found on one adapter; plain JSON. */
export interface Tuning {
  version: number;
  /** Adapter identity (vendor | architecture | device | description); a tuning applies only to its adapter. */
  adapter: string;
  /** Best config per measured 'family/class'; a class not listed keeps the heuristic default. */
  configs: Record<string, unknown>;
  /** Microseconds per call of each candidate measured, for reports. */
  timings?: Record<string, { config: unknown; us: number }[]>;
  /** 'timestamp' (GPU timestamp queries) or 'wall' (submit to completion). */
  clock?: 'timestamp' | 'wall';
}

export interface AutotuneOptions {
  /**
   * Stop starting new measurements after this many milliseconds (default 3000;
   * the matmul classes take about 1 s on a GPU, 4-5 s on SwiftShader).
   * A class whose default and at least one alternative were not both measured
   * in time keeps its heuristic config. Pipeline compiles are most of the cost
   * on software adapters (about 0.5 s each on SwiftShader).
   */
  budgetMs?: number;
  /** Measure the classes again even where this adapter already has results (cached or installed). */
  force?: boolean;
  /** Only these 'family/class' keys (default: every class of every family). */
  classes?: string[];
}

export const key = (family: string, cls: string) => `${family}/${cls}`;

/** Process-wide results by adapter identity: a second backend on the same adapter reuses them. */
const cache = new Map<string, Tuning>();

/** The adapter-info fields that identify an adapter (and describe it). */
export const adapterFields = (info: GPUAdapterInfo) => [info.vendor, info.architecture, info.device, info.description];

export function adapterKey(info: GPUAdapterInfo | undefined): string {
  return info ? adapterFields(info).join('|') : 'unknown';
}

export function cachedTuning(adapter: string): Tuning | undefined {
  return cache.get(adapter);
}

export function rememberTuning(t: Tuning): void {
  cache.set(t.adapter, t);
}

/** A copy of `t` if it is a well-formed tuning for adapter `adapter` and these families, else null. */
export function parseTuning(t: unknown, adapter: string, families: readonly TunableFamily[], kind: DeviceKind): Tuning | null {
  const o = t as Partial<Tuning> | null;
  if (!o || typeof o !== 'object' || o.version !== TUNING_VERSION || o.adapter !== adapter) return null;
  if (!o.configs || typeof o.configs !== 'object') return null;
  const configs: Tuning['configs'] = {};
  for (const [k, cfg] of Object.entries(o.configs)) {
    const [fam, cls] = k.split('/');
    const f = families.find((x) => x.name === fam);
    if (!f || !f.classes.includes(cls) || !f.valid(cfg, kind)) return null;
    configs[k] = cfg;
  }
  return JSON.parse(JSON.stringify({ ...o, configs })) as Tuning;
}

/** The config class `cls` of `family` runs with under `tuning` (the default where it has none or cannot use it). */
export function configFor<C>(tuning: Tuning | null, family: TunableFamily<unknown, C>, cls: string, kind: DeviceKind): C {
  const t = tuning?.configs[key(family.name, cls)];
  return t !== undefined && family.valid(t, kind) ? t as C : family.defaultConfig(cls, kind);
}

/** What autotune needs from the backend. */
export interface TuneHost {
  device: GPUDevice;
  kind: DeviceKind;
  compile(k: Kernel): Promise<CachedPipeline>;
  /** Read-only / writable 16-byte buffers for bindings a kernel does not use. */
  dummy: GPUBuffer;
  dummyOut: GPUBuffer;
}

/**
 * Measures the classes `prev` lacks (all asked for with `force`) and returns
 * the merged tuning. Every measurement runs on buffers of its own, in command
 * buffers of its own: nothing queued by the backend is touched.
 */
export async function autotune(host: TuneHost, adapter: string, families: readonly TunableFamily[], prev: Tuning | null,
  opts: AutotuneOptions = {}): Promise<Tuning> {
  const budget = opts.budgetMs ?? 3000;
  const start = performance.now();
  const timer = new Timer(host.device);
  const out: Tuning = {
    version: TUNING_VERSION, adapter, configs: { ...prev?.configs }, timings: { ...prev?.timings }, clock: prev?.clock,
  };
  const over = () => performance.now() - start > budget;
  try {
    outer: for (const family of families) {
      for (const cls of family.classes) {
        const k = key(family.name, cls);
        if (opts.classes && !opts.classes.includes(k)) continue;
        if (over()) break outer;
        if (out.configs[k] !== undefined && !opts.force) continue;
        const shape = family.representative(cls, host.kind);
        if (family.classify(shape, host.kind) !== cls) throw new Error(`lepton webgpu: autotune problem for ${k} is misclassified`);
        const bench = new Problem(host, family, shape);
        const results: { config: unknown; us: number }[] = [];
        try {
          for (const config of family.candidates(cls, host.kind)) {
            if (over()) break;
            results.push({ config, us: await bench.time(config, timer) });
          }
        } finally {
          bench.destroy();
        }
        // The default alone proves nothing: keep the heuristic unless something was compared with it.
        if (results.length < 2) break outer;
        // The default (measured first) stays unless beaten by more than MARGIN: a
        // near-tie is within run-to-run noise and not worth leaving the heuristic for.
        const fastest = results.reduce((x, y) => (y.us < x.us ? y : x));
        out.configs[k] = results[0].us <= fastest.us * (1 + MARGIN) ? results[0].config : fastest.config;
        out.timings![k] = results.map((r) => ({ config: r.config, us: Math.round(r.us * 10) / 10 }));
        out.clock = timer.kind;
      }
    }
  } finally {
    timer.destroy();
  }
  return out;
}

/** One representative problem's buffers; times one config at a time. */
class Problem<S, C> {
  private readonly buffers: GPUBuffer[];
  private readonly uniform: GPUBuffer;

  constructor(private readonly host: TuneHost, private readonly family: TunableFamily<S, C>, private readonly shape: S) {
    const make = (n: number, data: boolean) => {
      const b = host.device.createBuffer({ size: Math.max(16, n * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: 'lepton autotune' });
      if (data) host.device.queue.writeBuffer(b, 0, Float32Array.from({ length: n }, (_, i) => Math.sin(i)));
      return b;
    };
    this.buffers = family.bindings(shape).map((b) => (b === 'unused' ? host.dummy : b === 'unusedOut' ? host.dummyOut
      : 'in' in b ? make(b.in, true) : make(b.out, false)));
    this.uniform = host.device.createBuffer({ size: 256, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'lepton autotune params' });
  }

  /** Microseconds per call under `config`: compile, one warm-up run, then the best of three timed batches. */
  async time(config: C, timer: Timer): Promise<number> {
    const plan = this.family.plan(this.shape, config, this.host.kind);
    const { pipeline, layout } = await this.host.compile(plan.kernel);
    const { slot, bytes } = Slot.standalone();
    plan.params(slot);
    this.host.device.queue.writeBuffer(this.uniform, 0, bytes);
    const bind = this.host.device.createBindGroup({
      layout,
      entries: [this.uniform, ...this.buffers].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const record = (pass: GPUComputePassEncoder, n: number) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      for (let i = 0; i < n; i++) pass.dispatchWorkgroups(plan.groups); // representative problems stay under 65,535 workgroups
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
    for (const b of this.buffers) if (b !== this.host.dummy && b !== this.host.dummyOut) b.destroy();
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
