// Feature transforms, checked against Math.* on random points, and the grid.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FEATURE_IDS, FEATURES, featureById, featureMatrix, gridPoints, type FeatureId } from '../../playground/src/features.js';
import { testRng } from '../helpers/random.js';

// Squares and the product are divided by 6, the half-width of the heatmap's square.
const expected: Record<FeatureId, (x: number, y: number) => number> = {
  x: (x) => x, y: (_x, y) => y, x2: (x) => Math.pow(x, 2) / 6, y2: (_x, y) => Math.pow(y, 2) / 6, xy: (x, y) => (x * y) / 6,
  sinx: (x) => Math.sin(x), siny: (_x, y) => Math.sin(y), cosx: (x) => Math.cos(x), cosy: (_x, y) => Math.cos(y),
};

const r = testRng('playground-features');
/** n (x, y) pairs in [-6, 6]², from the run's seed (printed, replayable). */
const randomPoints = (n: number) => r.array(2 * n, -6, 6);

test('the nine features of the TensorFlow Playground, each once', () => {
  assert.equal([...FEATURE_IDS].sort(), ['cosx', 'cosy', 'sinx', 'siny', 'x', 'x2', 'xy', 'y', 'y2']);
  assert.is(new Set(FEATURES.map((f) => f.label)).size, 9);
});

test('each feature matches its formula', () => {
  const xy = randomPoints(500);
  for (const id of FEATURE_IDS) {
    const f = featureById(id).f;
    for (let i = 0; i < 500; i++) {
      const x = xy[2 * i], y = xy[2 * i + 1];
      assert.ok(Math.abs(f(x, y) - expected[id](x, y)) <= 1e-12 * Math.max(1, Math.abs(expected[id](x, y))), `${id}(${x}, ${y})`);
    }
  }
});

test('over the square [-6, 6]², every feature stays within [-6, 6] and polynomial ones reach its edge', () => {
  const g = gridPoints(60, 6);
  for (const f of FEATURES) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < g.length / 2; i++) { const v = f.f(g[2 * i], g[2 * i + 1]); lo = Math.min(lo, v); hi = Math.max(hi, v); }
    assert.ok(lo >= -6 && hi <= 6, `${f.id}: [${lo}, ${hi}]`);
    if (['x', 'y', 'x2', 'y2', 'xy'].includes(f.id)) assert.ok(Math.max(-lo, hi) > 5.5, `${f.id} spans the square: [${lo}, ${hi}]`);
    else assert.ok(lo >= -1 && hi <= 1);
  }
});

test('featureMatrix: [n, F] row-major, columns in the order asked, values rounded to f32', () => {
  const xy = randomPoints(123);
  const ids: FeatureId[] = ['cosy', 'x', 'xy', 'y2'];
  const m = featureMatrix(xy, ids);
  assert.is(m.length, 123 * ids.length);
  for (let i = 0; i < 123; i++) {
    ids.forEach((id, j) => assert.is(m[i * ids.length + j], Math.fround(expected[id](xy[2 * i], xy[2 * i + 1]))));
  }
  assert.throws(() => featureMatrix(xy, []), /at least one/);
  assert.throws(() => featureMatrix(xy, ['z' as FeatureId]), /unknown feature/);
  assert.throws(() => featureMatrix(new Float32Array(3), ['x']), /pairs/);
});

test('gridPoints: cell centres over [-e, e]², row 0 at the top, symmetric', () => {
  const res = 100, e = 6, g = gridPoints(res, e), step = (2 * e) / res;
  assert.is(g.length, res * res * 2);
  assert.ok(Math.abs(g[0] - (-e + step / 2)) < 1e-6 && Math.abs(g[1] - (e - step / 2)) < 1e-6, 'top-left centre');
  const last = res * res - 1;
  assert.ok(Math.abs(g[2 * last] - (e - step / 2)) < 1e-6 && Math.abs(g[2 * last + 1] - (-e + step / 2)) < 1e-6, 'bottom-right centre');
  let sx = 0, sy = 0;
  for (let i = 0; i < res * res; i++) { sx += g[2 * i]; sy += g[2 * i + 1]; }
  assert.ok(Math.abs(sx) < 1e-2 && Math.abs(sy) < 1e-2, 'centred on the origin');
  // Along a row x rises by one cell and y stays; down a column y falls by one cell.
  assert.ok(Math.abs(g[2] - g[0] - step) < 1e-5 && g[3] === g[1]);
  assert.ok(Math.abs(g[2 * res + 1] - g[1] + step) < 1e-5 && g[2 * res] === g[0]);
  assert.throws(() => gridPoints(0, 1), /positive integer/);
});

test.run();
