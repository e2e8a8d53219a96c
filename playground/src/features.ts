// Input features: functions of a point's (x, y) that feed the network's
// first layer, as in the TensorFlow Playground. Pure.
import { EXTENT } from './data.js';

export type FeatureId = 'x' | 'y' | 'x2' | 'y2' | 'xy' | 'sinx' | 'siny' | 'cosx' | 'cosy';

export interface Feature {
  id: FeatureId;
  /** Shown in the page. */
  label: string;
  f: (x: number, y: number) => number;
}

/**
 * Squares and the product are divided by S, the half-width of the square, so
 * that they span [-S, S] (or [0, S]) like x and y themselves: raw x² reaches
 * S² = 36, and one learning rate then cannot suit a mix of features (ReLU
 * nets with plain SGD diverge). sin and cos take x itself.
 */
const SCALE = EXTENT;

export const FEATURES: readonly Feature[] = [
  { id: 'x', label: 'x', f: (x) => x },
  { id: 'y', label: 'y', f: (_x, y) => y },
  { id: 'x2', label: 'x²', f: (x) => (x * x) / SCALE },
  { id: 'y2', label: 'y²', f: (_x, y) => (y * y) / SCALE },
  { id: 'xy', label: 'x·y', f: (x, y) => (x * y) / SCALE },
  { id: 'sinx', label: 'sin x', f: (x) => Math.sin(x) },
  { id: 'siny', label: 'sin y', f: (_x, y) => Math.sin(y) },
  { id: 'cosx', label: 'cos x', f: (x) => Math.cos(x) },
  { id: 'cosy', label: 'cos y', f: (_x, y) => Math.cos(y) },
];

export const FEATURE_IDS: readonly FeatureId[] = FEATURES.map((f) => f.id);

export function featureById(id: FeatureId): Feature {
  const f = FEATURES.find((g) => g.id === id);
  if (!f) throw new RangeError(`unknown feature ${JSON.stringify(id)}; known: ${FEATURE_IDS.join(', ')}`);
  return f;
}

/**
 * The feature matrix, row-major [n, ids.length], of the points `xy` ([n, 2]).
 * Columns follow `ids` in order.
 */
export function featureMatrix(xy: Float32Array, ids: readonly FeatureId[]): Float32Array {
  if (xy.length % 2 !== 0) throw new RangeError(`featureMatrix: xy must hold (x, y) pairs, got length ${xy.length}`);
  if (ids.length === 0) throw new RangeError('featureMatrix: at least one feature is needed');
  const fs = ids.map(featureById), n = xy.length / 2, F = fs.length;
  const out = new Float32Array(n * F);
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i], y = xy[2 * i + 1];
    for (let j = 0; j < F; j++) out[i * F + j] = fs[j].f(x, y);
  }
  return out;
}

/**
 * The centres of a res × res grid over [-extent, extent]², row-major from the
 * top-left (y = +extent) so that row r is pixel row r of the heatmap.
 */
export function gridPoints(res: number, extent: number): Float32Array {
  if (!Number.isInteger(res) || res < 1) throw new RangeError(`gridPoints: res must be a positive integer, got ${res}`);
  const xy = new Float32Array(res * res * 2), step = (2 * extent) / res;
  for (let r = 0; r < res; r++) {
    const y = extent - (r + 0.5) * step;
    for (let c = 0; c < res; c++) {
      const k = r * res + c;
      xy[2 * k] = -extent + (c + 0.5) * step;
      xy[2 * k + 1] = y;
    }
  }
  return xy;
}
