// init()'s options: names and kinds, and a second init() that asks a running
// backend for something it did not start with. Options that take effect when
// a backend starts (the WASM module and workers, the WebGPU adapter and its
// tuning) cannot change afterwards; as PyTorch's set_num_interop_threads and
// tfjs's setWasmPaths after start, asking is an error, never ignored.
import { fail } from '../errors.js';
import { accepts, bool, describe, either, integer, isPlain, number, oneOf, type OptionSpec } from '../options.js';
import type { Backend } from './backend.js';
import type { InitOptions } from './registry.js';

/** WASM threads: 'auto' or a positive integer (init and setBackendOptions). */
export const THREADS = either(oneOf('auto'), integer(1));

const BUDGET = number(0, Infinity, '()');
const AUTOTUNE = accepts<InitOptions['autotune']>('true, false or { budgetMs?: a finite number > 0, force?: boolean }', (v) => typeof v === 'boolean'
  || (isPlain(v) && Object.keys(v).every((k) => (k === 'budgetMs' && (v[k] === undefined || BUDGET.test(v[k])))
    || (k === 'force' && (v[k] === undefined || bool.test(v[k]))))));

export const INIT_OPTIONS: OptionSpec<InitOptions> = {
  backend: oneOf('auto', 'webgpu', 'wasm'),
  allowFallbackAdapter: bool,
  simd: oneOf('auto', 'relaxed', 'simd'),
  threads: THREADS,
  autotune: AUTOTUNE,
  webgpuTuning: accepts('a tuning from getTuning()', () => true),
  powerPreference: oneOf('low-power', 'high-performance'),
  // Checked in detail by checkRecoveryOptions (recovery.ts), which names the inner option.
  recovery: accepts('true, false or a RecoveryOptions object', () => true),
};

/** The options each running backend was started with. */
const started = new WeakMap<Backend, InitOptions>();

/** @internal Remembers what `be` was started with (registry.ts, when a backend starts). */
export function recordStart(be: Backend, opts: InitOptions): void {
  started.set(be, { ...opts });
}

const FIXED = { wasm: ['simd', 'threads'], webgpu: ['powerPreference', 'autotune', 'webgpuTuning'] } as const;
const fmt = (v: unknown) => (v === undefined ? 'unset' : typeof v === 'string' ? `'${v}'` : typeof v === 'object' && v !== null ? JSON.stringify(v) : describe(v));
const same = (a: unknown, b: unknown) => a === b || (typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));

/**
 * @internal A running backend asked for again: every start-time option given
 * must be what it was started with (or what that resolved to: threads 'auto'
 * on 8 cores accepts 8).
 */
export function checkRestart(be: Backend, opts: InitOptions): void {
  const first = started.get(be);
  if (!first) return;
  const name = be.name === 'wasm' ? 'WASM' : 'WebGPU';
  for (const key of FIXED[be.name]) {
    const v = opts[key];
    if (v === undefined) continue;
    const was = first[key] ?? (be.name === 'wasm' ? 'auto' : undefined);
    const running = be as unknown as { flavour?: string; threads?: number };
    const now = key === 'simd' ? running.flavour : key === 'threads' ? running.threads : undefined;
    if (same(v, was) || (now !== undefined && v === now)) continue;
    const tip = key === 'threads'
      ? `; to cap the threads later ops use, call setBackendOptions('wasm', { threads: ${fmt(v)} })`
      : '; pass the same value to later init() calls, or leave it out';
    fail('init', `option '${key}' is ${fmt(v)}, but the ${name} backend already runs with ${key} ${fmt(was)}${now !== undefined ? ` (${now})` : ''}; `
      + `it takes effect when the backend starts and cannot change while it runs${tip}`);
  }
}
