// The playground's dataset generators: sizes, labels, class balance, geometry
// at zero noise, how noise scales, seeded determinism, and the split. (Their
// random numbers come from lepton's Generator, tested in test/random.test.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUMPS, bumpsValue, circle, DATASETS, EXTENT, gauss, gaussSigma, generate, planeValue, problemOf, regGauss, regPlane,
  spiral, split, xor, type DatasetId, type Points,
} from '../../playground/src/data.js';

const N = 2000;
const radius = (p: Points, i: number) => Math.hypot(p.xy[2 * i], p.xy[2 * i + 1]);
const count = (p: Points, label: number) => p.label.reduce((c, v) => c + (v === label ? 1 : 0), 0);
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

test('every dataset: n points, finite coordinates, labels of its problem type', () => {
  for (const d of DATASETS) {
    const p = generate(d.id, 301, 0.3, 5);
    assert.is(p.n, 301, d.id);
    assert.is(p.xy.length, 602, d.id);
    assert.is(p.label.length, 301, d.id);
    assert.ok(p.xy.every(Number.isFinite), `${d.id}: finite coordinates`);
    assert.is(problemOf(d.id), d.problem);
    if (d.problem === 'classification') assert.ok(p.label.every((v) => v === 0 || v === 1), `${d.id}: class ids 0/1`);
    else assert.ok(p.label.every((v) => v >= -1.3 - 1e-6 && v <= 1.3 + 1e-6), `${d.id}: target within [-1, 1] ± noise`);
  }
});

test('noise-free points lie inside the square the heatmap shows', () => {
  for (const d of DATASETS) {
    const p = generate(d.id, N, 0, 3);
    const m = Math.max(...Array.from(p.xy, Math.abs));
    assert.ok(m <= EXTENT, `${d.id}: max |coordinate| ${m} <= ${EXTENT}`);
  }
});

test('class balance: circle, gauss and spiral split exactly in half; xor about half', () => {
  for (const id of ['circle', 'gauss', 'spiral'] as DatasetId[]) {
    const p = generate(id, N, 0.2, 11);
    assert.is(count(p, 1), N / 2, id);
    assert.is(count(p, 0), N / 2, id);
  }
  const x = xor(N, 0, 11);
  assert.ok(Math.abs(count(x, 1) / N - 0.5) < 0.05, `xor class-1 share ${count(x, 1) / N}`);
});

test('seeded: the same arguments give the same points; another seed gives others', () => {
  for (const d of DATASETS) {
    const a = generate(d.id, 200, 0.25, 42), b = generate(d.id, 200, 0.25, 42), c = generate(d.id, 200, 0.25, 43);
    assert.ok(same(a.xy, b.xy) && same(a.label, b.label), `${d.id}: deterministic`);
    assert.not.ok(same(a.xy, c.xy), `${d.id}: seed matters`);
  }
});

test('circle at zero noise: class 1 within radius 2.5, class 0 in the ring 3.5..5', () => {
  const p = circle(N, 0, 2);
  for (let i = 0; i < N; i++) {
    const r = radius(p, i);
    if (p.label[i] === 1) assert.ok(r <= 2.5 + 1e-5, `inner point at r = ${r}`);
    else assert.ok(r >= 3.5 - 1e-5 && r <= 5 + 1e-5, `ring point at r = ${r}`);
  }
});

test('xor at zero noise: class 1 exactly where x and y share a sign, 0.3 away from the axes', () => {
  const p = xor(N, 0, 9);
  for (let i = 0; i < N; i++) {
    const x = p.xy[2 * i], y = p.xy[2 * i + 1];
    assert.is(p.label[i], x * y > 0 ? 1 : 0);
    assert.ok(Math.abs(x) >= 0.3 - 1e-6 && Math.abs(y) >= 0.3 - 1e-6);
    assert.ok(Math.abs(x) <= 5.3 + 1e-5 && Math.abs(y) <= 5.3 + 1e-5);
  }
});

test('gauss: blob means at (2, 2) and (-2, -2); spread follows gaussSigma(noise)', () => {
  for (const noise of [0, 0.25, 0.5]) {
    const p = gauss(N, noise, 4), s = gaussSigma(noise);
    for (const [label, c] of [[1, 2], [0, -2]] as const) {
      let mx = 0, my = 0, k = 0;
      for (let i = 0; i < N; i++) if (p.label[i] === label) { mx += p.xy[2 * i]; my += p.xy[2 * i + 1]; k++; }
      mx /= k; my /= k;
      // Standard error of a mean of 1000 draws is s/√1000 ≈ 0.03·s; allow 5 of them.
      assert.ok(Math.abs(mx - c) < 0.16 * s && Math.abs(my - c) < 0.16 * s, `noise ${noise}, class ${label}: mean (${mx}, ${my})`);
      let v = 0;
      for (let i = 0; i < N; i++) if (p.label[i] === label) v += (p.xy[2 * i] - mx) ** 2;
      const sd = Math.sqrt(v / (k - 1));
      assert.ok(Math.abs(sd / s - 1) < 0.1, `noise ${noise}: sd ${sd} vs ${s}`);
    }
  }
  assert.is(gaussSigma(0), 0.5);
  assert.is(gaussSigma(0.5), 2);
});

test('spiral at zero noise: arm 0 is arm 1 turned by π, radius grows along each arm to 5', () => {
  const p = spiral(N, 0, 1), half = N / 2;
  let lastR = -1;
  for (let k = 0; k < half; k++) {
    const a = k, b = k + half;
    assert.ok(Math.abs(p.xy[2 * a] + p.xy[2 * b]) < 1e-5 && Math.abs(p.xy[2 * a + 1] + p.xy[2 * b + 1]) < 1e-5, `point ${k} mirrors`);
    const r = radius(p, a);
    assert.ok(r >= lastR - 1e-6, 'radius non-decreasing along the arm');
    assert.ok(Math.abs(r - (5 * k) / half) < 1e-4, `radius ${r} at ${k}`);
    lastR = r;
  }
});

test('noise moves each point by at most its bound per axis, and more noise moves points more', () => {
  const bound: Record<string, number> = { circle: 5, xor: 5, spiral: 2 };
  for (const id of ['circle', 'xor', 'spiral'] as DatasetId[]) {
    const clean = generate(id, N, 0, 8);
    let prevMean = 0;
    for (const noise of [0.1, 0.3, 0.5]) {
      // Same seed: the generators draw the same numbers whatever the noise, so the shift is the jitter alone.
      const p = generate(id, N, noise, 8);
      let mean = 0, max = 0;
      for (let i = 0; i < 2 * N; i++) { const d = Math.abs(p.xy[i] - clean.xy[i]); mean += d; max = Math.max(max, d); }
      mean /= 2 * N;
      assert.ok(max <= noise * bound[id] + 1e-4, `${id} noise ${noise}: max shift ${max}`);
      // Uniform(−b, b) jitter has mean |shift| b/2.
      assert.ok(Math.abs(mean / ((noise * bound[id]) / 2) - 1) < 0.1, `${id} noise ${noise}: mean shift ${mean}`);
      assert.ok(mean > prevMean, `${id}: shift grows with noise`);
      prevMean = mean;
      assert.ok(same(p.label, clean.label), `${id}: labels stay with the generating class`);
    }
  }
});

test('regression: the plane and the bumps, with label noise of at most ±noise', () => {
  for (const noise of [0, 0.2]) {
    const p = regPlane(N, noise, 6), q = regGauss(N, noise, 6);
    for (let i = 0; i < N; i++) {
      const x = p.xy[2 * i], y = p.xy[2 * i + 1];
      assert.ok(Math.abs(x) <= 5 && Math.abs(y) <= 5);
      assert.ok(Math.abs(p.label[i] - (x + y) / 10) <= noise + 1e-6, 'plane');
      const u = q.xy[2 * i], v = q.xy[2 * i + 1];
      assert.ok(Math.abs(q.label[i] - bumpsValue(u, v)) <= noise + 1e-6, 'bumps');
    }
  }
  assert.is(planeValue(5, 5), 1);
  assert.is(planeValue(-5, -5), -1);
  for (const b of BUMPS) assert.ok(Math.sign(bumpsValue(b.x, b.y)) === b.s && Math.abs(bumpsValue(b.x, b.y)) > 0.9, `bump at (${b.x}, ${b.y})`);
  assert.ok(Math.abs(bumpsValue(0, 0)) < 0.1, 'flat between the rows of bumps');
});

test('split: sizes, no point lost or repeated, deterministic', () => {
  const p = generate('spiral', 500, 0.1, 3);
  for (const f of [0.1, 0.5, 0.9]) {
    const { train, test: te } = split(p, f, 7);
    assert.is(train.n, Math.round(500 * f));
    assert.is(train.n + te.n, 500);
    const key = (q: Points, i: number) => `${q.xy[2 * i]},${q.xy[2 * i + 1]},${q.label[i]}`;
    const all = new Set(Array.from({ length: 500 }, (_, i) => key(p, i)));
    const seen = new Set<string>();
    for (const q of [train, te]) for (let i = 0; i < q.n; i++) { const k = key(q, i); assert.ok(all.has(k)); assert.not.ok(seen.has(k)); seen.add(k); }
    const again = split(p, f, 7);
    assert.ok(same(again.train.xy, train.xy));
  }
  assert.throws(() => split(p, 1, 0), /trainFraction/);
  assert.throws(() => generate('spiral', 1, 0, 0), /n must be/);
  assert.throws(() => generate('spiral', 10, 2, 0), /noise/);
});

test.run();
