// Sampling a timed call, shared by the Node bench (bench/harness.ts) and the
// playground's in-browser bench tab: no Node imports here.

export interface SampleOptions {
  /** Untimed calls first. */
  warmups: number;
  /** At least this many samples, at most `max`, and more only while within `budgetMs`. */
  min: number;
  max: number;
  budgetMs: number;
  /** Runs before each call, untimed (the Node bench: a minor garbage collection, see bench/README.md). */
  between?: () => void;
}

/** Times `run` (each call must end with a readback) per the options; samples in ms, ascending. */
export async function sample(run: () => Promise<unknown>, o: SampleOptions): Promise<number[]> {
  for (let i = 0; i < o.warmups; i++) await run();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < o.min || (samples.length < o.max && performance.now() - start < o.budgetMs)) {
    o.between?.();
    const t = performance.now();
    await run();
    samples.push(performance.now() - t);
  }
  return samples.sort((a, b) => a - b);
}

/** The median of ascending samples. */
export function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}
