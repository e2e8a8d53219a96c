// Seedable random numbers: the one generator behind the initialisers,
// randn/rand, the datasets, DataLoader shuffling, the demo and the playground.
// A splitmix32 stream (a Weyl sequence through a murmur3-style finaliser);
// Box–Muller turns pairs of uniforms into normals.
import { fail } from './errors.js';

const TWO_32 = 4294967296;

function checkSeed(op: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    fail(op, `argument 'seed' must be a finite number, got ${typeof seed === 'number' ? seed : typeof seed}`);
  }
  return seed;
}

/**
 * A seedable stream of random numbers (as PyTorch's `torch.Generator`): the
 * same seed gives the same numbers on every platform.
 *
 *   const g = new Generator(42);
 *   g.uniform(-1, 1); g.normal(); g.randint(10); g.randperm(5); g.shuffle(array);
 */
export class Generator {
  private s = 0;
  private seed0 = 0;
  private spare: number | null = null;

  /** Seeded with `seed` (its integer part, modulo 2³², picks the stream); without one, a random seed. */
  constructor(seed?: number) {
    this.manualSeed(seed === undefined ? Math.floor(Math.random() * TWO_32) : checkSeed('Generator', seed));
  }

  /** Restarts the stream from `seed`. Returns the generator. */
  manualSeed(seed: number): this {
    checkSeed('Generator.manualSeed', seed);
    this.seed0 = seed;
    this.s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
    this.spare = null;
    return this;
  }

  /** The seed the stream last started from. */
  initialSeed(): number {
    return this.seed0;
  }

  /** Uniform in [0, 1), a multiple of 2⁻³². */
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / TWO_32;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Normal with the given mean and standard deviation (Box–Muller; the second value is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u)), t = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(t);
    return mean + std * r * Math.cos(t);
  }

  /**
   * A uniform integer in [low, high) (as torch.randint); `randint(high)` is
   * [0, high). Exactly uniform (rejection sampling), for ranges up to 2³².
   */
  randint(lowOrHigh: number, high?: number): number {
    const low = high === undefined ? 0 : lowOrHigh, hi = high === undefined ? lowOrHigh : high;
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(hi) || hi <= low || hi - low > TWO_32) {
      fail('Generator.randint', `needs integers low < high with high - low <= 2^32, got low ${low}, high ${hi}`);
    }
    const range = hi - low;
    // Draws at or above the largest multiple of `range` below 2^32 would favour small results.
    const limit = TWO_32 - (TWO_32 % range);
    let u: number;
    do u = this.next() * TWO_32; while (u >= limit);
    return low + (u % range);
  }

  /** A random permutation of 0 … n−1 (as torch.randperm). */
  randperm(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1) fail('Generator.randperm', `argument 'n' must be a non-negative integer, got ${n}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it; every order is equally likely. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    if (!items || typeof items.length !== 'number') fail('Generator.shuffle', 'argument must be an array or a typed array');
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randint(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** @internal A new generator seeded from this stream (for sub-generators). */
  fork(): Generator {
    return new Generator(Math.floor(this.next() * TWO_32));
  }
}

const global = new Generator();

/** Seeds the generator used where no `seed` or `generator` is given (initialisers, randn, rand, DataLoader). */
export function manualSeed(seed: number): void {
  global.manualSeed(checkSeed('manualSeed', seed));
}

/** @internal The generator for an optional seed: a fresh one, or the global one. */
export function generatorFor(seed: number | undefined, op = 'seed'): Generator {
  return seed === undefined ? global : new Generator(checkSeed(op, seed));
}
