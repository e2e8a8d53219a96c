// The f32x4 arithmetic ceiling of this engine + CPU, one thread: the rate of
// bench/ceiling.as.ts's independent multiply-add chains (built by
// `node tools/build.mjs wasm`). The bench reports kernels as a share of it.
import relaxedBytes from '../build/ceiling-relaxed.wasm';
import simdBytes from '../build/ceiling-simd.wasm';

type Chains = (iters: number, m: number, a: number, c0: number) => number;
interface Loop { run: Chains; flopPerIter: number }

/** Runs of the timed loop, after warm-up; the median is reported. */
const RUNS = 5;
/** Length of one timed run. */
const RUN_MS = 12;
/** Warm-up ends once two runs agree this closely (V8 has tiered the loop up) or after WARM_MS. */
const SETTLED = 0.03;
const WARM_MS = 150;

/** GFLOP/s of a loop: warm-up until the rate settles, then the median of RUNS timed runs. */
function rate({ run, flopPerIter }: Loop): number {
  let iters = 1 << 16;
  const gflops = (n: number) => {
    const t0 = performance.now();
    const sink = run(n, 0.999, 0.001, 1); // chains converge to 1 (see ceiling.as.ts)
    const ms = performance.now() - t0;
    if (!Number.isFinite(sink)) throw new Error('ceiling: chains diverged');
    return { ms, rate: (n * flopPerIter) / (ms * 1e6) };
  };
  // Warm-up: V8 runs a new function in its baseline tier first and swaps in the
  // optimised code for later calls, so repeat short calls until the rate holds.
  const start = performance.now();
  let last = 0;
  for (;;) {
    const { ms, rate: r } = gflops(iters);
    if (ms < RUN_MS / 2) iters *= 2;
    const settled = last > 0 && Math.abs(r - last) <= SETTLED * Math.max(r, last);
    last = r;
    if ((settled && ms >= RUN_MS / 4) || performance.now() - start > WARM_MS) break;
  }
  // Size a run to about RUN_MS at the settled rate.
  iters = Math.max(1, Math.round((last * 1e6 * RUN_MS) / flopPerIter));
  const rates = Array.from({ length: RUNS }, () => gflops(iters).rate).sort((x, y) => x - y);
  return rates[RUNS >> 1];
}

async function load(bytes: Uint8Array<ArrayBuffer>): Promise<WebAssembly.Exports | null> {
  if (!WebAssembly.validate(bytes)) return null;
  const { instance } = await WebAssembly.instantiate(bytes, {});
  return instance.exports;
}

/**
 * Peak single-thread GFLOP/s of f32x4 multiply-adds: `simd` with f32x4.mul +
 * f32x4.add, `relaxed` with f32x4.relaxed_madd (null where the runtime lacks
 * relaxed SIMD). 2 FLOP per lane per multiply-add. Takes about 0.3 s.
 */
export async function measureCeilings(): Promise<{ simd: number; relaxed: number | null }> {
  const simd = await load(simdBytes);
  if (!simd) throw new Error('ceiling: this runtime does not support WebAssembly SIMD128');
  const flopPerIter = (simd.FLOP_PER_ITER as WebAssembly.Global).value as number;
  const simdRate = rate({ run: simd.mulAdd as Chains, flopPerIter });
  const relaxed = await load(relaxedBytes);
  const relaxedRate = relaxed ? rate({ run: relaxed.madd as Chains, flopPerIter }) : null;
  return { simd: simdRate, relaxed: relaxedRate };
}
