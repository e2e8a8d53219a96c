// Special inputs (NaN, ±inf, ±0, denormals, ±3e38, FLT_MAX, empty) through every
// kernel on every backend, against the float64 reference with IEEE and PyTorch
// semantics (test/reference/). The rules (signed zeros, denormals) are in
// helpers/special.ts; op-level cases (number operands, rank 0, empty tensors,
// losses, gradients) are in special-values-ops.test.ts.
import { test } from 'uvu';
import { ACTIVATIONS, BINARY_OPS, UNARY_OPS, type Activation, type Backend, type BinaryOp, type UnaryOp } from '../src/backends/backend.js';
import { backends, upload } from './helpers/backends.js';
import { testRng } from './helpers/random.js';
import { answers, DENORM, DENORM_MIN, FLT_MAX, PAIR_VALUES, show, SPECIALS, SpecialTable, type Policy } from './helpers/special.js';
import * as ref from './reference/kernels.js';
import * as m from './reference/math.js';

const r = testRng('special-values');
const table = new SpecialTable('special values, kernels');
/** Unwritten outputs keep this (NaN is an expected answer here, so it cannot be the poison). */
const POISON = 12345.5;

async function runKernel(be: Backend, inputs: ArrayLike<number>[], n: number, call: (hs: unknown[], out: unknown) => void, inPlace = false) {
  const hs = inputs.map((x) => upload(be, x));
  const out = inPlace ? hs[0] : upload(be, new Float32Array(n).fill(POISON));
  call(hs, out);
  const got = await be.read(out, n);
  for (const h of new Set([...hs, out])) be.free(h);
  return got;
}

/** Each value at several positions: vector bodies and tails, every lane. */
const spread = (vals: number[], n: number) => Float32Array.from({ length: n }, (_, i) => vals[(i * 5) % vals.length]);

// exp's polynomial (and sigmoid's, gelu's through it) gives 0 below 2^-126 on WASM.
const FLUSHES = new Set(['exp', 'sigmoid', 'gelu']);

test('unary kernels: every special input, in place and not, vector bodies and tails', async () => {
  const params: [UnaryOp, number, number][] = (Object.keys(UNARY_OPS) as UnaryOp[]).flatMap((op): [UnaryOp, number, number][] =>
    // Multiplying by a number is affine(x, α, −0): adding −0 keeps x·α's own zero sign.
    (op === 'affine' ? [[op, 2, -0], [op, -1.5, 0.25]] : op === 'rdiv' ? [[op, 1, 0], [op, -2, 0]] : [[op, 1, 0]]));
  for (const [op, alpha, beta] of params) {
    for (const n of [SPECIALS.length, 67]) {
      const x = n === SPECIALS.length ? Float32Array.from(SPECIALS) : spread(SPECIALS, n);
      for (const be of backends) {
        for (const inPlace of [false, true]) {
          const got = await runKernel(be, [x], n, ([hx], out) => be.unary(op, hx, out, n, alpha, beta), inPlace);
          const p: Policy = { flushes: FLUSHES.has(op) };
          const name = op === 'affine' || op === 'rdiv' ? `${op}(α=${alpha}, β=${Object.is(beta, -0) ? '-0' : beta})` : op;
          got.forEach((v, i) => table.check(name, be, `${name}(${show(x[i])})`, v, answers(be, (t) => m.unary(op, t, alpha, beta), [x[i]], p), p));
        }
      }
    }
  }
  table.assertClean();
});

/** Values of `a` for each binary op: an activation's output for tanh_bwd and sigmoid_bwd. */
function aValues(op: BinaryOp): number[] {
  if (op === 'tanh_bwd') return [NaN, 1, -1, 0, -0, DENORM_MIN, -DENORM, 0.5, -0.75, 0.999, -0.25].map(Math.fround);
  if (op === 'sigmoid_bwd') return [NaN, 1, 0, -0, DENORM_MIN, DENORM, 0.5, 0.25, 0.999, 1e-30, 0.75].map(Math.fround);
  return PAIR_VALUES;
}

test('binary kernels: every pair of special values, contiguous, vec4 and broadcast layouts', async () => {
  for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
    const av = aValues(op), bv = PAIR_VALUES;
    const pairs = av.flatMap((a) => bv.map((b) => [a, b]));
    // Ties of maximum/minimum at ±0 may return either zero (IEEE leaves it open; so do PyTorch's backends).
    // gelu′ rounds to zero from either side at large |x| (its sign there is float64's, not an IEEE rule).
    const p: Policy = { signedZero: !['maximum', 'minimum', 'gelu_bwd'].includes(op), flushes: op === 'gelu_bwd', tol: 2e-5 };
    const layouts = [
      { name: 'contiguous', n: pairs.length, shape: [pairs.length], a: pairs.map((q) => q[0]), b: pairs.map((q) => q[1]), sa: [1], sb: [1] },
      // 124 = a multiple of 4: WebGPU's vec4 kernel; the extra pairs are (1, 1).
      { name: 'vec4', n: 124, shape: [124], a: [...pairs.map((q) => q[0]), 1, 1, 1], b: [...pairs.map((q) => q[1]), 1, 1, 1], sa: [1], sb: [1] },
      { name: 'broadcast', n: pairs.length, shape: [av.length, bv.length], a: av, b: bv, sa: [1, 0], sb: [0, 1] },
    ];
    for (const L of layouts) {
      for (const be of backends) {
        const got = await runKernel(be, [L.a, L.b], L.n, ([ha, hb], out) => be.binary(op, ha, hb, out, { shape: L.shape, aStrides: L.sa, bStrides: L.sb }));
        for (let i = 0; i < pairs.length; i++) {
          const [a, b] = pairs[i];
          table.check(op, be, `${op}(${show(a)}, ${show(b)}) ${L.name}`, got[i], answers(be, (x, y) => m.binary(op, x, y), [a, b], p), p);
        }
      }
    }
  }
  table.assertClean();
});

/** Rows for reductions and softmax: the special ones, and long ones that take the kernels' multi-pass and workgroup paths. */
function specialRows(): number[][] {
  const long = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => Math.fround(f(i)));
  return [
    [NaN, 1], [1, NaN], [-Infinity, -Infinity], [Infinity, -Infinity], [Infinity, 1], [-Infinity, 1], [Infinity, Infinity],
    [NaN, 1, 2], [-Infinity, 1, 2], [3e38, 3e38], [3e38, -3e38], [-3e38, -3e38], [FLT_MAX, -FLT_MAX], [0, -0], [-0, -0],
    [DENORM_MIN, 0], [1, 2, 3, 4, 5, 6, 7, 8, NaN], [-Infinity], [NaN],
    long(37, (i) => (i === 33 ? NaN : i / 10)), long(37, () => -Infinity), long(37, (i) => (i % 3 ? -Infinity : i / 7)),
    long(1500, (i) => (i === 1400 ? NaN : Math.sin(i))), long(1500, () => -Infinity), long(1500, (i) => (i === 700 ? Infinity : -Infinity)),
    long(1500, (i) => (i === 5 ? 2 : -Infinity)), long(1500, (i) => (i % 4 === 1 ? -Infinity : Math.cos(i))),
  ];
}

test('reduce kernels: sum, mean, max of rows with special values, along rows and across them', async () => {
  for (const op of ['sum', 'mean', 'max'] as const) {
    for (const row of specialRows()) {
      const R = row.length;
      for (const inner of [1, 3]) {
        // [2, R, inner]: outer 0 holds the row in every column, outer 1 the row reversed.
        const x = new Float32Array(2 * R * inner);
        for (let k = 0; k < R; k++) for (let c = 0; c < inner; c++) { x[k * inner + c] = row[k]; x[(R + k) * inner + c] = row[R - 1 - k]; }
        for (const be of backends) {
          const got = await runKernel(be, [x], 2 * inner, ([hx], out) => be.reduce(op, hx, out, { outer: 2, reduce: R, inner }));
          const want = ref.reduce(op, row, 1, R, 1)[0];
          // Terms of a sum add in a kernel's order, so an overflowing partial sum (3e38 + 3e38 in a mean) may
          // give ±inf where the exact mean is finite, as PyTorch's float32 sum does.
          const sumScale = row.reduce((s, v) => s + Math.abs(v), 0);
          const p: Policy = { signedZero: false, atol: op === 'max' ? 0 : 1e-6 * sumScale / (op === 'mean' ? R : 1) };
          const wants = answers(be, () => want, [], p);
          if (op === 'mean' && Number.isFinite(want) && !Number.isFinite(Math.fround(sumScale))) wants.push(Infinity, -Infinity);
          const where = `${op}([${row.length > 12 ? `${R} values` : row.map(show).join(', ')}]) inner ${inner}`;
          got.forEach((v, i) => table.check(`reduce ${op}`, be, `${where} #${i}`, v, wants, p));
        }
      }
    }
    // An empty axis gives the identity: sum 0, mean NaN (0/0), max −inf (the op layer refuses an empty max).
    for (const be of backends) {
      const got = await runKernel(be, [[1]], 6, ([hx], out) => be.reduce(op, hx, out, { outer: 2, reduce: 0, inner: 3 }));
      const want = op === 'sum' ? 0 : op === 'mean' ? NaN : -Infinity;
      got.forEach((v, i) => table.check(`reduce ${op}`, be, `${op} of an empty axis #${i}`, v, [want], { signedZero: false }));
    }
  }
  table.assertClean();
});

test('softmax kernels: rows with NaN, ±inf, huge, zero and denormal values (NaN row wherever PyTorch gives one)', async () => {
  const rows = specialRows();
  for (const log of [false, true]) {
    for (const row of rows) {
      const cols = row.length;
      // Two copies of the row, the second one with the order reversed.
      const x = Float32Array.from([...row, ...[...row].reverse()]);
      const want = ref.softmax(x, 2, cols, log);
      for (const be of backends) {
        const got = await runKernel(be, [x], 2 * cols, ([hx], out) => be.softmax(hx, out, 2, cols, log));
        const name = log ? 'logSoftmax' : 'softmax';
        const where = `${name}([${cols > 12 ? `${cols} values` : row.map(show).join(', ')}])`;
        const p: Policy = { tol: 2e-5, flushes: !log, signedZero: false };
        got.forEach((v, i) => table.check(name, be, `${where} #${i}`, v, answers(be, () => want[i], [], p), p));
      }
    }
  }
  table.assertClean();
});

test('matmul kernels: NaN and ±inf in A, B and the bias, through every epilogue and a relu/gelu prologue', async () => {
  const shapes: [number, number, number][] = [[5, 7, 6], [1, 9, 5], [9, 1, 5], [33, 17, 9], [64, 64, 64], [70, 65, 130]];
  const acts = Object.keys(ACTIVATIONS) as Activation[];
  for (const [M, N, K] of shapes) {
    const a = r.array(M * K), b = r.array(K * N), bias = r.array(N);
    a[0] = NaN; a[Math.min(M * K - 1, K + 2)] = Infinity; a[M * K - 1] = -Infinity;
    b[Math.min(K * N - 1, N + 1)] = -Infinity; b[K * N - 1] = -0; b[(K >> 1) * N] = Infinity;
    bias[N - 1] = NaN; bias[0] = N > 2 ? -Infinity : bias[0]; bias[N >> 1] = N > 4 ? Infinity : bias[N >> 1];
    // The prologue's t: NaN, −0, negatives, +inf and −inf among ordinary values.
    const t = Float32Array.from(r.array(M * K, -2, 2), (v, i) => [NaN, -0, Infinity, -Infinity, 0][i % 11] ?? v);
    for (const act of acts) {
      for (const pro of [null, 'relu_bwd', 'gelu_bwd'] as const) {
        if (pro && act !== 'none' && act !== 'relu') continue;
        const p = { batch: 1, M, N, K, transA: false, transB: false, strideA: M * K, strideB: K * N, act };
        const want = ref.matmul(a, b, bias, { ...p, prologue: pro ? { on: 'a', op: pro, t } : null });
        const scale = ref.matmulScale(a, b, bias, { ...p, prologue: pro ? { on: 'a', op: pro, t } : null });
        for (const be of backends) {
          const got = await runKernel(be, [a, b, bias, t], M * N, ([ha, hb, hbias, ht], out) =>
            be.matmul(ha, hb, hbias, out, { ...p, prologue: pro ? { on: 'a', op: pro, t: ht } : null }));
          const name = `matmul ${act}${pro ? ` ∘ ${pro} prologue` : ''}`;
          // gelu and sigmoid of a very negative product are denormal: WASM's exp gives 0 there.
          got.forEach((v, i) => {
            const pol: Policy = { signedZero: false, atol: 1e-5 * (Number.isFinite(scale[i]) ? scale[i] : 0), flushes: act === 'gelu' || act === 'sigmoid' };
            table.check(name, be, `[${M}x${K}]·[${K}x${N}] #${i}`, v, answers(be, () => want[i], [], pol), pol);
          });
        }
      }
    }
  }
  table.assertClean();
});

test.run();
