import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type UnaryOp } from '../../src/backends/backend.js';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/kernels.js';

const r = testRng('elementwise');
const SIZES = [1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 63, 64, 65, 127, 255, 256, 257, 1000, 1023, 4099, 65537];

/** Inputs inside each op's domain, away from poles. */
function inputFor(op: UnaryOp, n: number) {
  if (op === 'log' || op === 'sqrt') return r.array(n, 0.05, 5);
  if (op === 'rdiv') return Float32Array.from(r.array(n, 0.2, 3), (v, i) => (i & 1 ? v : -v));
  if (op === 'exp') return r.array(n, -5, 5);
  // gelu(x) < 1.2e-38 (the smallest normal f32) for x < -10.1: no f32 result is within 1e-5 of it there.
  if (op === 'gelu') return r.array(n, -10, 12);
  if (op === 'tanh' || op === 'sigmoid') return r.array(n, -12, 12);
  return r.array(n, -3, 3);
}

async function compareAcross(key: string, where: string, run: (be: typeof backends[number]) => Promise<Float32Array>,
  expect: Float64Array, scale: Float64Array = expect) {
  const outs: Float32Array[] = [];
  for (const be of backends) {
    const got = await run(be);
    const err = relErr(got, expect, scale);
    record(`${key} · ${label(be)}`, err, where);
    assert.ok(err < 1e-5, `${label(be)} ${key} ${where}: relative error ${err}`);
    outs.push(got);
  }
  agree(outs, `${key} ${where}`, 1e-5, scale);
}

test('unary ops match float64 over every op and 21 sizes', async () => {
  const ops = Object.keys(UNARY_OPS) as UnaryOp[];
  let shapes = 0;
  for (const op of ops) {
    for (const n of SIZES) {
      if (n > 5000 && r.next() < 0.6) continue; // keep the big sizes to a sample per op
      shapes++;
      const x = inputFor(op, n);
      // Kernels take alpha and beta as f32: the reference sees the same numbers.
      const alpha = op === 'affine' || op === 'rdiv' ? Math.fround(r.uniform(-2, 2)) : 1;
      const beta = op === 'affine' ? Math.fround(r.uniform(-1, 1)) : 0;
      const expect = ref.unary(op, x, alpha, beta);
      // αx + β can cancel: float32 gets it right relative to |αx| + |β|.
      const scale = op === 'affine' ? Float64Array.from(x, (v) => Math.abs(alpha * v) + Math.abs(beta)) : expect;
      await compareAcross('unary', `${op} n=${n}`, async (be) => {
        const hx = upload(be, x), out = poisoned(be, n);
        be.unary(op, hx, out, n, alpha, beta);
        const got = await be.read(out, n);
        be.free(hx); be.free(out);
        return got;
      }, expect, scale);
    }
  }
  assert.ok(shapes >= 50);
});

test('log is accurate just above and below 1, one value at a time', async () => {
  // log(x) ≈ x − 1 there: an absolute error allowed by WGSL's builtin (2^-21) is a large relative one.
  for (const d of [1e-2, 1e-3, 1e-4, 1e-5, 3e-7]) {
    for (const x of [Float32Array.of(1 - d), Float32Array.of(1 + d)]) {
      await compareAcross('unary', `log x=${x[0]}`, async (be) => {
        const hx = upload(be, x), out = poisoned(be, 1);
        be.unary('log', hx, out, 1, 1, 0);
        const got = await be.read(out, 1);
        be.free(hx); be.free(out);
        return got;
      }, ref.unary('log', x));
    }
  }
});

test('unary ops may write in place (out === x)', async () => {
  for (const be of backends) {
    const x = r.array(777);
    const h = upload(be, x);
    be.unary('affine', h, h, 777, 2, 1);
    const got = await be.read(h, 777);
    be.free(h);
    assert.ok(relErr(got, ref.unary('affine', x, 2, 1)) < 1e-6, label(be));
  }
});

function broadcastCase() {
  const rank = r.int(0, 5);
  const out = Array.from({ length: rank }, () => r.pick([1, 2, 3, 4, 5, 7, 8, 13, 17]));
  const side = () => {
    const drop = r.int(0, rank);
    return out.slice(drop).map((d) => (r.next() < 0.3 ? 1 : d));
  };
  return { out, a: side(), b: side() };
}

test('binary ops with broadcasting match float64 on 96 shape pairs', async () => {
  const ops = Object.keys(BINARY_OPS) as BinaryOp[];
  const fixed = [
    { out: [1000], a: [1000], b: [1000] }, { out: [64, 65], a: [64, 65], b: [65] }, { out: [64, 65], a: [64, 1], b: [64, 65] },
    { out: [3, 4, 5], a: [], b: [3, 4, 5] }, { out: [7, 9], a: [7, 9], b: [] }, { out: [70000], a: [70000], b: [70000] },
  ];
  for (let i = 0; i < 96; i++) {
    const op = ops[i % ops.length];
    const c = i < fixed.length ? fixed[i] : broadcastCase();
    const na = ref.sizeOf(c.a), nb = ref.sizeOf(c.b), n = ref.sizeOf(c.out);
    // Small integers make eq/gt take both branches; division stays away from 0.
    const discrete = op === 'eq' || op === 'gt' || op === 'ge' || op === 'mask' || op === 'maximum' || op === 'minimum';
    // pow: positive bases (a negative one with a fractional exponent is NaN; special-values.test.ts has those).
    const a = discrete ? Float32Array.from({ length: na }, () => r.int(-2, 2)) : op === 'pow' ? r.array(na, 0.125, 3) : op.endsWith('_bwd') && op !== 'relu_bwd' && op !== 'gelu_bwd' ? r.array(na, -1, 1) : r.array(na, -3, 3);
    const b = discrete ? Float32Array.from({ length: nb }, () => r.int(-2, 2))
      : op === 'div' ? Float32Array.from(r.array(nb, 0.5, 3), (v, j) => (j & 1 ? v : -v)) : r.array(nb, -3, 3);
    const p = { shape: c.out, aStrides: ref.stridesIn(c.a, c.out), bStrides: ref.stridesIn(c.b, c.out) };
    const expect = ref.binary(op, a, b, p.shape, p.aStrides, p.bStrides);
    // |expect| for every op but gelu_bwd, whose terms cancel at its root (see geluGradScale).
    const scale = ref.binaryScale(op, a, b, p.shape, p.aStrides, p.bStrides);
    await compareAcross('binary', `${op} [${c.a}] ∘ [${c.b}] -> [${c.out}]`, async (be) => {
      const ha = upload(be, a), hb = upload(be, b), out = poisoned(be, n);
      be.binary(op, ha, hb, out, p);
      const got = await be.read(out, n);
      be.free(ha); be.free(hb); be.free(out);
      return got;
    }, expect, scale);
  }
});

test('fill writes the value everywhere, over 52 sizes', async () => {
  const sizes = [...SIZES, 70001, ...Array.from({ length: 30 }, () => r.int(1, 20000))];
  for (const be of backends) {
    for (const n of sizes) {
      const value = r.uniform(-5, 5);
      const h = poisoned(be, n);
      be.fill(h, n, value);
      const got = await be.read(h, n);
      be.free(h);
      assert.ok(got.every((v) => v === Math.fround(value)), `${label(be)} fill n=${n}`);
    }
  }
});

test('write/read round-trips and storage is reusable after free', async () => {
  for (const be of backends) {
    for (const n of [1, 3, 1024, 100003]) {
      const x = r.array(n);
      const h = upload(be, x);
      assert.equal(await be.read(h, n), x, `${label(be)} n=${n}`);
      be.free(h);
    }
  }
});

test.run();
