// where / clamp / pow on every backend against float64 references
// (test/reference/toolkit.ts): random broadcast shapes (empty and rank 0
// included), number operands, gradients by finite differences, special
// values (NaN conditions, ±inf in the unselected operand, ±0, C's pow rules)
// and the error paths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import type { Nd } from '../reference/ops.js';
import { pow as cpow } from '../reference/math.js';
import * as T from '../reference/toolkit.js';

const r = testRng('where-clamp-pow');

/** Three shapes that broadcast together: a random output shape, each operand a right-aligned suffix with some sizes 1. */
function shapes(k: number, allowEmpty = true): number[][] {
  const rank = r.int(0, 3), out = Array.from({ length: rank }, () => r.int(allowEmpty && r.next() < 0.1 ? 0 : 1, 4));
  return Array.from({ length: k }, () => out.slice(r.int(0, rank)).map((d) => (r.next() < 0.3 ? 1 : d)));
}
const cond = (shape: number[]): Nd => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float64Array.from({ length: n }, () => r.pick([0, 1, -2, 0, NaN, -0])), shape };
};

test('where: broadcast shapes, NaN conditions, gradients to the selected operand', async () => {
  for (let c = 0; c < 16; c++) {
    const [sc, sa, sb] = shapes(3);
    const C = cond(sc);
    await checkOp({
      name: `where [${sc}] [${sa}] [${sb}]`, inputs: [rnd(r, sa), rnd(r, sb)], noFd: false,
      lib: ([a, b]) => lp.where(lp.tensor(C.data, C.shape, { device: a.device }), a, b),
      ref: ([a, b]) => T.where(C, a, b), vjp: ([a, b], g) => T.whereVjp(C, a, b, g),
    }, r, 'where');
  }
  for (const device of devices) {
    const c = lp.tensor([1, 0, NaN, 0, 1], { device });
    const a = lp.tensor([-0, Infinity, 2, NaN, -Infinity], { device }), b = lp.tensor([NaN, -0, -Infinity, 5, 3], { device });
    const y = await lp.where(c, a, b).data();
    // Exactly the selected values: −0 stays −0, and ±inf / NaN in the other operand do not leak.
    [-0, -0, 2, 5, -Infinity].forEach((v, i) => assert.ok(Object.is(y[i], v), `${device} where[${i}] = ${y[i]}, needs ${v}`));
    assert.equal([...await lp.where(c, 7, b).data()], [7, -0, 7, 5, 7]);
    assert.equal([...await lp.where(c, a, -1).data()].map((v) => Object.is(v, -0) ? '-0' : v), ['-0', -1, 2, -1, -Infinity]);
  }
});

test('clamp: number and tensor bounds, min > max, NaN, gradients as PyTorch', async () => {
  const bounds: [number | null, number | null][] = [[-0.5, 0.5], [-0.3, null], [null, 0.2], [0.4, -0.4]];
  for (const [lo, hi] of bounds) {
    const shape = shapes(1)[0];
    const L = lo === null ? null : { data: Float64Array.of(lo), shape: [] }, H = hi === null ? null : { data: Float64Array.of(hi), shape: [] };
    await checkOp({
      name: `clamp [${shape}] ${lo} ${hi}`, inputs: [rnd(r, shape)],
      lib: ([x]) => lp.clamp(x, lo, hi), ref: ([x]) => T.clamp(x, L, H), vjp: ([x], g) => T.clampVjp(x, L, H, g).slice(0, 1),
    }, r, 'clamp');
  }
  for (let c = 0; c < 8; c++) {
    const [sx, sl, sh] = shapes(3);
    const both = c % 3 !== 2;
    const inputs = both ? [rnd(r, sx), rnd(r, sl, -1, 0), rnd(r, sh, -0.2, 1)] : [rnd(r, sx), rnd(r, sl)];
    await checkOp({
      name: `clamp tensors [${sx}] [${sl}]${both ? ` [${sh}]` : ''}`, inputs,
      lib: ([x, l, h]) => lp.clamp(x, l, h ?? null), ref: ([x, l, h]) => T.clamp(x, l, h ?? null), vjp: ([x, l, h], g) => T.clampVjp(x, l, h ?? null, g),
    }, r, 'clamp');
  }
  for (const device of devices) {
    const x = lp.tensor([NaN, -Infinity, Infinity, -0, 0.25, 3], { device, requiresGrad: true });
    const y = lp.clamp(x, -1, 1);
    assert.equal([...await y.data()].map(String), ['NaN', '-1', '1', '0', '0.25', '1']);
    y.backward(lp.ones([6], { device }));
    // PyTorch: gradient only where min <= x <= max (NaN compares false).
    assert.equal([...await x.grad!.data()], [0, 0, 0, 1, 1, 0]);
    assert.equal([...await lp.clamp(lp.tensor([-2, 0, 2], { device }), 1, -1).data()], [-1, -1, -1]);
  }
});

test('pow: tensor and number operands, broadcasting, gradients', async () => {
  for (let c = 0; c < 10; c++) {
    const [sa, sb] = shapes(2);
    await checkOp({
      name: `pow [${sa}] [${sb}]`, inputs: [rnd(r, sa, 0.2, 2.5), rnd(r, sb, -2.5, 2.5)],
      lib: ([a, b]) => lp.pow(a, b), ref: ([a, b]) => T.pow(a, b), vjp: ([a, b], g) => T.powVjp(a, b, g),
      // The exponent's gradient sums g·aᵇ·ln a over the broadcast, ln a of both signs (a in [0.2, 2.5]):
      // it cancels, and f32 pow and log rounding (a few ulp each) reached 1.04e-5 of its scale on one seed.
      gradTol: 3e-5,
    }, r, 'pow');
  }
  for (const e of [2, 3, -1, 0.5, 0, -2]) {
    const E: Nd = { data: Float64Array.of(e), shape: [] };
    // Negative bases with an integer exponent have a real power.
    const base = Number.isInteger(e) ? rnd(r, [3, 4], -2, 2) : rnd(r, [3, 4], 0.1, 2);
    await checkOp({
      name: `pow x^${e}`, inputs: [base], lib: ([x]) => lp.pow(x, e), ref: ([x]) => T.pow(x, E), vjp: ([x], g) => [T.powVjp(x, E, g)[0]],
    }, r, 'pow');
  }
  const B: Nd = { data: Float64Array.of(2.5), shape: [] };
  await checkOp({
    name: 'pow 2.5^x', inputs: [rnd(r, [5], -2, 2)], lib: ([x]) => lp.pow(2.5, x), ref: ([x]) => T.pow(B, x), vjp: ([x], g) => [T.powVjp(B, x, g)[1]],
  }, r, 'pow');
});

test("pow: C's special cases on every device", async () => {
  const cases: [number, number][] = [[NaN, 0], [NaN, -0], [1, NaN], [1, Infinity], [-1, -Infinity], [-2, 0.5], [-2, 3], [-2, 2],
    [-0, -1], [0, -1], [-0, -2], [-0, 3], [-0, 0.5], [-Infinity, 3], [-Infinity, -3], [-Infinity, 2], [Infinity, -0.5], [0.5, Infinity],
    [2, -Infinity], [-3, 2 ** 25], [2, 0.5], [10, -3]];
  for (const device of devices) {
    const y = await lp.pow(lp.tensor(cases.map((c) => c[0]), { device }), lp.tensor(cases.map((c) => c[1]), { device })).data();
    cases.forEach(([a, b], i) => {
      const want = Math.fround(cpow(a, b));
      const ok = Number.isNaN(want) ? Number.isNaN(y[i]) : want === 0 || !Number.isFinite(want) ? Object.is(y[i], want) : Math.abs(y[i] - want) <= 2e-6 * Math.abs(want);
      assert.ok(ok, `${device} pow(${Object.is(a, -0) ? '-0' : a}, ${b}) = ${y[i]}, needs ${want}`);
    });
  }
});

test('errors name the op, the argument, what it got and what it needs', () => {
  const x = lp.tensor([[1, 2, 3], [4, 5, 6]]);
  const bad: [() => unknown, RegExp][] = [
    [() => lp.where(x, x, lp.tensor([1, 2])), /where: shapes \[2, 3\] and \[2\] cannot be broadcast/],
    [() => lp.where([1, 0] as never, x, x), /where: argument 'cond' must be a Tensor/],
    [() => lp.where(x, 'a' as never, x), /where: argument 'a' must be a Tensor or a number, got "a"/],
    [() => lp.clamp(x), /clamp: needs at least one of 'min' and 'max'/],
    [() => lp.clamp(x, '0' as never), /clamp: argument 'min' must be a Tensor or a number \(or null\), got "0"/],
    [() => lp.clamp(x, lp.tensor([1, 2])), /clamp: shapes \[2, 3\] and \[2\] cannot be broadcast/],
    [() => lp.pow(2, 3 as never), /pow: needs at least one Tensor operand/],
    [() => lp.pow(x, null as never), /pow: argument 'exponent' must be a Tensor or a number, got null/],
    [() => lp.pow(x, lp.tensor([1, 2])), /pow: shapes \[2, 3\] and \[2\] cannot be broadcast/],
  ];
  for (const [f, re] of bad) throwsLepton(f, re);
});

test.run();
