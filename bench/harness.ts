// The runner side of the benchmark protocol. The orchestrator (run.ts)
// starts one process per library and passes a plan in BENCH_PLAN; the runner
// times each (config, problem) and prints one `@@bench` JSON line per result.
import { checksum, problems, type Problem } from './problems.js';
import { median, sample } from '../measure/timing.js';

export interface Plan {
  quick: boolean;
  /** Problem ids to run (all when empty). */
  only: string[];
  /** Configs of this runner to run (all when empty). */
  configs: string[];
  /** Skip WebGPU problems above this many GFLOP on a fallback (CPU) adapter. */
  fallbackGpuMaxGflop: number;
}

export interface Result {
  config: string;
  problem: string;
  /** Milliseconds per call, sorted samples. */
  samples?: number[];
  medianMs?: number;
  minMs?: number;
  maxMs?: number;
  check?: number;
  skipped?: string;
  error?: string;
  info?: string;
  /** Peak bytes one call allocated above its inputs, as the library counts them (see bench/README.md). */
  peakBytes?: number;
}

export function readPlan(): Plan {
  const raw = process.env.BENCH_PLAN;
  return raw ? JSON.parse(raw) as Plan : { quick: false, only: [], configs: [], fallbackGpuMaxGflop: 2.2 };
}

export function emit(r: Result): void {
  process.stdout.write(`@@bench ${JSON.stringify(r)}\n`);
}

/** Announces what a config runs on (adapter, threads), for the report. */
export function describe(config: string, text: string): void {
  process.stdout.write(`@@describe ${JSON.stringify({ config, text })}\n`);
}

/**
 * A young-generation collection before each timed call, in every runner (run.ts
 * starts them with --expose-gc): the previous call's read-back array, released
 * just before, is freed there and its memory reused, instead of each call
 * faulting in fresh pages (~14 µs per 4 KiB on this VM) until V8 happens to
 * collect. Untimed for all.
 */
const gc = (globalThis as { gc?: (o?: { type: 'minor' | 'major' }) => void }).gc;
const minorGc = gc ? () => gc({ type: 'minor' }) : undefined;

/**
 * The C heap pre-touched once, as the runner starts (before any problem is timed): a block of
 * BENCH_PREFAULT_MIB (run.ts sets 512) is written and freed. run.ts keeps the
 * heap from returning memory to the system, so the block's pages stay
 * resident and later allocations (read-back arrays) reuse them. Without it a
 * library whose readbacks are freed late (tfjs-wasm: dozens of calls later)
 * faults every array in fresh, at ~13 µs per 4 KiB page on the bench VM
 * against well under 1 µs on bare metal: the VM's cost, not the library's.
 */
function prefaultHeap(): void {
  const mib = Number(process.env.BENCH_PREFAULT_MIB ?? 0);
  if (!(mib > 0) || !gc) return;
  Buffer.allocUnsafe(mib * 2 ** 20).fill(1); // allocUnsafe: malloc, not a calloc of untouched pages
  gc({ type: 'major' });
}
prefaultHeap();

/**
 * Warm-up, then samples until the time budget is spent (at least `min`),
 * each sample one call that ends with a readback. A very slow case takes
 * fewer samples so the whole run stays bounded.
 */
export async function time(run: () => Promise<void>, quick: boolean, release?: () => void): Promise<number[]> {
  const t = performance.now();
  await run();
  const first = performance.now() - t;
  return sample(run, {
    warmups: first < 200 ? 1 : 0, // a second warm-up where it is cheap
    min: first > 3000 ? 1 : first > 800 ? 3 : quick ? 5 : 7, max: 60, budgetMs: quick ? 300 : 1200,
    between: () => { release?.(); minorGc?.(); },
  });
}

export interface Case {
  /**
   * Prepares inputs (untimed) and returns the timed call, or a reason to skip.
   * `run` resolves to what it read back (a product, or a step's loss): the
   * last value is the cross-check.
   */
  prepare(p: Problem): Promise<{
    run: () => Promise<ArrayLike<number> | number>; dispose: () => void;
    /** Runs one more call and returns the peak bytes it allocated above its inputs (where the library can tell). */
    peak?: () => Promise<number | null>;
  } | { skip: string }>;
}

/** Whether the plan includes `config` (all configs when none are named). */
export const wants = (plan: Plan, config: string) => plan.configs.length === 0 || plan.configs.includes(config);

/**
 * Runs every planned problem on one config and emits the results. On a CPU
 * (fallback) WebGPU adapter, problems over the plan's size limit are skipped.
 */
export async function runConfig(config: string, c: Case, plan: Plan, opts: { fallback?: boolean } = {}): Promise<void> {
  if (!wants(plan, config)) return;
  for (const p of problems(plan.quick)) {
    if (plan.only.length && !plan.only.includes(p.id)) continue;
    try {
      const big = tooBigForFallback(p, opts.fallback ?? false, plan);
      if (big) { emit({ config, problem: p.id, skipped: big }); continue; }
      const prepared = await c.prepare(p);
      if ('skip' in prepared) { emit({ config, problem: p.id, skipped: prepared.skip }); continue; }
      let last: ArrayLike<number> | number = NaN;
      // A full collection first: the previous problem's arrays (some promoted, tens of MB) are freed
      // before this one is timed, not by a major GC in the middle of its samples.
      gc?.({ type: 'major' });
      try {
        // The previous call's result is dropped before each call (the last one is kept for the check).
        const samples = await time(async () => { last = await prepared.run(); }, plan.quick, () => { last = NaN; });
        const check = typeof last === 'number' ? last : checksum(last);
        const peakBytes = prepared.peak ? (await prepared.peak()) ?? undefined : undefined;
        emit({ config, problem: p.id, samples, medianMs: median(samples), minMs: samples[0], maxMs: samples[samples.length - 1], check, peakBytes });
      } finally {
        prepared.dispose();
      }
    } catch (e) {
      emit({ config, problem: p.id, error: (e as Error).message.split('\n')[0].slice(0, 300) });
    }
  }
}

/**
 * Node 20 has no navigator; the peers read navigator.gpu (Dawn's GPU here, the
 * same one lepton's backend uses), userAgent and hardwareConcurrency.
 */
export async function shimNavigator(gpu: GPU | null): Promise<void> {
  const nav = (globalThis as { navigator?: object }).navigator ?? {};
  const { availableParallelism } = await import('node:os');
  const shim = Object.assign(Object.create(nav), { userAgent: `Node.js/${process.version}`, hardwareConcurrency: availableParallelism() }, gpu ? { gpu } : {});
  Object.defineProperty(globalThis, 'navigator', { value: shim, configurable: true });
}

/**
 * The GPU for the peers' runners (each runs in its own process, without
 * lepton): navigator.gpu where it exists, else one from Dawn's `webgpu`
 * package, exposed as navigator.gpu. Null when neither is there.
 */
export async function nodeWebGPU(): Promise<GPU | null> {
  let gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? null;
  if (!gpu) {
    try {
      const dawn = await import('webgpu');
      Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, … as in browsers
      gpu = dawn.create([]);
      // Dawn crashes the process if this object is collected while a device lives: keep it reachable.
      (globalThis as { __benchDawnGPU?: GPU }).__benchDawnGPU = gpu;
    } catch {
      gpu = null; // the optional `webgpu` package is not installed
    }
  }
  await shimNavigator(gpu);
  return gpu;
}

/** Whether the adapter runs on the CPU (SwiftShader): big GPU problems are then skipped. */
export async function isFallback(gpu: GPU): Promise<boolean> {
  const a = await gpu.requestAdapter();
  return !!a && (a.info?.isFallbackAdapter ?? false);
}

function tooBigForFallback(p: Problem, fallback: boolean, plan: Plan): string | null {
  if (!fallback) return null;
  const gflop = p.flops / 1e9;
  return gflop > plan.fallbackGpuMaxGflop ? `> ${plan.fallbackGpuMaxGflop} GFLOP on a CPU (fallback) adapter` : null;
}
