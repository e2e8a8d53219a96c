// Special-value checks: a float32 result against the float64 reference with
// IEEE semantics, one element at a time. Where the reference's answer is
// special (NaN, ±inf, a zero whose sign is defined) the result must be that
// exactly; elsewhere it is held to a relative tolerance.
//
// Denormals (|x| < 2^-126): WGSL lets an implementation flush them to zero, and
// SwiftShader does, on input and output. So on WebGPU a denormal input may be
// read as a zero of its sign (the expected answers then include the op at that
// zero), and a denormal answer may come back as a zero of its sign. On WASM
// inputs and results are IEEE, except where an op declares that it flushes
// tiny results: exp's polynomial gives 0 below 2^-126, and ops built on it
// (sigmoid, gelu as x / (1 + e^-2u)) lose results below ~2^-120 where their
// exponential overflows; those may be zeros on both backends.
import type { Backend } from '../../src/backends/backend.js';
import { label } from './backends.js';

export const FLT_MAX = 3.4028234663852886e38;
export const FLT_MIN = 2 ** -126;
/** The smallest denormal, and one in the middle of the denormal range. */
export const DENORM_MIN = 2 ** -149, DENORM = Math.fround(1e-39);

/** Every special input, with a few ordinary values around them. */
export const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, DENORM_MIN, -DENORM_MIN, DENORM, FLT_MIN, 3e38, -3e38,
  FLT_MAX, -FLT_MAX, 1, -1, 0.5, -2.5, 20, -20, 100, -100].map(Math.fround);
/** A shorter list for binary ops (every pair is tried). */
export const PAIR_VALUES = [NaN, Infinity, -Infinity, 0, -0, DENORM_MIN, -DENORM, 3e38, -3e38, 1, -2.5].map(Math.fround);

export const isDenormal = (v: number) => v !== 0 && Math.abs(v) < FLT_MIN;
const zeroOf = (v: number) => (v < 0 || Object.is(v, -0) ? -0 : 0);
export const show = (v: number) => (Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : String(Math.fround(v) === v ? v : v.toPrecision(8)));

export interface Policy {
  /** Relative tolerance for ordinary values. */
  tol?: number;
  /** An absolute error also accepted for ordinary values (a sum whose terms cancel: tol × the size of its terms). */
  atol?: number;
  /** Check the sign of a zero answer (default true). */
  signedZero?: boolean;
  /** Results below 2^-120 may be zeros (see above). */
  flushes?: boolean;
}

/**
 * The answers accepted on `be` for f(...xs): the reference's, and on WebGPU
 * those with denormal inputs read as zeros; with flushing, zeros for denormal answers.
 */
export function answers(be: Backend, f: (...xs: number[]) => number, xs: number[], p: Policy = {}): number[] {
  const gpu = be.name === 'webgpu';
  let variants: number[][] = [xs];
  if (gpu) {
    for (let i = 0; i < xs.length; i++) {
      if (isDenormal(xs[i])) variants = variants.flatMap((v) => [v, v.map((x, j) => (j === i ? zeroOf(x) : x))]);
    }
  }
  const out = variants.map((v) => f(...v));
  const tiny = p.flushes ? 2 ** -120 : gpu ? FLT_MIN : 0;
  for (const w of [...out]) if (w !== 0 && Math.abs(Math.fround(w)) < tiny) out.push(zeroOf(w));
  return out;
}

/** Whether the float32 `got` is the float64 answer `want` under the policy. */
export function matches(got: number, want: number, p: Policy = {}): boolean {
  const w = Math.fround(want); // the float32 the exact answer rounds to
  if (Number.isNaN(w)) return Number.isNaN(got);
  if (!Number.isFinite(w)) return got === w;
  if (w === 0) return got === 0 && (p.signedZero === false || Object.is(got, w));
  if (Object.is(got, w)) return true;
  // A denormal answer carries few digits: within one denormal step is as close as float32 gets.
  return Math.abs(got - want) <= Math.max((p.tol ?? 1e-5) * Math.abs(want), p.atol ?? 0, DENORM_MIN);
}

/**
 * Cases tried and failures, per op and backend. `check` records one element;
 * `assertClean` fails listing every wrong answer. LEPTON_SPECIAL_REPORT=1
 * prints the per-op table (cases, wrong) at the end of the file.
 */
export class SpecialTable {
  private rows = new Map<string, { cases: number; wrong: string[] }>();
  /** Failures since the last assertClean. */
  private pending = new Map<string, { cases: number; wrong: string[] }>();

  constructor(private title: string) {
    if (process.env.LEPTON_SPECIAL_REPORT) process.on('exit', () => this.print());
  }

  check(op: string, be: Backend | string, what: string, got: number, wants: number[], p: Policy = {}): void {
    const key = `${op}\t${typeof be === 'string' ? be : label(be)}`;
    const wrong = wants.some((w) => matches(got, w, p)) ? null
      : `${what} = ${show(got)}, needs ${[...new Set(wants.map((w) => show(Math.fround(w))))].join(' or ')}`;
    for (const rows of [this.rows, this.pending]) {
      const row = rows.get(key) ?? { cases: 0, wrong: [] };
      row.cases++;
      if (wrong) row.wrong.push(wrong);
      rows.set(key, row);
    }
  }

  /** Throws if any check since the last call failed. */
  assertClean(): void {
    const bad: string[] = [];
    for (const [key, row] of this.pending) {
      const [op, be] = key.split('\t');
      if (row.wrong.length) bad.push(`${op} on ${be}: ${row.wrong.length} of ${row.cases} wrong: ${row.wrong.slice(0, 6).join('; ')}`);
    }
    this.pending.clear();
    if (bad.length) throw new Error(`special values:\n  ${bad.join('\n  ')}`);
  }

  print(): void {
    console.log(`\n${this.title}: cases and wrong answers per op and backend`);
    for (const [key, row] of [...this.rows].sort(([a], [b]) => a.localeCompare(b))) {
      const [op, be] = key.split('\t');
      console.log(`  ${op.padEnd(26)} ${be.padEnd(24)} ${String(row.cases).padStart(5)} ${String(row.wrong.length).padStart(5)}  ${row.wrong.slice(0, 3).join('; ')}`);
    }
  }
}
