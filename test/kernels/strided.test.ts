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

test('stridedWrite (the scatter: slices\' gradients, concatenation) writes its positions exactly and leaves the rest, 40 cases', async () => {
  for (let i = 0; i < 40; i++) {
    // A permuted block of a larger output: out has `full`, the piece covers [lo, lo + shape) of it in permuted order.
    const rank = i === 0 ? 0 : r.int(1, 5);
    const full = Array.from({ length: rank }, () => r.pick([1, 2, 3, 5, 7, 16, 33]));
    const lo = full.map((d) => r.int(0, d - 1)), piece = full.map((d, k) => r.int(1, d - lo[k]));
    const perm = full.map((_, k) => k).sort(() => r.next() - 0.5);
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
      be.stridedWrite(hx, out, { shape, strides, offset });
      const got = await be.read(out, total);
      be.free(hx); be.free(out);
      const err = relErr(got, expect);
      record(`stridedWrite · ${label(be)}`, err, where);
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

test.run();
