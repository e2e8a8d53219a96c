import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ACTIVATIONS, type Activation, type MatmulParams } from '../../src/backends/backend.js';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/kernels.js';

const r = testRng('matmul');
// 1, primes, powers of two and their neighbours: non-multiples of every tile size.
// Errors are measured against |A|·|B| + |bias| through the activation (ref.matmulScale):
// what float32 products are accurate to, and ~√K times ‖C‖ for zero-mean data. 2e-6 is
// ~25× the worst seen; a wrong tile or index gives errors of order 1.
const TOL = 2e-6;
const DIMS = [1, 2, 3, 4, 5, 7, 8, 11, 13, 16, 17, 31, 32, 33, 47, 63, 64, 65, 97, 127, 128, 129];
const ACTS = Object.keys(ACTIVATIONS) as Activation[];

function makeCases(): MatmulParams<never>[] {
  const cases: MatmulParams<never>[] = [];
  const fixed: [number, number, number][] = [[1, 1, 1], [1, 7, 1], [7, 1, 1], [1, 1, 300], [3, 5, 7], [64, 64, 64],
    [65, 63, 17], [128, 128, 128], [129, 127, 131], [2, 257, 3], [257, 2, 5], [1, 130, 260], [200, 1, 33]];
  for (const [M, N, K] of fixed) cases.push({ batch: 1, M, N, K, transA: false, transB: false, strideA: M * K, strideB: K * N, act: 'none' });
  for (let i = 0; cases.length < 64; i++) {
    const M = r.pick(DIMS), N = r.pick(DIMS), K = r.pick(DIMS);
    const batch = r.pick([1, 1, 1, 2, 3]);
    const broadcastB = batch > 1 && r.next() < 0.4;
    cases.push({
      batch, M, N, K, transA: (i & 1) === 1, transB: (i & 2) === 2,
      strideA: M * K, strideB: broadcastB ? 0 : K * N, act: ACTS[i % ACTS.length],
    });
  }
  return cases;
}

test('matmul (batched, transposes, fused bias + activation) matches float64 on 64 shapes', async () => {
  const cases = makeCases();
  for (const p of cases) {
    const withBias = r.next() < 0.6;
    // An output whose K products nearly cancel is fine: errors are measured against matmulScale.
    const a = r.array(p.strideA * (p.batch - 1) + p.M * p.K);
    const b = r.array(p.strideB * (p.batch - 1) + p.K * p.N, -0.5, 1);
    const bias = withBias ? r.array(p.N) : null;
    const expect = ref.matmul(a, b, bias, p), scale = ref.matmulScale(a, b, bias, p);
    const where = `${p.batch}x[${p.M}x${p.K}]${p.transA ? 'ᵀ' : ''}·[${p.K}x${p.N}]${p.transB ? 'ᵀ' : ''}${p.strideB === 0 ? ' (B broadcast)' : ''}${withBias ? ' +bias' : ''} ${p.act}`;
    const outs: Float32Array[] = [];
    for (const be of backends) {
      const ha = upload(be, a), hb = upload(be, b), hbias = bias ? upload(be, bias) : null;
      const out = poisoned(be, p.batch * p.M * p.N);
      be.matmul(ha, hb, hbias, out, p);
      const got = await be.read(out, p.batch * p.M * p.N);
      for (const h of [ha, hb, hbias, out]) if (h) be.free(h);
      const err = relErr(got, expect, scale);
      record(`matmul · ${label(be)}`, err, where);
      assert.ok(err < TOL, `${label(be)} ${where}: relative error ${err}`);
      outs.push(got);
    }
    agree(outs, where, TOL, scale);
  }
});

test('matmul with an activation-derivative prologue on A or B, and column sums of B, on 56 shapes', async () => {
  const ops = ['relu_bwd', 'gelu_bwd', 'tanh_bwd', 'sigmoid_bwd'] as const;
  for (let i = 0; i < 56; i++) {
    const M = i === 0 ? 1 : r.pick(DIMS), N = i === 1 ? 1 : r.pick(DIMS), K = i === 2 ? 1 : r.pick(DIMS);
    const on = i % 2 === 0 ? 'a' : 'b';
    const op = ops[(i >> 1) % ops.length];
    // The shapes of the layer backward: dX = dZ·Wᵀ (prologue on A, B transposed) and
    // dW = Xᵀ·dZ (prologue on B, A transposed, with the bias gradient as column sums of dZ).
    const transA = on === 'b' ? r.next() < 0.7 : r.next() < 0.3, transB = on === 'a' ? r.next() < 0.7 : false;
    const withSum = on === 'b' && r.next() < 0.8;
    const a = r.array(M * K), b = r.array(K * N, -1, 1);
    // t: a layer output for relu/tanh/sigmoid (tanh/sigmoid outputs lie in (-1, 1) / (0, 1)), a pre-activation for gelu.
    const t = op === 'sigmoid_bwd' ? r.array(on === 'a' ? M * K : K * N, 0.01, 0.99) : op === 'tanh_bwd' ? r.array(on === 'a' ? M * K : K * N, -0.99, 0.99) : r.array(on === 'a' ? M * K : K * N, -3, 3);
    const ref1 = { batch: 1, M, N, K, transA, transB, strideA: 0, strideB: 0, act: 'none', prologue: { on, op, t } } as const;
    const expect = ref.matmul(a, b, null, ref1), scale = ref.matmulScale(a, b, null, ref1);
    // Column sums of op(B) over k, in B's stored [K, N] layout (transB is false whenever sums are asked for).
    const expectSum = withSum ? ref.columnSums(b, K, N, { op, t }) : null;
    const sumScale = withSum ? ref.columnSumsScale(b, K, N, { op, t }) : null;
    const where = `[${M}x${K}]${transA ? 'ᵀ' : ''}·[${K}x${N}]${transB ? 'ᵀ' : ''} ${op} on ${on}${withSum ? ' +Σ_k B' : ''}`;
    const outs: Float32Array[] = [];
    for (const be of backends) {
      const ha = upload(be, a), hb = upload(be, b), ht = upload(be, t), out = poisoned(be, M * N);
      const hs = withSum ? poisoned(be, N) : null;
      be.matmul(ha, hb, null, out, { ...ref1, act: 'none', prologue: { on, op, t: ht }, sumB: hs });
      const got = await be.read(out, M * N);
      const sums = hs ? await be.read(hs, N) : null;
      for (const h of [ha, hb, ht, out, hs]) if (h) be.free(h);
      const err = Math.max(relErr(got, expect, scale), sums ? relErr(sums, expectSum!, sumScale!) : 0);
      record(`matmul prologue · ${label(be)}`, err, where);
      assert.ok(err < TOL, `${label(be)} ${where}: relative error ${err}`);
      outs.push(got);
    }
    agree(outs, where, TOL, scale);
  }
});

test('WebGPU matmul is right with each tile size forced (auto picks by shape)', async () => {
  const gpu = backends.find((be) => be.name === 'webgpu') as (typeof backends[number] & { matmulTiles: string }) | undefined;
  if (!gpu) return; // no adapter: reported loudly by the helper, a failure under CI
  const shapes: [number, number, number, boolean, boolean][] = [[1, 1, 1, false, false], [5, 7, 3, true, false], [33, 65, 17, false, true],
    [64, 64, 64, false, false], [129, 67, 31, true, true], [70, 130, 40, false, false], [8, 8, 300, false, true], [100, 4, 36, true, false]];
  for (const tiles of ['small', 'large']) {
    gpu.matmulTiles = tiles;
    try {
      for (const [M, N, K, transA, transB] of shapes) {
        const p: MatmulParams<never> = { batch: 1, M, N, K, transA, transB, strideA: 0, strideB: 0, act: "relu" };
        const a = r.array(M * K), b = r.array(K * N, -0.5, 1), bias = r.array(N);
        const ha = upload(gpu, a), hb = upload(gpu, b), hbias = upload(gpu, bias), out = poisoned(gpu, M * N);
        gpu.matmul(ha, hb, hbias, out, p);
        const got = await gpu.read(out, M * N);
        for (const h of [ha, hb, hbias, out]) gpu.free(h);
        const err = relErr(got, ref.matmul(a, b, bias, p), ref.matmulScale(a, b, bias, p));
        record(`matmul · webgpu ${tiles} tiles`, err, `[${M}x${K}]·[${K}x${N}] ${transA}/${transB}`);
        assert.ok(err < TOL, `${tiles} tiles [${M}x${K}]·[${K}x${N}]: ${err}`);
      }
    } finally {
      gpu.matmulTiles = 'auto';
    }
  }
});

test.run();
