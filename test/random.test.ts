// The public Generator: the documented stream (checked against an independent
// BigInt implementation of splitmix32), determinism, and the distributions of
// every draw (uniform, normal, randint, randperm, shuffle) by moments and
// chi-square tests at thresholds a correct generator fails about once in 10⁶ runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, init, LeptonError, manualSeed, randn } from '../src/index.js';

await init({ backend: 'wasm' });

/** splitmix32 in BigInt: state₀ = seed ^ 0x9e3779b9, stateₖ = stateₖ₋₁ + 0x9e3779b9, output fmix32(stateₖ) / 2³². */
function reference(seed: number, count: number): number[] {
  const M = 0xffffffffn;
  let s = (BigInt.asUintN(32, BigInt(Math.floor(seed))) ^ 0x9e3779b9n) & M;
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    s = (s + 0x9e3779b9n) & M;
    let z = s;
    z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M;
    z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M;
    z = z ^ (z >> 16n);
    out.push(Number(z) / 2 ** 32);
  }
  return out;
}

/** Pearson's statistic of observed counts against equal expected counts. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0), e = total / counts.length;
  return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
}
// Upper 1e-6 quantiles of chi-square: 6 dof ≈ 39.6, 9 dof ≈ 44.3, 5 dof ≈ 36.6.

test('the stream is splitmix32 as documented, for small, large and negative seeds', () => {
  for (const seed of [0, 1, 42, 2 ** 32 + 5, -7, 123456789.75]) {
    const g = new Generator(seed);
    const got = Array.from({ length: 50 }, () => g.next());
    assert.equal(got, reference(seed, 50), `seed ${seed}`);
  }
});

test('seeding: same seed same numbers, manualSeed restarts, initialSeed reports, unseeded generators differ', () => {
  const a = new Generator(9), b = new Generator(9);
  const xs = [a.next(), a.normal(), a.randint(100), a.uniform(2, 3)];
  assert.equal([b.next(), b.normal(), b.randint(100), b.uniform(2, 3)], xs);
  assert.is(a.manualSeed(9), a, 'manualSeed returns the generator');
  assert.is(a.next(), xs[0]);
  assert.is(a.initialSeed(), 9);
  assert.ok(new Generator().next() !== new Generator().next() || new Generator().next() !== new Generator().next());
  // manualSeed() seeds the global generator that randn uses without a seed.
  manualSeed(5);
  const r1 = randn([4]).dataSync();
  manualSeed(5);
  const r2 = randn([4]).dataSync();
  assert.equal([...r1], [...r2]);
});

test('uniform(low, high) stays in range with mean (low+high)/2 and variance (high-low)²/12', () => {
  const g = new Generator(11), n = 100000;
  let s = 0, s2 = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) { const u = g.uniform(-3, 5); s += u; s2 += u * u; lo = Math.min(lo, u); hi = Math.max(hi, u); }
  assert.ok(lo >= -3 && hi < 5);
  const mean = s / n, variance = s2 / n - mean * mean;
  // Standard error of the mean: sqrt(64/12/n) ≈ 0.0073; allow 5.
  assert.ok(Math.abs(mean - 1) < 0.037, `mean ${mean}`);
  assert.ok(Math.abs(variance / (64 / 12) - 1) < 0.03, `variance ${variance}`);
});

test('normal(mean, std): moments and the share within one and two standard deviations', () => {
  const g = new Generator(12), n = 100000;
  let s = 0, s2 = 0, in1 = 0, in2 = 0;
  for (let i = 0; i < n; i++) {
    const z = g.normal(3, 2);
    s += z; s2 += z * z;
    if (Math.abs(z - 3) < 2) in1++;
    if (Math.abs(z - 3) < 4) in2++;
  }
  const mean = s / n, sd = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean - 3) < 5 * 2 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(sd / 2 - 1) < 0.02, `sd ${sd}`);
  assert.ok(Math.abs(in1 / n - 0.682689) < 0.0075, `within 1 sd: ${in1 / n}`);
  assert.ok(Math.abs(in2 / n - 0.954500) < 0.0035, `within 2 sd: ${in2 / n}`);
});

test('randint: both forms, the bounds, every value equally likely (chi-square)', () => {
  const g = new Generator(13);
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70000; i++) {
    const v = g.randint(-2, 5);
    assert.ok(Number.isInteger(v) && v >= -2 && v < 5, `randint(-2, 5) gave ${v}`);
    counts[v + 2]++;
  }
  assert.ok(chiSquare(counts) < 39.6, `chi-square ${chiSquare(counts)} over ${counts}`);
  const ten = new Array(10).fill(0);
  for (let i = 0; i < 50000; i++) ten[g.randint(10)]++;
  assert.ok(chiSquare(ten) < 44.3, `randint(10): ${ten}`);
  // A range that is not a power of two near 2^32 stays in range (rejection sampling).
  for (let i = 0; i < 1000; i++) { const v = g.randint(3 * 2 ** 30); assert.ok(v >= 0 && v < 3 * 2 ** 30 && Number.isInteger(v)); }
  assert.is(g.randint(4, 5), 4);
});

test('randperm and shuffle: permutations, every order of three equally likely, in place', () => {
  const g = new Generator(14);
  const p = g.randperm(1000);
  assert.ok(p instanceof Int32Array);
  assert.equal([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.equal([...g.randperm(0)], []);
  const orders = new Map<string, number>();
  for (let i = 0; i < 60000; i++) { const k = [...g.randperm(3)].join(''); orders.set(k, (orders.get(k) ?? 0) + 1); }
  assert.is(orders.size, 6);
  assert.ok(chiSquare([...orders.values()]) < 36.6, JSON.stringify([...orders]));
  const arr = ['a', 'b', 'c', 'd', 'e'];
  const same = g.shuffle(arr);
  assert.is(same, arr, 'shuffles in place and returns the array');
  assert.equal([...arr].sort(), ['a', 'b', 'c', 'd', 'e']);
  const f = Float32Array.of(1, 2, 3, 4);
  g.shuffle(f);
  assert.equal([...f].sort(), [1, 2, 3, 4]);
});

test('bad arguments throw LeptonErrors naming the call', () => {
  const g = new Generator(1);
  const bad: [() => unknown, RegExp][] = [
    [() => new Generator(NaN), /Generator: argument 'seed' must be a finite number, got NaN/],
    [() => new Generator('3' as unknown as number), /Generator: argument 'seed' must be a finite number, got string/],
    [() => g.manualSeed(Infinity), /Generator.manualSeed: argument 'seed'/],
    [() => manualSeed(NaN), /manualSeed: argument 'seed'/],
    [() => g.randint(5, 5), /Generator.randint: needs integers low < high/],
    [() => g.randint(0.5), /Generator.randint/],
    [() => g.randint(0, 2 ** 32 + 1), /high - low <= 2\^32/],
    [() => g.randperm(-1), /Generator.randperm: argument 'n' must be a non-negative integer, got -1/],
    [() => randn([2], { seed: NaN }), /randn: option 'seed' must be a finite number, got NaN/],
  ];
  for (const [f, re] of bad) {
    try { f(); assert.unreachable(`no error for ${re}`); } catch (e) {
      assert.instance(e, LeptonError);
      assert.match((e as Error).message, re);
    }
  }
});

test.run();
