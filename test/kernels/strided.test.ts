import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/kernels.js';

const r = testRng('strided');

test('strided copy (transpose, broadcast, offset) matches float64 on 60 cases', async () => {
  for (let i = 0; i < 60; i++) {
    const rank = i === 0 ? 0 : r.int(1, 6);
    const src = Array.from({ length: rank }, () => r.pick([1, 2, 3, 4, 5, 7, 9, 16, 17, 33]));
    const perm = src.map((_, k) => k).sort(() => r.next() - 0.5);
    const base = ref.contiguousStrides(src);
    const shape = perm.map((k) => src[k]);
    // A permuted view of the source, with some axes broadcast (stride 0, size grown).
    const strides = perm.map((k) => base[k]);
    for (let d = 0; d < shape.length; d++) {
      if (shape[d] === 1 && r.next() < 0.5) { shape[d] = r.pick([2, 3, 6]); strides[d] = 0; }
    }
    const offset = r.pick([0, 0, 3, 17]);
    const x = r.array(ref.sizeOf(src) + offset);
    const n = ref.sizeOf(shape);
    const expect = ref.strided(x, shape, strides, offset);
    const where = `[${src}] perm ${perm} -> [${shape}] strides ${strides} +${offset}`;
    const outs: Float32Array[] = [];
    for (const be of backends) {
      const hx = upload(be, x), out = poisoned(be, n);
      be.strided(hx, out, { shape, strides, offset });
      const got = await be.read(out, n);
      be.free(hx); be.free(out);
      const err = relErr(got, expect);
      record(`strided · ${label(be)}`, err, where);
      assert.ok(err === 0, `${label(be)} ${where}: a copy must be exact, error ${err}`);
      outs.push(got);
    }
    agree(outs, where, 0);
  }
});

test('the copy of a contiguous piece into a block of out (concatenation, a KV cache append) is exact and leaves the rest, 40 cases', async () => {
  for (let i = 0; i < 40; i++) {
    // A permuted block of a larger output: out has `full`, the piece covers [lo, lo + shape) of it in permuted order.
    // Unpermuted blocks take the row-copy path (contiguous rows on both sides).
    const rank = i === 0 ? 0 : r.int(1, 5);
    const full = Array.from({ length: rank }, () => r.pick([1, 2, 3, 5, 7, 16, 33]));
    const lo = full.map((d) => r.int(0, d - 1)), piece = full.map((d, k) => r.int(1, d - lo[k]));
    const perm = full.map((_, k) => k).sort(() => (i % 2 ? r.next() - 0.5 : 0));
    const base = ref.contiguousStrides(full);
    const shape = perm.map((k) => piece[k]), strides = perm.map((k) => base[k]);
    const offset = lo.reduce((a, c, k) => a + c * base[k], 0);
    const n = ref.sizeOf(shape), total = ref.sizeOf(full);
    const x = r.array(n), before = r.array(total);
    // Reference: out starts as `before`; element i of x lands at offset + Σ coord·stride.
    const expect = Float64Array.from(before);
    const xs = ref.contiguousStrides(shape);
    for (let e = 0; e < n; e++) {
      let at = offset;
      for (let d = 0; d < shape.length; d++) at += (Math.floor(e / xs[d]) % shape[d]) * strides[d];
      expect[at] = x[e];
    }
    const where = `[${full}] piece [${piece}] at [${lo}] perm ${perm}`;
    for (const be of backends) {
      const hx = upload(be, x), out = upload(be, before);
      be.strided(hx, out, { shape, strides: ref.contiguousStrides(shape), offset: 0, outStrides: strides, outOffset: offset });
      const got = await be.read(out, total);
      be.free(hx); be.free(out);
      const err = relErr(got, expect);
      record(`strided into a block · ${label(be)}`, err, where);
      assert.ok(err === 0, `${label(be)} ${where}: the scatter must be exact, error ${err}`);
    }
  }
});

test('a large 2-D transpose is exact', async () => {
  const [R, C] = [301, 517];
  const x = r.array(R * C);
  const expect = ref.strided(x, [C, R], [1, C], 0);
  for (const be of backends) {
    const hx = upload(be, x), out = poisoned(be, R * C);
    be.strided(hx, out, { shape: [C, R], strides: [1, C], offset: 0 });
    const got = await be.read(out, R * C);
    be.free(hx); be.free(out);
    assert.ok(relErr(got, expect) === 0, label(be));
  }
});

test('the copy into a strided region of out writes exactly that region (reversed, stepped, permuted)', async () => {
  for (let i = 0; i < 30; i++) {
    const rank = i === 0 ? 0 : r.int(1, 4);
    // A region of a bigger destination: each dimension a stepped (maybe reversed) range of the destination's.
    const dest = Array.from({ length: rank }, () => r.int(1, 9));
    const shape = dest.map((n) => r.int(1, n));
    const steps = shape.map((m, d) => (m === 1 ? 1 : r.pick([1, -1])));
    const base = ref.contiguousStrides(dest);
    const outStrides = steps.map((s, d) => s * base[d]);
    const outOffset = dest.reduce((o, n, d) => o + (steps[d] < 0 ? n - 1 : n - shape[d]) * base[d], 0);
    const perm = shape.map((_, k) => k).sort(() => r.next() - 0.5);
    // The source: x permuted, so both sides are strided.
    const src = perm.map((k) => shape[k]);
    const sb = ref.contiguousStrides(src);
    const strides = shape.map((_, d) => sb[perm.indexOf(d)]);
    const x = r.array(ref.sizeOf(src)), nOut = ref.sizeOf(dest), n = ref.sizeOf(shape);
    const expect = Float64Array.from({ length: nOut }, () => NaN);
    for (let e = 0; e < n; e++) expect[ref.offsetOf(e, shape, outStrides) + outOffset] = x[ref.offsetOf(e, shape, strides)];
    const where = `[${shape}] strides ${strides} into [${dest}] strides ${outStrides} +${outOffset}`;
    for (const be of backends) {
      const hx = upload(be, x), out = poisoned(be, nOut);
      be.strided(hx, out, { shape, strides, offset: 0, outStrides, outOffset });
      const got = await be.read(out, nOut);
      be.free(hx); be.free(out);
      // Untouched elements stay NaN (the poison), written ones are exact.
      got.forEach((v, k) => assert.ok(Object.is(v, Math.fround(expect[k])), `${label(be)} ${where}: element ${k} is ${v}, needs ${expect[k]}`));
    }
  }
});

test.run();
