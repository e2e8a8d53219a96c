// Seeded random numbers for tests. Each run draws a fresh seed (printed once)
// unless LEPTON_TEST_SEED pins it, so failures can be replayed.

export const TEST_SEED = process.env.LEPTON_TEST_SEED ? Number(process.env.LEPTON_TEST_SEED) : (Date.now() % 1e9);
const g = globalThis as { __leptonSeedPrinted?: boolean };
if (!g.__leptonSeedPrinted) {
  g.__leptonSeedPrinted = true;
  console.log(`[lepton tests] random seed ${TEST_SEED} (replay with LEPTON_TEST_SEED=${TEST_SEED})`);
}

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo: number, hi: number) => lo + (hi - lo) * next(),
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    array(n: number, lo = -1, hi = 1) {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * next();
      return a;
    },
  };
}
export type Rng = ReturnType<typeof rng>;

/** A per-file stream: the run seed mixed with a name, so files are independent. */
export function testRng(name: string): Rng {
  let h = TEST_SEED >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return rng(h);
}
