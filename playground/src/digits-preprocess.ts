// A drawing turned into an MNIST-like image, as MNIST's digits were made
// (LeCun et al.): the ink's bounding box scaled, keeping its aspect ratio, so
// that its longer side is 20 pixels (area-averaged, so strokes keep soft
// anti-aliased edges), then placed in the 28×28 field with its centre of mass
// at pixel (14, 14). Pure functions on ink arrays in [0, 1]; no DOM.
import { PIXELS, SIDE } from './digits-data.js';

/** MNIST's box for the digit inside the 28×28 field. */
export const BOX = 20;
/**
 * Ink below this is background when finding the bounding box: any pixel a
 * canvas drew (its alpha is in steps of 1/255). MNIST's boxes count their
 * faintest anti-aliased pixels too; a higher threshold shrinks some boxes by
 * a pixel and rescales the whole digit.
 */
const INK = 1 / 512;

/** The smallest rectangle holding every pixel with ink ≥ INK, or null for a blank drawing. */
export function inkBox(ink: ArrayLike<number>, w: number, h: number): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[y * w + x] < INK) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/**
 * Area-average resampling of n source cells onto m target cells along one
 * axis: weights[t] lists (source index, fraction of target t it covers).
 * Each target's fractions sum to 1, so a full-ink region stays 1.
 */
function areaWeights(n: number, m: number): [number, number][][] {
  const scale = n / m, out: [number, number][][] = [];
  for (let t = 0; t < m; t++) {
    const a = t * scale, b = (t + 1) * scale, row: [number, number][] = [];
    for (let s = Math.floor(a); s < Math.min(n, Math.ceil(b)); s++) {
      const overlap = Math.min(b, s + 1) - Math.max(a, s);
      if (overlap > 0) row.push([s, overlap / scale]);
    }
    out.push(row);
  }
  return out;
}

/** Resamples the w×h region at (x0, y0) of `ink` (row stride `stride`) to tw×th by area averaging. */
export function resample(ink: ArrayLike<number>, stride: number, x0: number, y0: number, w: number, h: number, tw: number, th: number): Float64Array {
  const wx = areaWeights(w, tw), wy = areaWeights(h, th);
  const rows = new Float64Array(h * tw); // horizontal pass first
  for (let y = 0; y < h; y++) {
    const base = (y0 + y) * stride + x0;
    for (let t = 0; t < tw; t++) {
      let v = 0;
      for (const [s, f] of wx[t]) v += ink[base + s] * f;
      rows[y * tw + t] = v;
    }
  }
  const out = new Float64Array(th * tw);
  for (let t = 0; t < th; t++) {
    for (let x = 0; x < tw; x++) {
      let v = 0;
      for (const [s, f] of wy[t]) v += rows[s * tw + x] * f;
      out[t * tw + x] = v;
    }
  }
  return out;
}

/** Centre of mass (x, y) of a w×h image, in pixel indices; null when it has no mass. */
export function centreOfMass(img: ArrayLike<number>, w: number, h: number): { x: number; y: number } | null {
  let m = 0, mx = 0, my = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = img[y * w + x];
      m += v; mx += v * x; my += v * y;
    }
  }
  return m > 0 ? { x: mx / m, y: my / m } : null;
}

/**
 * The drawing `ink` (w×h, values in [0, 1], 1 = full ink) as a 28×28 MNIST
 * image in [0, 1], or null when nothing is drawn. The digit's box is scaled
 * so its longer side is 20 pixels; the whole-pixel shift that brings its
 * centre of mass nearest pixel (14, 14) places it (as in MNIST), kept
 * inside the field.
 */
export function toMnist(ink: ArrayLike<number>, w: number, h: number): Float32Array | null {
  if (ink.length !== w * h) throw new Error(`toMnist: ${ink.length} ink values for a ${w}×${h} drawing`);
  const box = inkBox(ink, w, h);
  if (!box) return null;
  const bw = box.x1 - box.x0, bh = box.y1 - box.y0, scale = BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale)), th = Math.max(1, Math.round(bh * scale));
  const small = resample(ink, w, box.x0, box.y0, bw, bh, tw, th);
  const com = centreOfMass(small, tw, th)!;
  // MNIST's digits have their centre of mass within half a pixel of index (14, 14) (measured on all 10,000).
  const centre = SIDE / 2;
  const ox = Math.min(SIDE - tw, Math.max(0, Math.round(centre - com.x)));
  const oy = Math.min(SIDE - th, Math.max(0, Math.round(centre - com.y)));
  const out = new Float32Array(PIXELS);
  for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) out[(oy + y) * SIDE + ox + x] = Math.min(1, small[y * tw + x]);
  return out;
}
