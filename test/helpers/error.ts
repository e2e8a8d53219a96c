// Relative error ‖out − ref‖ / ‖ref‖ (or a scale) and a per-kernel record of the worst one,
// printed when the test process exits.

/**
 * ‖out − ref‖ / ‖scale‖; scale defaults to ref. A test passes a larger scale
 * (elementwise ≥ |ref|) where the exact result is a cancellation of larger
 * terms, which float32 can only get right relative to those terms.
 */
export function relErr(out: ArrayLike<number>, ref: ArrayLike<number>, scale: ArrayLike<number> = ref): number {
  if (out.length !== ref.length || scale.length !== ref.length) return Infinity;
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i] - ref[i];
    num += d * d;
    den += scale[i] * scale[i];
  }
  // NaN anywhere (a poisoned, unwritten element) makes num NaN, which fails every `<` check.
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
}

const worst = new Map<string, { err: number; cases: number; where: string }>();

/** Remember the error of one case; `key` is e.g. "matmul · wasm". */
export function record(key: string, err: number, where: string) {
  const w = worst.get(key) ?? { err: 0, cases: 0, where: '' };
  w.cases++;
  if (!(err <= w.err)) { w.err = err; w.where = where; }
  worst.set(key, w);
}

const g = globalThis as { __leptonReportHooked?: boolean };
if (!g.__leptonReportHooked) {
  g.__leptonReportHooked = true;
  // uvu prints a file's failures in the middle of the log; keep them so the
  // exit report can end with them (CI logs are often read from the tail).
  const failures: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.includes(' FAIL ')) failures.push(chunk);
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  process.on('exit', () => {
    if (worst.size > 0) printWorst();
    if (failures.length > 0) console.log(`\nFailed tests (repeated from above):\n${failures.join('\n')}`);
  });
  function printWorst() {
    const rows = [...worst].sort(([a], [b]) => a.localeCompare(b));
    const w = Math.max(...rows.map(([k]) => k.length));
    console.log('\nWorst relative error per kernel against float64 (‖out − ref‖ / ‖ref‖, or / ‖scale of the terms‖ where they cancel):');
    for (const [k, v] of rows) {
      console.log(`  ${k.padEnd(w)}  ${v.err.toExponential(2)}  over ${String(v.cases).padStart(3)} cases  (worst: ${v.where})`);
    }
  }
}
