import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/kernels.js';

const r = testRng('reduce');
const D = [1, 2, 3, 5, 7, 8, 16, 17, 31, 64, 65, 127, 256, 257, 1000];

test('reduce sum / mean / max over [outer, reduce, inner] matches float64 on 72 shapes', async () => {
  const fixed = [[1, 1, 1], [1, 100000, 1], [1, 3, 50000], [50000, 3, 1], [128, 10, 1], [1, 128, 256], [3, 4099, 1], [2, 1000, 2]];
  const ops = ['sum', 'mean', 'max'] as const;
  for (let i = 0; i < 72; i++) {
    const [outer, reduce, inner] = i < fixed.length ? fixed[i] : [r.pick(D), r.pick(D), r.pick([1, 1, ...D])].map((v, k) => (k === 1 ? v : Math.min(v, 300)));
    const op = ops[i % 3];
    const n = outer * reduce * inner;
    // Positive-shifted data keeps ‖ref‖ away from 0 so the relative error means something.
    const x = r.array(n, op === 'max' ? -5 : -0.5, op === 'max' ? 5 : 1.5);
    const expect = ref.reduce(op, x, outer, reduce, inner);
    // Sums are accurate relative to Σ|x| (a short mixed-sign row can still sum to ~0).
    const scale = op === 'max' ? expect : ref.reduce(op, Float64Array.from(x, Math.abs), outer, reduce, inner);
    const where = `${op} [${outer}, ${reduce}, ${inner}]`;
    const outs: Float32Array[] = [];
    for (const be of backends) {
      const hx = upload(be, x), out = poisoned(be, outer * inner);
      be.reduce(op, hx, out, { outer, reduce, inner });
      const got = await be.read(out, outer * inner);
      be.free(hx); be.free(out);
      const err = relErr(got, expect, scale);
      record(`reduce · ${label(be)}`, err, where);
      assert.ok(err < 1e-5, `${label(be)} ${where}: relative error ${err}`);
      outs.push(got);
    }
    agree(outs, where, 1e-5, scale);
  }
});

test.run();
