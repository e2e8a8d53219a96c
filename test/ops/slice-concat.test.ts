// slice / narrow / concat / stack / split / chunk on every backend against
// the float64 references of test/reference/toolkit.ts: random shapes
// (empty and rank 0 where valid), negative indices and steps, gradients by
// finite differences, and every error path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { devices } from '../helpers/backends.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import * as T from '../reference/toolkit.js';
import type { Nd } from '../reference/ops.js';

const r = testRng('slice-concat');
const randShape = (rank: number, max = 5, min = 0) => Array.from({ length: rank }, () => r.int(min, max));
const bound = (n: number) => (r.next() < 0.2 ? null : r.int(-n - 2, n + 2));

test('slice: random shapes, negative indices, steps of either sign, clamped bounds', async () => {
  for (let c = 0; c < 30; c++) {
    const rank = r.int(1, 4), shape = randShape(rank, 6, c % 7 === 0 ? 0 : 1);
    const k = r.int(0, rank);
    const starts = shape.slice(0, k).map(bound), ends = shape.slice(0, k).map(bound);
    const steps = shape.slice(0, k).map(() => r.pick([1, 1, 2, 3, -1, -2]));
    const lists = T.sliceLists(shape, starts, ends, steps);
    await checkOp({
      name: `slice ${JSON.stringify(shape)} ${JSON.stringify([starts, ends, steps])}`, inputs: [rnd(r, shape)],
      lib: ([x]) => lp.slice(x, starts, ends, steps), ref: ([x]) => T.select(x, lists), vjp: ([x], g) => [T.selectVjp(x.shape, lists, g)],
    }, r, 'slice');
  }
});

test('slice without steps, reversing, and on rank 0 with no entries', async () => {
  const x = T.size([4, 3]);
  const data = Float64Array.from({ length: x }, (_, i) => i);
  for (const device of devices) {
    const t = lp.tensor(data, [4, 3], { device });
    assert.equal(await lp.slice(t, [1, -2], [3, null]).array(), [[4, 5], [7, 8]]);
    assert.equal(await lp.slice(t, [null], [null], [-1]).array(), [[9, 10, 11], [6, 7, 8], [3, 4, 5], [0, 1, 2]]);
    assert.equal(await lp.slice(t, [-1, -1], [-5, -4], [-2, -1]).array(), [[11, 10, 9], [5, 4, 3]]);
    assert.equal([...lp.slice(t, [5], [9]).shape], [0, 3]);
    const s = lp.tensor(7, { device });
    assert.is(await lp.slice(s, [], []).item(), 7);
  }
});

test('narrow: negative start, zero length, gradient', async () => {
  for (let c = 0; c < 12; c++) {
    const rank = r.int(1, 4), shape = randShape(rank, 5, 1);
    const dim = r.int(-rank, rank - 1), d = dim < 0 ? dim + rank : dim, n = shape[d];
    const start = r.int(-n, n), s = start < 0 ? start + n : start, length = r.int(0, n - s);
    const lists = shape.map((m, e) => (e === d ? Array.from({ length }, (_, i) => s + i) : Array.from({ length: m }, (_, i) => i)));
    await checkOp({
      name: `narrow ${JSON.stringify(shape)} dim ${dim} start ${start} length ${length}`, inputs: [rnd(r, shape)],
      lib: ([x]) => lp.narrow(x, dim, start, length), ref: ([x]) => T.select(x, lists), vjp: ([x], g) => [T.selectVjp(x.shape, lists, g)],
    }, r, 'narrow');
  }
});

test('concat / cat: random pieces (some empty) along every dimension, gradient to each', async () => {
  for (let c = 0; c < 16; c++) {
    const rank = r.int(1, 4), base = randShape(rank, 4, 1), dim = r.int(-rank, rank - 1), d = dim < 0 ? dim + rank : dim;
    const inputs: Nd[] = Array.from({ length: r.int(1, 4) }, () => {
      const s = [...base];
      s[d] = r.int(0, 3);
      return rnd(r, s);
    });
    await checkOp({
      name: `concat ${JSON.stringify(inputs.map((x) => x.shape))} dim ${dim}`, inputs,
      lib: (xs) => (c % 2 ? lp.cat(xs, dim) : lp.concat(xs, dim)), ref: (xs) => T.concat(xs, d), vjp: (xs, g) => T.concatVjp(xs, d, g),
    }, r, 'concat');
  }
  // PyTorch skips 1-D empty tensors whatever the others' shape; the same tensor twice gets both gradients.
  await checkOp({
    name: 'concat skips [0]', inputs: [rnd(r, [2, 3]), rnd(r, [0]), rnd(r, [1, 3])],
    lib: (xs) => lp.concat(xs), ref: ([a, , b]) => T.concat([a, b], 0),
    vjp: ([a, e, b], g) => [...T.concatVjp([a, b], 0, g).slice(0, 1), { data: new Float64Array(0), shape: e.shape }, T.concatVjp([a, b], 0, g)[1]],
  }, r, 'concat');
  await checkOp({
    name: 'concat [x, x]', inputs: [rnd(r, [2, 3])],
    lib: ([x]) => lp.concat([x, x], 1), ref: ([x]) => T.concat([x, x], 1),
    vjp: ([x], g) => { const [a, b] = T.concatVjp([x, x], 1, g); return [{ data: a.data.map((v, i) => v + b.data[i]), shape: a.shape }]; },
  }, r, 'concat');
});

test('stack: new dimension anywhere, rank 0 inputs, gradient', async () => {
  for (let c = 0; c < 10; c++) {
    const rank = r.int(0, 3), shape = randShape(rank, 4, 1), k = r.int(1, 4), dim = r.int(-rank - 1, rank), d = dim < 0 ? dim + rank + 1 : dim;
    const inputs = Array.from({ length: k }, () => rnd(r, shape));
    const unsq = [...shape];
    unsq.splice(d, 0, 1);
    const views = (xs: Nd[]) => xs.map((x) => ({ data: x.data, shape: unsq }));
    await checkOp({
      name: `stack ${k} × ${JSON.stringify(shape)} dim ${dim}`, inputs,
      lib: (xs) => lp.stack(xs, dim), ref: (xs) => T.concat(views(xs), d),
      vjp: (xs, g) => T.concatVjp(views(xs), d, g).map((v) => ({ data: v.data, shape })),
    }, r, 'stack');
  }
});

test('split by size or sections, chunk: pieces and gradient of their sum', async () => {
  for (const device of devices) {
    const x = lp.tensor(Float32Array.from({ length: 10 }, (_, i) => i), [5, 2], { device });
    const bySize = lp.split(x, 2);
    assert.equal(bySize.map((t) => [...t.shape]), [[2, 2], [2, 2], [1, 2]]);
    assert.equal(await bySize[2].array(), [[8, 9]]);
    const bySections = lp.split(x, [1, 0, 4]);
    assert.equal(bySections.map((t) => [...t.shape]), [[1, 2], [0, 2], [4, 2]]);
    assert.equal(await bySections[2].array(), [[2, 3], [4, 5], [6, 7], [8, 9]]);
    assert.equal(lp.split(x, 1, -1).map((t) => [...t.shape]), [[5, 1], [5, 1]]);
    // chunk: ceil(5 / 4) = 2 per piece gives three pieces, as PyTorch.
    assert.equal(lp.chunk(x, 4).map((t) => [...t.shape]), [[2, 2], [2, 2], [1, 2]]);
    assert.equal(lp.chunk(x, 2, 1).map((t) => [...t.shape]), [[5, 1], [5, 1]]);
    assert.equal(lp.chunk(lp.zeros([0, 3], { device }), 3).map((t) => [...t.shape]), [[0, 3], [0, 3], [0, 3]]);
  }
  for (let c = 0; c < 8; c++) {
    const rank = r.int(1, 3), shape = randShape(rank, 6, 1), d = r.int(0, rank - 1), n = shape[d];
    const size = r.int(1, n);
    const w = rnd(r, [n]);
    // Σ_k w_k · piece_k summed: every piece's gradient path is exercised.
    await checkOp({
      name: `split ${JSON.stringify(shape)} size ${size} dim ${d}`, inputs: [rnd(r, shape)],
      lib: ([x]) => lp.concat(lp.split(x, size, d).reverse(), d),
      ref: ([x]) => {
        const starts: number[][] = [];
        for (let s = 0; s < n; s += size) starts.push(Array.from({ length: Math.min(size, n - s) }, (_, i) => s + i));
        const order = starts.reverse().flat();
        return T.select(x, x.shape.map((m, e) => (e === d ? order : Array.from({ length: m }, (_, i) => i))));
      },
      vjp: ([x], g) => {
        const starts: number[][] = [];
        for (let s = 0; s < n; s += size) starts.push(Array.from({ length: Math.min(size, n - s) }, (_, i) => s + i));
        const order = starts.reverse().flat();
        return [T.selectVjp(x.shape, x.shape.map((m, e) => (e === d ? order : Array.from({ length: m }, (_, i) => i))), g)];
      },
    }, r, 'split');
    void w;
  }
});

test('errors name the op, the argument, what it got and what it needs', () => {
  const x = lp.tensor([[1, 2, 3], [4, 5, 6]]);
  const bad: [() => unknown, RegExp][] = [
    [() => lp.slice(x, [0, 0, 0], [1, 1, 1]), /slice: argument 'starts' has 3 entries but x has rank 2/],
    [() => lp.slice(x, [0], [1, 2]), /slice: .*one entry per sliced dimension each, got 1, 2 and 1/],
    [() => lp.slice(x, [0], [1], [0]), /slice: argument 'steps' has 0 for dimension 0; needs a non-zero integer/],
    [() => lp.slice(x, [0.5], [1]), /slice: argument 'starts' has 0.5 for dimension 0/],
    [() => lp.slice(x, 0 as never, [1]), /slice: argument 'starts' must be an array/],
    [() => lp.narrow(x, 2, 0, 1), /narrow: argument 'dim' must be an integer in \[-2, 1\] for a tensor of rank 2, got 2/],
    [() => lp.narrow(x, 1, 4, 0), /narrow: argument 'start' must be an integer in \[-3, 3\]/],
    [() => lp.narrow(x, 1, 1, 3), /narrow: argument 'length' must be an integer in \[0, 2\]/],
    [() => lp.narrow(lp.tensor(1), 0, 0, 1), /narrow: cannot narrow a rank-0 tensor/],
    [() => lp.concat([]), /concat: argument 'tensors' is empty/],
    [() => lp.concat(x as never), /concat: argument 'tensors' must be an array of Tensors/],
    [() => lp.concat([x, [1, 2] as never]), /concat: argument 'tensors\[1\]' must be a Tensor/],
    [() => lp.concat([x, lp.tensor([[1, 2]])]), /concat: tensors\[1\] has shape \[1, 2\], tensors\[0\] has \[2, 3\]; sizes must match except in dimension 0/],
    [() => lp.concat([x, x], 2), /concat: argument 'dim' must be an integer in \[-2, 1\]/],
    [() => lp.concat([lp.tensor(1), lp.tensor(2)]), /concat: zero-dimensional tensor/],
    [() => lp.stack([x, lp.tensor([1, 2])]), /stack: tensors\[1\] has shape \[2\], tensors\[0\] has \[2, 3\]; stack needs tensors of one shape/],
    [() => lp.stack([x], 3), /stack: argument 'dim' must be an integer in \[-3, 2\]/],
    [() => lp.split(x, [1, 2]), /split: sizes \[1, 2\] add up to 3; needs 2, the size of dimension 0/],
    [() => lp.split(x, 0), /split: argument 'sizeOrSections' must be a positive integer/],
    [() => lp.split(x, [1, -1, 2]), /split: argument 'sizeOrSections' must be a positive integer or an array of non-negative integers/],
    [() => lp.chunk(x, 0), /chunk: argument 'chunks' must be a positive integer, got 0/],
  ];
  for (const [f, re] of bad) throwsLepton(f, re);
});

test('concat of tensors on different devices is refused', () => {
  if (devices.length < 2) return;
  throwsLepton(() => lp.concat([lp.tensor([1], { device: 'wasm' }), lp.tensor([2], { device: 'webgpu' })]), /concat: tensors are on different devices/);
});

test.run();
