// The Digits tab's data: the 10,000 MNIST digits of the `mnist` package,
// packed at build time into digits.bin.gz (tools/pack-digits.mjs documents
// the layout), fetched from the page's own server, the fixed 8,000 / 2,000
// train / held-out split, and the normalisation. No DOM here.
import { Generator } from 'lepton';

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;
export const CLASSES = 10;
/** The fixed split, as the MNIST demo makes it. */
export const TRAIN_COUNT = 8000;
export const HELD_OUT_COUNT = 2000;
/** The seed of the one permutation that makes the split: the MNIST demo's (examples/mnist-data.ts), not a setting. */
export const SPLIT_SEED = 20_251_203;

/** Every digit: labels 0-9 and uint8 pixels [count, 28, 28] (255 = full ink). */
export interface Digits { count: number; labels: Uint8Array; pixels: Uint8Array }

/** The asset's bytes (uncompressed) as Digits; throws on anything but the layout tools/pack-digits.mjs writes. */
export function decodeDigits(bytes: Uint8Array): Digits {
  if (bytes.length < 16 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'LDG1') throw new Error('digits asset: not an LDG1 file (rebuild the playground)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(4, true), rows = view.getUint16(8, true), cols = view.getUint16(10, true);
  if (rows !== SIDE || cols !== SIDE) throw new Error(`digits asset: images are ${rows}×${cols}, expected ${SIDE}×${SIDE}`);
  if (bytes.length !== 16 + count * (1 + PIXELS)) throw new Error(`digits asset: ${bytes.length} bytes, expected ${16 + count * (1 + PIXELS)} for ${count} images`);
  const labels = bytes.subarray(16, 16 + count);
  for (const l of labels) if (l >= CLASSES) throw new Error(`digits asset: label ${l} is not a digit`);
  return { count, labels, pixels: bytes.subarray(16 + count) };
}

/** gunzip with the browser's DecompressionStream; bytes a server already decoded (Content-Encoding) pass through. */
async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Fetches and decodes the packed digits (next to the page, from its own server). */
export async function loadDigits(url: string | URL = new URL('digits.bin.gz', location.href)): Promise<Digits> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load the digits (${url}): HTTP ${res.status}`);
  return decodeDigits(await gunzip(new Uint8Array(await res.arrayBuffer())));
}

/** Fisher–Yates with lepton's seeded generator: the same permutation as the MNIST demo's. */
export function permutation(n: number, seed: number): Int32Array {
  const g = new Generator(seed), p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(g.next() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** The fixed split of the MNIST demo: one seeded permutation of every index, the first 8,000 for training, the rest held out. */
export function splitIndices(count: number): { train: Int32Array; heldOut: Int32Array } {
  if (count !== TRAIN_COUNT + HELD_OUT_COUNT) throw new Error(`digits: ${count} images, the split needs ${TRAIN_COUNT + HELD_OUT_COUNT}`);
  const order = permutation(count, SPLIT_SEED);
  return { train: order.slice(0, TRAIN_COUNT), heldOut: order.slice(TRAIN_COUNT) };
}

/** x = (pixel − mean) / std, pixels in [0, 1]: the training pixels' mean and standard deviation, as the demo normalises. */
export interface Norm { mean: number; std: number }

export function pixelStats(d: Digits, index: ArrayLike<number>): Norm {
  let s = 0, s2 = 0;
  for (let i = 0; i < index.length; i++) {
    const px = d.pixels.subarray(index[i] * PIXELS, (index[i] + 1) * PIXELS);
    for (const b of px) { const v = b / 255; s += v; s2 += v * v; }
  }
  const n = index.length * PIXELS, mean = s / n;
  return { mean, std: Math.sqrt(s2 / n - mean * mean) };
}

/** One split part ready for the net: normalised pixels [n, 28, 28, 1] (NHWC) and labels. */
export interface DigitSet { x: Float32Array; labels: Int32Array; n: number; /** Index in Digits of each row. */ index: Int32Array }

/** A pixel in [0, 1] as the net sees it. */
export const normalise = (v: number, norm: Norm) => (v - norm.mean) / norm.std;

export function digitSet(d: Digits, index: Int32Array, norm: Norm): DigitSet {
  const n = index.length, x = new Float32Array(n * PIXELS), labels = new Int32Array(n);
  // A 256-entry table: the same float for the same byte on every path.
  const table = new Float32Array(256).map((_, v) => normalise(v / 255, norm));
  for (let i = 0; i < n; i++) {
    const k = index[i];
    labels[i] = d.labels[k];
    const src = d.pixels.subarray(k * PIXELS, (k + 1) * PIXELS);
    for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = table[src[p]];
  }
  return { x, labels, n, index };
}
