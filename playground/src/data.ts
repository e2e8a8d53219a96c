// Datasets made in code: four 2-class sets and two regression surfaces, in
// the square [-6, 6]² that the heatmap shows (points stay within about ±5, as
// in the TensorFlow Playground). Pure and seedable (lepton's Generator): the
// same arguments give the same points, so a link reproduces the data.
import { Generator } from 'lepton';

/** Half-width of the square the heatmap shows. */
export const EXTENT = 6;
/** Points per dataset (before the train/test split). */
export const DEFAULT_POINTS = 500;

export type ClassificationSet = 'circle' | 'xor' | 'gauss' | 'spiral';
export type RegressionSet = 'reg-plane' | 'reg-gauss';
export type DatasetId = ClassificationSet | RegressionSet;
export type Problem = 'classification' | 'regression';

export const DATASETS: readonly { id: DatasetId; label: string; problem: Problem }[] = [
  { id: 'circle', label: 'Circle', problem: 'classification' },
  { id: 'xor', label: 'Exclusive or', problem: 'classification' },
  { id: 'gauss', label: 'Two Gaussians', problem: 'classification' },
  { id: 'spiral', label: 'Spiral', problem: 'classification' },
  { id: 'reg-plane', label: 'Plane', problem: 'regression' },
  { id: 'reg-gauss', label: 'Gaussian bumps', problem: 'regression' },
];

export function problemOf(id: DatasetId): Problem {
  return id === 'reg-plane' || id === 'reg-gauss' ? 'regression' : 'classification';
}

/** Points and their targets: class ids 0 / 1 for classification, values in [-1, 1] for regression. */
export interface Points {
  /** Row-major [n, 2]: x, y of each point. */
  xy: Float32Array;
  label: Float32Array;
  n: number;
}

function make(n: number): Points {
  return { xy: new Float32Array(2 * n), label: new Float32Array(n), n };
}

function checkArgs(name: string, n: number, noise: number) {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`${name}: n must be an integer >= 2, got ${n}`);
  if (!(noise >= 0 && noise <= 1)) throw new RangeError(`${name}: noise must be in [0, 1], got ${noise}`);
}

/**
 * Class 1 inside radius 2.5, class 0 in the ring 3.5…5 (half the points
 * each). Noise moves each point by up to ±noise·5 per axis (uniform), so at
 * 50 % the two classes overlap; the label stays with the ring it came from.
 */
export function circle(n: number, noise: number, seed: number): Points {
  checkArgs('circle', n, noise);
  const rng = new Generator(seed), p = make(n), R = 5;
  for (let i = 0; i < n; i++) {
    const inner = i < n / 2;
    const r = inner ? rng.uniform(0, 0.5 * R) : rng.uniform(0.7 * R, R);
    const a = rng.uniform(0, 2 * Math.PI);
    p.xy[2 * i] = r * Math.sin(a) + rng.uniform(-1, 1) * noise * R;
    p.xy[2 * i + 1] = r * Math.cos(a) + rng.uniform(-1, 1) * noise * R;
    p.label[i] = inner ? 1 : 0;
  }
  return p;
}

/**
 * Uniform points in the four quadrants, kept 0.3 away from the axes: class 1
 * where x and y share a sign. Noise moves points by up to ±noise·5 per axis
 * after labelling (so noisy points can cross a quadrant border).
 */
export function xor(n: number, noise: number, seed: number): Points {
  checkArgs('xor', n, noise);
  const rng = new Generator(seed), p = make(n), pad = 0.3;
  for (let i = 0; i < n; i++) {
    let x = rng.uniform(-5, 5), y = rng.uniform(-5, 5);
    x += x > 0 ? pad : -pad;
    y += y > 0 ? pad : -pad;
    p.label[i] = x * y > 0 ? 1 : 0;
    p.xy[2 * i] = x + rng.uniform(-1, 1) * noise * 5;
    p.xy[2 * i + 1] = y + rng.uniform(-1, 1) * noise * 5;
  }
  return p;
}

/** Standard deviation of each blob of `gauss` for a noise level: 0.5 at 0, 2 at 50 %. */
export const gaussSigma = (noise: number) => 0.5 + 3 * noise;

/** Two round Gaussian blobs: class 1 around (2, 2), class 0 around (-2, -2); noise widens them. */
export function gauss(n: number, noise: number, seed: number): Points {
  checkArgs('gauss', n, noise);
  const rng = new Generator(seed), p = make(n), s = gaussSigma(noise);
  for (let i = 0; i < n; i++) {
    const one = i < n / 2, c = one ? 2 : -2;
    p.xy[2 * i] = c + s * rng.normal();
    p.xy[2 * i + 1] = c + s * rng.normal();
    p.label[i] = one ? 1 : 0;
  }
  return p;
}

/** Turns of each spiral arm from the centre out to radius 5. */
const SPIRAL_TURNS = 1.75;

/**
 * Two interleaved arms (class 1 and class 0, half the points each), winding
 * SPIRAL_TURNS turns from the centre to radius 5; the second arm is the first
 * turned by π. Noise moves points by up to ±noise·2 per axis.
 */
export function spiral(n: number, noise: number, seed: number): Points {
  checkArgs('spiral', n, noise);
  const rng = new Generator(seed), p = make(n), half = Math.ceil(n / 2);
  for (let i = 0; i < n; i++) {
    const one = i < half, k = one ? i : i - half, m = one ? half : n - half;
    const r = (5 * k) / Math.max(m, 1);
    const t = (2 * Math.PI * SPIRAL_TURNS * k) / Math.max(m, 1) + (one ? 0 : Math.PI);
    p.xy[2 * i] = r * Math.sin(t) + rng.uniform(-1, 1) * noise * 2;
    p.xy[2 * i + 1] = r * Math.cos(t) + rng.uniform(-1, 1) * noise * 2;
    p.label[i] = one ? 1 : 0;
  }
  return p;
}

/** The plane's value at (x, y): (x + y) / 10, in [-1, 1] over [-5, 5]². */
export const planeValue = (x: number, y: number) => (x + y) / 10;

/** Uniform points in [-5, 5]², target value(x, y) plus uniform noise of ±noise. */
function regression(id: DatasetId, value: (x: number, y: number) => number) {
  return (n: number, noise: number, seed: number): Points => {
    checkArgs(id, n, noise);
    const rng = new Generator(seed), p = make(n);
    for (let i = 0; i < n; i++) {
      const x = rng.uniform(-5, 5), y = rng.uniform(-5, 5);
      p.xy[2 * i] = x;
      p.xy[2 * i + 1] = y;
      p.label[i] = value(x, y) + rng.uniform(-1, 1) * noise;
    }
    return p;
  };
}

/** Target (x + y) / 10 plus noise. */
export const regPlane = regression('reg-plane', planeValue);

/** Centres and signs of the six bumps of `reg-gauss`. */
export const BUMPS: readonly { x: number; y: number; s: number }[] = [
  { x: -3, y: 3, s: 1 }, { x: 0, y: 3, s: -1 }, { x: 3, y: 3, s: 1 },
  { x: -3, y: -3, s: -1 }, { x: 0, y: -3, s: 1 }, { x: 3, y: -3, s: -1 },
];
const BUMP_SIGMA = 1.1;

/** Sum of signed Gaussian bumps (σ = 1.1) at `BUMPS`, clamped to [-1, 1]. */
export function bumpsValue(x: number, y: number): number {
  let v = 0;
  for (const b of BUMPS) v += b.s * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * BUMP_SIGMA ** 2));
  return Math.max(-1, Math.min(1, v));
}

/** Target `bumpsValue` plus noise. */
export const regGauss = regression('reg-gauss', bumpsValue);

const GENERATORS: Record<DatasetId, (n: number, noise: number, seed: number) => Points> = {
  circle, xor, gauss, spiral, 'reg-plane': regPlane, 'reg-gauss': regGauss,
};

/** Generates dataset `id`; `noise` is a fraction in [0, 1] (the page offers 0–50 %). */
export function generate(id: DatasetId, n: number, noise: number, seed: number): Points {
  const g = GENERATORS[id];
  if (!g) throw new RangeError(`unknown dataset ${JSON.stringify(id)}`);
  return g(n, noise, seed);
}

/** Rows `idx` of `p`, in that order. */
function subset(p: Points, idx: ArrayLike<number>): Points {
  const out = make(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i];
    out.xy[2 * i] = p.xy[2 * k];
    out.xy[2 * i + 1] = p.xy[2 * k + 1];
    out.label[i] = p.label[k];
  }
  return out;
}

/**
 * A seeded shuffle of `p` cut into train (round(n·trainFraction), at least
 * one point on each side) and test.
 */
export function split(p: Points, trainFraction: number, seed: number): { train: Points; test: Points } {
  if (!(trainFraction > 0 && trainFraction < 1)) throw new RangeError(`split: trainFraction must be in (0, 1), got ${trainFraction}`);
  const order = new Generator(seed ^ 0x5bd1e995).randperm(p.n);
  const nTrain = Math.min(p.n - 1, Math.max(1, Math.round(p.n * trainFraction)));
  return { train: subset(p, order.slice(0, nTrain)), test: subset(p, order.slice(nTrain)) };
}
