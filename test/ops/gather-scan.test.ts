// gather / indexSelect / oneHot / cumsum / topk on every backend against the
// float64 references of test/reference/toolkit.ts: random shapes (empty and
// rank 0 where valid), repeated indices, gradients by finite differences,
// special values, and the integer-data rule's errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import type { Nd } from '../reference/ops.js';
import * as T from '../reference/toolkit.js';

const r = testRng('gather-scan');
const randShape = (rank: number, lo = 1, hi = 4) => Array.from({ length: rank }, () => r.int(lo, hi));
const ints = (shape: number[], n: number): Nd => ({ data: Float64Array.from({ length: T.size(shape) }, () => r.int(0, n - 1)), shape });

test('gather: random shapes and dims, repeated indices, gradient (scatter-add)', async () => {
  for (let c = 0; c < 16; c++) {
    const rank = r.int(1, 4), xs = randShape(rank, 1, 4), dim = r.int(-rank, rank - 1), d = dim < 0 ? dim + rank : dim;
    const is = xs.map((s, e) => (e === d ? r.int(0, 5) : r.int(c % 5 === 0 ? 0 : 1, s)));
    const idx = ints(is, xs[d]);
    // Index data in each accepted form: a tensor, nested arrays, an Int32Array (1-D).
    // (Nested arrays cannot spell a shape with a zero inside: those go as a tensor.)
    const form = T.size(is) === 0 ? 0 : c % 3;
    await checkOp({
      name: `gather x [${xs}] dim ${dim} index [${is}] (${['tensor', 'array', 'typed'][form]})`, inputs: [rnd(r, xs)],
      lib: ([x]) => lp.gather(x, dim, form === 0 ? lp.tensor(idx.data, idx.shape, { device: x.device })
        : form === 1 || rank > 1 ? nest(idx) as never : Int32Array.from(idx.data)),
      ref: ([x]) => T.gather(x, d, idx), vjp: ([x], g) => [T.gatherVjp(x, d, idx, g)],
    }, r, 'gather');
  }
  await checkOp({
    name: 'gather rank 0', inputs: [rnd(r, [])], lib: ([x]) => lp.gather(x, 0, lp.tensor(0, { device: x.device })),
    ref: ([x]) => ({ data: Float64Array.from(x.data), shape: [] }), vjp: (_, g) => [g],
  }, r, 'gather');
});

/** Nested arrays of an Nd's values. */
function nest(x: Nd): unknown {
  const build = (d: number, off: number): unknown => {
    if (d === x.shape.length) return x.data[off];
    const step = T.size(x.shape.slice(d + 1));
    return Array.from({ length: x.shape[d] }, (_, i) => build(d + 1, off + i * step));
  };
  return build(0, 0);
}

test('indexSelect: random shapes, repeated and empty indices, gradient', async () => {
  for (let c = 0; c < 12; c++) {
    const rank = r.int(1, 4), xs = randShape(rank), dim = r.int(-rank, rank - 1), d = dim < 0 ? dim + rank : dim;
    const index = Array.from({ length: r.int(0, 6) }, () => r.int(0, xs[d] - 1));
    const lists = T.indexSelectLists(xs, d, index);
    await checkOp({
      name: `indexSelect x [${xs}] dim ${dim} index [${index}]`, inputs: [rnd(r, xs)],
      lib: ([x]) => lp.indexSelect(x, dim, c % 2 ? index : lp.tensor(index, [index.length], { device: x.device })),
      ref: ([x]) => T.select(x, lists), vjp: ([x], g) => [T.selectVjp(xs, lists, g)],
    }, r, 'indexSelect');
  }
});

test('oneHot: arrays, typed arrays and tensors; inferred class count; the rows', async () => {
  for (const device of devices) {
    assert.equal(await lp.oneHot([2, 0, 1], 4, { device }).array(), [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]);
    assert.equal(await lp.oneHot(Int32Array.of(1, 1), -1, { device }).array(), [[0, 1], [0, 1]]);
    const t = lp.tensor([[3], [0]], { device });
    const h = lp.oneHot(t, 5);
    assert.equal([...h.shape], [2, 1, 5]);
    assert.is(h.device, device);
    assert.equal(await h.array(), [[[0, 0, 0, 1, 0]], [[1, 0, 0, 0, 0]]]);
    assert.equal([...lp.oneHot([], 3, { device }).shape], [0, 3]);
  }
});

test('integer data given as a tensor: checked on WASM, NaN from the kernel on WebGPU', async () => {
  throwsLepton(() => lp.oneHot(lp.tensor([0, 5], { device: 'wasm' }), 5), /oneHot: argument 'ids' has class id 5 at index 1; needs an integer in \[0, 4\] \(numClasses 5\)/);
  throwsLepton(() => lp.gather(lp.tensor([1, 2], { device: 'wasm' }), 0, lp.tensor([1.5], { device: 'wasm' })), /gather: argument 'index' has index 1.5 at index 0; needs an integer in \[0, 1\]/);
  if (!devices.includes('webgpu')) return;
  const x = lp.tensor([[1, 2], [3, 4]], { device: 'webgpu' });
  const bad = lp.tensor([[0, 2], [-1, 1.5]], { device: 'webgpu' });
  const y = await lp.gather(x, 1, bad).data();
  assert.equal([y[0], ...[y[1], y[2], y[3]].map(Number.isNaN)], [1, true, true, true]);
  const rows = await lp.oneHot(lp.tensor([1, 7, NaN], { device: 'webgpu' }), 3).data();
  assert.equal([...rows.slice(0, 3)], [0, 1, 0]);
  assert.ok([...rows.slice(3)].every(Number.isNaN), 'a bad id gives a NaN row');
  // The fused cross-entropy kernels check each id: a bad one's row is NaN, loss and gradient; the others are exact.
  const logits = lp.zeros([5, 3], { device: 'webgpu', requiresGrad: true });
  const ceT = lp.crossEntropy(logits, lp.tensor([0, 3, -1, 1.5, NaN], { device: 'webgpu' }), { reduction: 'none' });
  const ce = await ceT.data();
  assert.ok(Math.abs(ce[0] - Math.log(3)) < 1e-6 && [1, 2, 3, 4].every((i) => Number.isNaN(ce[i])), `crossEntropy with bad ids on webgpu: ${[...ce]}`);
  ceT.sum().backward();
  const dx = await logits.grad!.data();
  const third = 1 / 3;
  assert.ok([third - 1, third, third].every((v, c) => Math.abs(dx[c] - v) < 1e-6), `the good row's gradient: ${[...dx.slice(0, 3)]}`);
  assert.ok([...dx.slice(3)].every(Number.isNaN), `bad rows' gradients are NaN: ${[...dx.slice(3)]}`);
});

test('crossEntropy takes class ids as an array, an Int32Array or a 1-D tensor alike', async () => {
  for (const device of devices) {
    const logits = lp.tensor([[1, 2, 0.5], [0, -1, 3]], { device });
    const want = await lp.crossEntropy(logits, [1, 2]).item();
    assert.ok(Math.abs(await lp.crossEntropy(logits, Int32Array.of(1, 2)).item() - want) < 1e-7);
    assert.ok(Math.abs(await lp.crossEntropy(logits, lp.tensor([1, 2], { device })).item() - want) < 1e-7);
  }
});

test('cumsum: every dim of random shapes, gradient (the reverse running sum)', async () => {
  for (let c = 0; c < 14; c++) {
    const rank = r.int(0, 4), xs = randShape(rank, c % 6 === 0 ? 0 : 1, 6), dim = rank === 0 ? r.pick([0, -1]) : r.int(-rank, rank - 1);
    const d = rank === 0 ? 0 : dim < 0 ? dim + rank : dim;
    await checkOp({
      name: `cumsum [${xs}] dim ${dim}`, inputs: [rnd(r, xs)],
      lib: ([x]) => lp.cumsum(x, dim), ref: ([x]) => (rank === 0 ? { data: Float64Array.from(x.data), shape: [] } : T.cumsum(x, d)), vjp: ([x], g) => [rank === 0 ? g : T.cumsumVjp(x, d, g)],
      scale: ([x]) => (rank === 0 ? x : T.cumsum({ data: x.data.map(Math.abs), shape: x.shape }, d)),
    }, r, 'cumsum');
  }
  await checkOp({
    name: 'cumsum long line', inputs: [rnd(r, [3000])], lib: ([x]) => lp.cumsum(x, 0), ref: ([x]) => T.cumsum(x, 0), vjp: ([x], g) => [T.cumsumVjp(x, 0, g)],
    scale: ([x]) => T.cumsum({ data: x.data.map(Math.abs), shape: x.shape }, 0), noFd: true,
  }, r, 'cumsum');
  for (const device of devices) {
    const y = await lp.cumsum(lp.tensor([1, Infinity, 2, -Infinity, 3], { device }), 0).data();
    assert.equal([...y].map(String), ['1', 'Infinity', 'Infinity', 'NaN', 'NaN']);
  }
});

test('topk: largest and smallest along every dim, ties in index order, NaN, gradient', async () => {
  for (let c = 0; c < 14; c++) {
    const rank = r.int(1, 3), xs = randShape(rank, 1, 7), dim = r.int(-rank, rank - 1), d = dim < 0 ? dim + rank : dim;
    const k = r.int(0, xs[d]), largest = c % 2 === 0;
    // Few distinct values: ties everywhere (their gradient still goes to the chosen index only).
    const x: Nd = { data: Float64Array.from({ length: T.size(xs) }, () => (c % 3 === 0 ? r.int(-2, 2) : r.uniform(-1, 1))), shape: xs };
    x.data.forEach((v, i) => { x.data[i] = Math.fround(v); });
    const ref = T.topk(x, k, d, largest);
    await checkOp({
      name: `topk [${xs}] k ${k} dim ${dim} ${largest ? 'largest' : 'smallest'}`, inputs: [x], noFd: c % 3 === 0,
      lib: ([t]) => lp.topk(t, k, { dim, largest }).values, ref: ([t]) => T.topk(t, k, d, largest).values,
      vjp: (_, g) => [T.gatherVjp(x, d, ref.indices, g)],
    }, r, 'topk');
    for (const device of devices) {
      const got = lp.topk(lp.tensor(x.data, xs, { device }), k, { dim, largest });
      assert.equal([...await got.indices.data()], [...ref.indices.data], `${device} topk indices [${xs}] k ${k} dim ${dim}`);
      lp.dispose(got.values, got.indices);
    }
  }
  for (const device of devices) {
    const x = lp.tensor([3, NaN, -0, 0, -Infinity, NaN, 3], { device });
    const big = lp.topk(x, 4), small = lp.topk(x, 5, { largest: false });
    assert.equal([...await big.indices.data()], [1, 5, 0, 6]);
    assert.equal([...await small.indices.data()], [4, 2, 3, 0, 6], 'NaN last among the smallest; −0 and 0 tie');
    assert.equal([...lp.topk(lp.tensor(5, { device }), 1).values.shape], []);
  }
});

test('ranges: arange, linspace, eye as PyTorch makes them', async () => {
  for (const device of devices) {
    assert.equal([...await lp.arange(5, { device }).data()], [0, 1, 2, 3, 4]);
    assert.equal([...await lp.arange(1, 2, 0.25, { device }).data()], [1, 1.25, 1.5, 1.75]);
    assert.equal([...await lp.arange(3, -1, -1.5, { device }).data()], [3, 1.5, 0]);
    assert.equal([...lp.arange(2, 2).shape], [0]);
    const ls = await lp.linspace(-1, 1, 5, { device }).data();
    assert.equal([...ls], [-1, -0.5, 0, 0.5, 1]);
    const l7 = await lp.linspace(0, 1, 7).data();
    // Second half from the end, as PyTorch: the last value is exactly `end`.
    for (let i = 0; i < 7; i++) assert.is(l7[i], Math.fround(i < 3 ? i / 6 : 1 - (6 - i) / 6));
    assert.equal([...await lp.linspace(3, 9, 1).data()], [3]);
    assert.equal(await lp.eye(2, 3, { device }).array(), [[1, 0, 0], [0, 1, 0]]);
    assert.equal(await lp.eye(2).array(), [[1, 0], [0, 1]]);
  }
});

test('errors name the op, the argument, the bad value and the range', () => {
  const x = lp.tensor([[1, 2, 3], [4, 5, 6]]);
  const bad: [() => unknown, RegExp][] = [
    [() => lp.gather(x, 1, [[0, 3]]), /gather: argument 'index' has index 3 at position \[0, 1\]; needs an integer in \[0, 2\] \(dimension 1 of x \[2, 3\]\)/],
    [() => lp.gather(x, 1, [0, 1]), /gather: argument 'index' has rank 1 \[2\]; needs x's rank 2/],
    [() => lp.gather(x, 1, [[0], [1], [2]]), /gather: argument 'index' \[3, 1\] has size 3 in dimension 0, larger than x's 2/],
    [() => lp.gather(x, 2, [[0]]), /gather: argument 'dim' must be an integer in \[-2, 1\]/],
    [() => lp.gather(x, 0, [[0, 1], [2]] as never), /gather: argument 'index' is ragged/],
    [() => lp.gather(x, 0, 'abc' as never), /gather: argument 'index' must be integer data/],
    [() => lp.gather(x, 0, [[2 ** 25]]), /gather: argument 'index' has index 33554432 at position \[0, 0\]; integer data is held as float32/],
    [() => lp.indexSelect(x, 0, [0, -1]), /indexSelect: argument 'index' has index -1 at index 1; needs an integer in \[0, 1\]/],
    [() => lp.indexSelect(x, 0, [[0]]), /indexSelect: argument 'index' must be 1-D, got shape \[1, 1\]/],
    [() => lp.indexSelect(x, 0, new BigInt64Array(1) as never), /indexSelect: argument 'index' is a BigInt64Array/],
    [() => lp.oneHot([0, 3], 3), /oneHot: argument 'ids' has class id 3 at index 1; needs an integer in \[0, 2\] \(numClasses 3\)/],
    [() => lp.oneHot([0, NaN]), /oneHot: argument 'ids' has class id NaN at index 1/],
    [() => lp.oneHot([0], -2), /oneHot: argument 'numClasses' must be a non-negative integer or -1/],
    [() => lp.oneHot([0], 2, { devce: 'wasm' } as never), /oneHot: unknown option 'devce'/],
    [() => lp.crossEntropy(x, [0, 3]), /crossEntropy: argument 'labels' has class id 3 at index 1; needs an integer in \[0, 2\] for logits \[2, 3\]/],
    [() => lp.crossEntropy(x, [0]), /crossEntropy: argument 'labels' has shape \[1\]; needs 2 class ids/],
    [() => lp.cumsum(x, 2), /cumsum: argument 'dim' must be an integer in \[-2, 1\]/],
    [() => lp.cumsum(x, undefined as never), /cumsum: argument 'dim' must be an integer/],
    [() => lp.topk(x, 4), /topk: argument 'k' must be an integer in \[0, 3\] \(the size of dimension 1 of x \[2, 3\]\), got 4/],
    [() => lp.topk(x, 1, { dim: 5 }), /topk: argument 'dim' must be an integer in \[-2, 1\]/],
    [() => lp.topk(x, 1, { largset: true } as never), /topk: unknown option 'largset'/],
    [() => lp.arange(0, 5, 0), /arange: argument 'step' must be non-zero/],
    [() => lp.arange(5, 0, 1), /arange: the range from 5 to 0 with step 1 runs the wrong way/],
    [() => lp.arange(Infinity), /arange: argument 'end' must be a finite number, got Infinity/],
    [() => lp.linspace(0, 1, -1), /linspace: argument 'steps' must be a non-negative integer/],
    [() => lp.eye(2.5), /eye: argument 'n' must be a non-negative integer, got 2.5/],
  ];
  for (const [f, re] of bad) throwsLepton(f, re);
});

test('indexSelect with a rank-0 index or of a rank-0 tensor; index data on another device is refused', async () => {
  for (const device of devices) {
    const x = lp.tensor([[1, 2], [3, 4]], { device });
    assert.equal(await lp.indexSelect(x, 1, lp.tensor(1, { device })).array(), [[2], [4]]);
    assert.equal(await lp.indexSelect(lp.tensor(7, { device }), 0, [0, 0]).array(), [7, 7]);
    assert.equal(await lp.indexSelect(x, 0, 1).array(), [[3, 4]], 'a number is one index (rank 0)');
    assert.equal(await lp.oneHot(2, 3, { device }).array(), [0, 0, 1]);
  }
  if (devices.includes('webgpu')) {
    throwsLepton(() => lp.gather(lp.tensor([1, 2], { device: 'webgpu' }), 0, lp.tensor([0], { device: 'wasm' })),
      /gather: argument 'index' is on wasm but the data is on webgpu/);
  }
});

test('the toolkit is functions, not Tensor methods (methods would put every op in every bundle)', () => {
  const x = lp.tensor([1, 2]) as unknown as Record<string, unknown>;
  for (const name of ['slice', 'narrow', 'gather', 'clamp', 'pow', 'cumsum', 'topk', 'argmin']) assert.is(x[name], undefined, name);
});

test.run();
