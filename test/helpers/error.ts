// Relative error ‖out − ref‖ / ‖ref‖ and a per-kernel record of the worst one,
// printed when the test process exits.

export function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (out.length !== ref.length) return Infinity;
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
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
  process.on('exit', () => {
    if (worst.size === 0) return;
    const rows = [...worst].sort(([a], [b]) => a.localeCompare(b));
    const w = Math.max(...rows.map(([k]) => k.length));
    console.log('\nWorst relative error per kernel (‖out − ref‖ / ‖ref‖ against float64):');
    for (const [k, v] of rows) {
      console.log(`  ${k.padEnd(w)}  ${v.err.toExponential(2)}  over ${String(v.cases).padStart(3)} cases  (worst: ${v.where})`);
    }
  });
}
