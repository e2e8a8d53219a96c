// argmax on every backend against a plain reference: the first index of the
// largest value along an axis (NaN counts as largest, as PyTorch), over random
// shapes and axes with many ties, ±inf and NaN; keepDims; the flattened form;
// no gradient; errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { testRng } from '../helpers/random.js';

const { tensor, argmax, argmin, LeptonError } = lp;
const rng = testRng('argmax');

/** Reference: PyTorch's rule, written directly (a NaN wins; otherwise the first strict maximum). */
function refArgmax(x: ArrayLike<number>, shape: number[], axis: number): { data: number[]; shape: number[] } {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1), n = shape[axis], inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const data: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      for (let k = 0; k < n; k++) {
        const v = x[(o * n + k) * inner + i], b = x[(o * n + best) * inner + i];
        if (Number.isNaN(b)) break;
        if (Number.isNaN(v) || v > b) best = k;
      }
      data.push(best);
    }
  }
  return { data, shape: shape.filter((_, d) => d !== axis) };
}

function randomInput(size: number): Float32Array {
  const special = [Infinity, -Infinity, NaN, 0, -0];
  const x = new Float32Array(size);
  // Few distinct values, so ties are common; now and then a special value.
  for (let i = 0; i < size; i++) x[i] = rng.next() < 0.05 ? rng.pick(special) : rng.int(-3, 3);
  return x;
}

test('argmax along every axis of random shapes matches the reference (ties, ±inf, NaN)', async () => {
  for (const device of devices) {
    for (let c = 0; c < 24; c++) {
      const rank = rng.int(1, 4), shape = Array.from({ length: rank }, () => rng.int(1, c % 5 === 0 ? 40 : 6));
      const x = randomInput(shape.reduce((a, b) => a * b, 1));
      const t = tensor(x, shape, { device });
      for (let axis = -rank; axis < rank; axis++) {
        const ax = axis < 0 ? axis + rank : axis;
        const ref = refArgmax(x, shape, ax);
        const y = argmax(t, axis);
        assert.equal([...y.shape], ref.shape, `${device} shape ${shape} axis ${axis}`);
        assert.equal([...await y.data()], ref.data, `${device} ${JSON.stringify([...x])} shape ${shape} axis ${axis}`);
        const k = argmax(t, axis, true);
        assert.equal([...k.shape], shape.map((d, i) => (i === ax ? 1 : d)));
        assert.equal([...await k.data()], ref.data);
        lp.dispose(y, k);
      }
      t.dispose();
    }
  }
});

test('without an axis: the index into the flattened tensor; rows of -inf give 0', async () => {
  for (const device of devices) {
    const x = tensor([[1, 7, 7], [-2, 7, 0]], { device });
    const a = argmax(x);
    assert.equal([...a.shape], []);
    assert.is(await a.item(), 1);
    assert.equal([...argmax(x, undefined, true).shape], [1, 1]);
    assert.is(await argmax(tensor([[1, 2], [NaN, NaN]], { device })).item(), 2);
    assert.equal([...await argmax(tensor([[-Infinity, -Infinity], [-Infinity, 5]], { device }), 1).data()], [0, 1]);
    assert.is(await argmax(tensor(4, { device })).item(), 0, 'a scalar');
  }
});

test('argmax records no gradient, and rejects empty axes and bad arguments', () => {
  const w = tensor([[1, 2], [3, 0]], { requiresGrad: true });
  const a = argmax(w, 1);
  assert.is(a.requiresGrad, false);
  assert.is(a.gradFn, null);
  const bad: [() => unknown, RegExp][] = [
    [() => argmax(tensor(new Float32Array(0), [2, 0]), 1), /argmax: cannot take the argmax of an empty axis: x has shape \[2, 0\], axis 1/],
    [() => argmax(w, 2), /argmax: axis 2 is out of range for a tensor of rank 2/],
    [() => argmax(w, 0.5), /argmax: argument 'axis' must be an integer, got 0\.5/],
    [() => argmax([1, 2] as unknown as lp.Tensor), /argmax: argument 'x' must be a Tensor/],
  ];
  for (const [f, re] of bad) {
    try { f(); assert.unreachable(String(re)); } catch (e) { assert.instance(e, LeptonError); assert.match((e as Error).message, re); }
  }
});

/** argmin's reference, written directly: a NaN wins; otherwise the first strict minimum (−0 and +0 tie). */
function refArgmin(x: ArrayLike<number>, shape: number[], axis: number): number[] {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1), n = shape[axis], inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const data: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      for (let k = 1; k < n; k++) {
        const v = x[(o * n + k) * inner + i], b = x[(o * n + best) * inner + i];
        if (Number.isNaN(b)) break;
        if (Number.isNaN(v) || v < b) best = k;
      }
      data.push(best);
    }
  }
  return data;
}

test('argmin along every axis of random shapes matches the reference (ties, ±0, ±inf, NaN)', async () => {
  for (const device of devices) {
    for (let c = 0; c < 16; c++) {
      const rank = rng.int(1, 4), shape = Array.from({ length: rank }, () => rng.int(1, c % 5 === 0 ? 40 : 6));
      const x = randomInput(shape.reduce((a, b) => a * b, 1));
      const t = tensor(x, shape, { device });
      for (let axis = -rank; axis < rank; axis++) {
        const ax = axis < 0 ? axis + rank : axis;
        const want = refArgmin(x, shape, ax);
        const y = argmin(t, axis), k = argmin(t, axis, true);
        assert.equal([...await y.data()], want, `${device} ${JSON.stringify([...x])} shape ${shape} axis ${axis}`);
        assert.equal([...k.shape], shape.map((d, i) => (i === ax ? 1 : d)));
        lp.dispose(y, k);
      }
      t.dispose();
    }
    assert.is(await argmin(tensor([[3, -0, 0], [0, -7, NaN]], { device })).item(), 5, 'flattened: the NaN');
    assert.is(await argmin(tensor([[3, -0], [0, 1]], { device })).item(), 1, '−0 and 0 tie: the first');
    assert.equal([...argmin(tensor([[1, 2]], { device }), undefined, true).shape], [1, 1]);
  }
  throwsArg(() => argmin(tensor(new Float32Array(0), [0])), /argmin: cannot take the argmin of an empty axis/);
  throwsArg(() => argmin(tensor([1, 2]), 1), /argmin: axis 1 is out of range/);
  throwsArg(() => argmin(tensor([1, 2]), 0, 'yes' as never), /argmin: argument 'keepDims' must be a boolean, got "yes"/);
});

function throwsArg(f: () => unknown, re: RegExp) {
  try { f(); assert.unreachable(String(re)); } catch (e) { assert.instance(e, LeptonError); assert.match((e as Error).message, re); }
}

test.run();
