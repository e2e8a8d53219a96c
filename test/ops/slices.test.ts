// narrow and cat (src/ops/slice.ts, src/ops/concat.ts; used by nn.MultiHeadAttention
// and its KV cache) on every device: exact copies (compared bit for bit with an
// index-by-index float64 reference, special values included), their gradients
// (each other's), and their errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { LeptonError } from '../../src/errors.js';
import { mul } from '../../src/ops/elementwise.js';
import { cat } from '../../src/ops/concat.js';
import { narrow } from '../../src/ops/slice.js';
import type { Tensor } from '../../src/tensor.js';
import { devices } from '../helpers/backends.js';
import { testRng } from '../helpers/random.js';

const r = testRng('ops-slices');
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const strides = (s: number[]) => s.map((_, i) => size(s.slice(i + 1)));

/** Reference: the element of `shape` at flat index i, as coordinates. */
function coords(i: number, shape: number[]): number[] {
  return shape.map((_, d) => Math.floor(i / strides(shape)[d]) % shape[d]);
}
const flat = (c: number[], shape: number[]) => c.reduce((a, x, d) => a + x * strides(shape)[d], 0);

function randomShape(): number[] {
  const rank = r.int(1, 5);
  return Array.from({ length: rank }, () => r.int(0, 4) === 0 ? r.pick([1, 7]) : r.int(1, 5));
}

/** Values with special ones sprinkled in: the copies must keep every bit (NaN, -0, inf, denormals). */
function values(n: number): Float32Array {
  const specials = [NaN, -0, Infinity, -Infinity, 1e-45, -3.4e38];
  return Float32Array.from(r.array(n, -3, 3), (x) => (r.next() < 0.1 ? r.pick(specials) : x));
}
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

test('narrow: random shapes, axes and ranges, forward bit-exact and gradient (g written into zeros)', async () => {
  for (let c = 0; c < 40; c++) {
    const shape = randomShape(), axis = r.int(0, shape.length - 1), n = shape[axis];
    const start = r.int(0, n), length = r.int(0, n - start);
    const x = values(size(shape)), outShape = shape.map((d, i) => (i === axis ? length : d));
    const g = r.array(size(outShape));
    for (const device of devices) {
      const t = tensor(x, shape, { device, requiresGrad: true });
      const y = narrow(t, c % 2 ? axis - shape.length : axis, start, length);
      assert.equal(y.shape, outShape);
      y.backward(tensor(g, outShape, { device }));
      const [out, dx] = [await y.data(), await t.grad!.data()];
      for (let i = 0; i < out.length; i++) {
        const at = coords(i, outShape);
        at[axis] += start;
        assert.ok(same(out[i], x[flat(at, shape)]), `${device} ${JSON.stringify({ shape, axis, start, length })}: out[${i}]`);
      }
      for (let i = 0; i < dx.length; i++) {
        const at = coords(i, shape);
        const inside = at[axis] >= start && at[axis] < start + length;
        at[axis] -= start;
        assert.ok(same(dx[i], inside ? g[flat(at, outShape)] : 0), `${device} ${JSON.stringify({ shape, axis, start, length })}: dx[${i}]`);
      }
      for (const u of [t, y, t.grad!]) u.dispose();
    }
  }
});

test('cat: random pieces along every axis, forward bit-exact and each gradient (a narrow of g)', async () => {
  for (let c = 0; c < 40; c++) {
    const base = randomShape(), axis = r.int(0, base.length - 1), count = r.int(1, 4);
    const shapes = Array.from({ length: count }, () => base.map((d, i) => (i === axis ? r.int(0, 4) : d)));
    const xs = shapes.map((s) => values(size(s)));
    const total = shapes.reduce((a, s) => a + s[axis], 0), outShape = base.map((d, i) => (i === axis ? total : d));
    const g = r.array(size(outShape));
    // The reference: which piece and position each output element comes from.
    const source = (i: number): [number, number] => {
      const at = coords(i, outShape);
      let p = 0;
      while (at[axis] >= shapes[p][axis]) at[axis] -= shapes[p++][axis];
      return [p, flat(at, shapes[p])];
    };
    for (const device of devices) {
      const ts = xs.map((x, i) => tensor(x, shapes[i], { device, requiresGrad: i !== 1 }));
      const y = cat(ts, axis);
      assert.equal(y.shape, outShape);
      const out = await y.data();
      for (let i = 0; i < out.length; i++) {
        const [p, j] = source(i);
        assert.ok(same(out[i], xs[p][j]), `${device} cat ${JSON.stringify(shapes)} axis ${axis}: out[${i}]`);
      }
      if (ts.some((t) => t.requiresGrad)) {
        mul(y, tensor(g, outShape, { device })).sum().backward();
        const grads = await Promise.all(ts.map((t) => t.grad?.data() ?? null));
        if (count > 1) assert.is(ts[1].grad ?? null, null, 'a piece without requiresGrad gets no gradient');
        for (let i = 0; i < g.length; i++) {
          const [p, j] = source(i);
          if (grads[p]) assert.ok(Math.abs(grads[p]![j] - g[i]) === 0, `${device} cat gradient piece ${p}[${j}]`);
        }
      }
      for (const t of [y, ...ts, ...ts.map((t) => t.grad)]) t?.dispose();
    }
  }
});

test('narrow and cat reject bad arguments with LeptonErrors', async () => {
  for (const device of devices) {
    const t = (s: number[]) => tensor(new Float32Array(size(s)), s, { device });
    const a = t([2, 3]), b = t([2, 4]), c = t([3, 3]);
    const bad: [() => unknown, RegExp][] = [
      [() => narrow(a, 2, 0, 1), /^narrow: argument 'dim' must be an integer in \[-2, 1\] for a tensor of rank 2, got 2/],
      [() => narrow(a, 1, 4, 0), /^narrow: argument 'start' must be an integer in \[-3, 3\]/],
      [() => narrow(a, 1, -4, 0), /^narrow: argument 'start' must be an integer in \[-3, 3\]/],
      [() => narrow(a, 1, 1, 3), /^narrow: argument 'length' must be an integer in \[0, 2\]/],
      [() => narrow(a, 0, 0.5, 1), /^narrow: argument 'start'/],
      [() => cat([]), /^cat: argument 'tensors' is empty; needs at least one Tensor/],
      [() => cat([a, b], 0), /^cat: tensors\[1\] has shape \[2, 4\], tensors\[0\] has \[2, 3\]; sizes must match except in dimension 0/],
      [() => cat([a, c], 1), /^cat: tensors\[1\] has shape \[3, 3\]/],
      [() => cat([a, t([6])], 0), /^cat: tensors\[1\] has shape \[6\]/],
      [() => cat([a, a], -3), /^cat: argument 'dim'/],
    ];
    for (const [f, re] of bad) {
      try {
        f();
        assert.unreachable(`no error for ${re}`);
      } catch (e) {
        assert.ok(e instanceof LeptonError, `${device}: ${(e as Error).message}`);
        assert.match((e as Error).message, re);
      }
    }
    assert.equal(cat([a, b], 1).shape, [2, 7]);
    assert.equal(cat([a, c], -2).shape, [5, 3]);
    // PyTorch's negative start counts from the end.
    assert.equal(Array.from(await narrow(tensor([1, 2, 3, 4], [4], { device }), 0, -3, 2).data()), [2, 3]);
    for (const x of [a, b, c] as Tensor[]) x.dispose();
  }
});

test.run();
