// The gather family's kernels (gather, scatterAdd, cumsum, topk) on every
// backend, the threaded WASM splits included, against float64 loops: random
// shapes and dims, broadcast (indexSelect-style) index strides, repeated and
// invalid indices (NaN, never an out-of-bounds read or write), long lines.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/kernels.js';
import * as T from '../reference/toolkit.js';

const r = testRng('kernels-gather');

/** A gather problem: x of xShape, an index of iShape along dim (strides given), some indices invalid. */
function problem(bad: boolean) {
  const rank = r.int(1, 4), xShape = Array.from({ length: rank }, () => r.int(1, 6)), dim = r.int(0, rank - 1);
  const broadcast = r.next() < 0.4; // indexSelect: one index per position along dim, stride 0 elsewhere
  const shape = xShape.map((s, d) => (d === dim ? r.int(1, 7) : broadcast ? s : r.int(1, s)));
  const idxStrides = broadcast ? shape.map((_, d) => (d === dim ? 1 : 0)) : ref.contiguousStrides(shape);
  const nIdx = broadcast ? shape[dim] : ref.sizeOf(shape);
  const size = xShape[dim];
  const index = Float32Array.from({ length: nIdx }, () => (bad && r.next() < 0.2 ? r.pick([-1, size, 0.5, NaN, 1e9]) : r.int(0, size - 1)));
  return { xShape, dim, shape, idxStrides, index, size, p: { shape, dim, xStrides: ref.contiguousStrides(xShape), idxStrides, size } };
}
const valid = (v: number, size: number) => Number.isInteger(v) && v >= 0 && v < size;

test('gather: random shapes, dims and index layouts; invalid indices give NaN', async () => {
  for (let c = 0; c < 40; c++) {
    const { xShape, dim, shape, idxStrides, index, size, p } = problem(c % 2 === 1);
    const x = r.array(ref.sizeOf(xShape)), n = ref.sizeOf(shape);
    const want = Float64Array.from({ length: n }, (_, i) => {
      const cc = T.coords(i, shape);
      const k = index[ref.offsetOf(i, shape, idxStrides)];
      if (!valid(k, size)) return NaN;
      cc[dim] = k;
      return x[T.flat(cc, xShape)];
    });
    for (const be of backends) {
      const hx = upload(be, x), hi = upload(be, index), out = poisoned(be, n);
      be.gather(hx, hi, out, p);
      const got = await be.read(out, n);
      [hx, hi, out].forEach((h) => be.free(h));
      got.forEach((v, i) => assert.ok(Object.is(v, Math.fround(want[i])) || (Number.isNaN(v) && Number.isNaN(want[i])),
        `${label(be)} gather [${xShape}] dim ${dim} -> [${shape}] element ${i}: ${v}, needs ${want[i]}`));
    }
  }
});

test('scatterAdd: repeated indices add, invalid ones are skipped, the rest of out is kept', async () => {
  for (let c = 0; c < 40; c++) {
    const { xShape, dim, shape, idxStrides, index, size, p } = problem(c % 2 === 1);
    const g = r.array(ref.sizeOf(shape)), base = r.array(ref.sizeOf(xShape));
    const want = Float64Array.from(base);
    for (let i = 0; i < g.length; i++) {
      const k = index[ref.offsetOf(i, shape, idxStrides)];
      if (!valid(k, size)) continue;
      const cc = T.coords(i, shape);
      cc[dim] = k;
      want[T.flat(cc, xShape)] += g[i];
    }
    for (const be of backends) {
      const hg = upload(be, g), hi = upload(be, index), out = upload(be, base);
      be.scatterAdd(hg, hi, out, p);
      const got = await be.read(out, base.length);
      [hg, hi, out].forEach((h) => be.free(h));
      const err = relErr(got, want, want.map(Math.abs).map((v, i) => v + Math.abs(base[i]) + 1));
      record(`scatterAdd · ${label(be)}`, err, `[${shape}] into [${xShape}] dim ${dim}`);
      assert.ok(err < 1e-6, `${label(be)} scatterAdd [${shape}] into [${xShape}] dim ${dim}: error ${err}`);
    }
  }
});

test('cumsum: forward and reverse over [outer, n, inner], long lines, summed accurately', async () => {
  const cases = [...Array.from({ length: 24 }, () => [r.int(1, 5), r.int(1, 40), r.int(1, 5)]), [1, 100000, 1], [3, 5000, 2], [1, 1, 70000]];
  for (const [outer, n, inner] of cases) {
    for (const reverse of [false, true]) {
      const x = r.array(outer * n * inner);
      const want = new Float64Array(x.length), scale = new Float64Array(x.length);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let s = 0, a = 0;
          for (let j = 0; j < n; j++) {
            const k = reverse ? n - 1 - j : j, at = (o * n + k) * inner + i;
            s += x[at]; a += Math.abs(x[at]);
            want[at] = s; scale[at] = a;
          }
        }
      }
      for (const be of backends) {
        const hx = upload(be, x), out = poisoned(be, x.length);
        be.cumsum(hx, out, { outer, n, inner, reverse });
        const got = await be.read(out, x.length);
        be.free(hx); be.free(out);
        // Each output against the size of its own terms: a long f32 running sum would drift by ~n·2^-24.
        let worst = 0;
        got.forEach((v, k) => { worst = Math.max(worst, Math.abs(v - want[k]) / Math.max(scale[k], 1e-30)); });
        record(`cumsum · ${label(be)}`, worst, `[${outer}, ${n}, ${inner}]${reverse ? ' reverse' : ''}`);
        assert.ok(worst < 1e-6, `${label(be)} cumsum [${outer}, ${n}, ${inner}]${reverse ? ' reverse' : ''}: error ${worst}`);
      }
    }
  }
});

test('topk: every k, largest and smallest, ties and special values, indices exact', async () => {
  const specials = [NaN, Infinity, -Infinity, 0, -0];
  for (let c = 0; c < 30; c++) {
    const outer = r.int(1, 4), n = c === 0 ? 3000 : r.int(1, 30), inner = r.int(1, 4), k = r.int(0, Math.min(n, 12)), largest = c % 2 === 0;
    const x = Float32Array.from({ length: outer * n * inner }, () => (r.next() < 0.1 ? r.pick(specials) : r.int(-4, 4) + (c % 3 ? r.next() : 0)));
    const want = T.topk({ data: Float64Array.from(x), shape: [outer, n, inner] }, k, 1, largest);
    const m = outer * k * inner;
    for (const be of backends) {
      const hx = upload(be, x), hv = poisoned(be, Math.max(m, 1)), hi = poisoned(be, Math.max(m, 1));
      be.topk(hx, hv, hi, { outer, n, inner, k, largest });
      const [vals, inds] = [await be.read(hv, m), await be.read(hi, m)];
      [hx, hv, hi].forEach((h) => be.free(h));
      const where = `${label(be)} topk [${outer}, ${n}, ${inner}] k ${k} ${largest ? 'largest' : 'smallest'}`;
      assert.equal([...inds], [...want.indices.data], `${where}: indices`);
      vals.forEach((v, i) => assert.ok(Object.is(v, Math.fround(want.values.data[i])) || (Number.isNaN(v) && Number.isNaN(want.values.data[i])), `${where}: value ${i}`));
    }
  }
});

test.run();
