// WebGPU matmul tuning: autotune with a tiny budget, then correctness with
// the configs it picked; the persistence API; every small-path config forced
// (the split-K exchange never runs by default on a CPU adapter); every
// register-block config (plain, and shared by a subgroup where the device has
// subgroups of 4) forced on shapes that reach each of their code paths;
// prepare.
// The backend is shared with the other test files, so its tuning and forced
// config are restored afterwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ActGradOp, Activation, MatmulParams } from '../../src/backends/backend.js';
import type { GpuHandle, MatmulConfig, WebGPUBackend } from '../../src/backends/webgpu/backend.js';
import { backends, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/kernels.js';

const r = testRng('webgpu-tuning');
// The helper fails under CI when WebGPU is missing; locally it warns, and this file only notes the skip.
const gpu = backends.find((be) => be.name === 'webgpu') as WebGPUBackend | undefined;

interface Case {
  M: number; N: number; K: number; batch?: number; transA?: boolean; transB?: boolean; broadcastB?: boolean;
  act?: Activation; bias?: boolean; prologue?: { on: 'a' | 'b'; op: ActGradOp }; sumB?: boolean;
}

/** Runs one product on the GPU backend and returns its error against float64 (outputs and column sums). */
async function check(be: WebGPUBackend, c: Case): Promise<{ err: number; where: string }> {
  const batch = c.batch ?? 1, { M, N, K } = c;
  const transA = c.transA ?? false, transB = c.transB ?? false;
  const strideA = M * K, strideB = c.broadcastB ? 0 : K * N;
  const nA = strideA * (batch - 1) + M * K, nB = strideB * (batch - 1) + K * N;
  const a = r.array(nA), b = r.array(nB, -0.5, 1), bias = c.bias ? r.array(N) : null;
  const pro = c.prologue ?? null;
  // Activation-derivative inputs in each derivative's natural range (see matmul.test.ts).
  const tLen = pro?.on === 'a' ? nA : nB;
  const t = pro ? (pro.op === 'sigmoid_bwd' ? r.array(tLen, 0.01, 0.99) : pro.op === 'tanh_bwd' ? r.array(tLen, -0.99, 0.99) : r.array(tLen, -3, 3)) : null;
  const p = { batch, M, N, K, transA, transB, strideA, strideB, act: c.act ?? 'none' } as const;
  const pp = { ...p, prologue: pro && t ? { ...pro, t } : null }, sp = pro?.on === 'b' && t ? { op: pro.op, t } : null;
  const expect = ref.matmul(a, b, bias, pp), scale = ref.matmulScale(a, b, bias, pp);
  const expectSum = c.sumB ? ref.columnSums(b, K, N, sp) : null, sumScale = c.sumB ? ref.columnSumsScale(b, K, N, sp) : null;
  const up = (x: Float32Array) => upload(be, x) as GpuHandle;
  const ha = up(a), hb = up(b), hbias = bias ? up(bias) : null, ht = t ? up(t) : null;
  const out = poisoned(be, batch * M * N) as GpuHandle, hs = c.sumB ? poisoned(be, N) as GpuHandle : null;
  const params: MatmulParams<GpuHandle> = { ...p, prologue: pro && ht ? { ...pro, t: ht } : null, sumB: hs };
  be.matmul(ha, hb, hbias, out, params);
  const got = await be.read(out, batch * M * N);
  const sums = hs ? await be.read(hs, N) : null;
  for (const h of [ha, hb, hbias, ht, out, hs]) if (h) be.free(h);
  const err = Math.max(relErr(got, expect, scale), sums && expectSum ? relErr(sums, expectSum, sumScale!) : 0);
  const where = `${batch}x[${M}x${K}]${transA ? 'ᵀ' : ''}·[${K}x${N}]${transB ? 'ᵀ' : ''}${c.broadcastB ? ' (B broadcast)' : ''}`
    + `${c.bias ? ' +bias' : ''} ${p.act}${pro ? ` ${pro.op} on ${pro.on}` : ''}${c.sumB ? ' +Σ_k B' : ''}`;
  return { err, where };
}

// Shapes of every class (small-output, small-k, skinny, square), with the options the MLP uses.
const SHAPES: Case[] = [
  { M: 128, N: 10, K: 256, bias: true, act: 'relu' },
  { M: 256, N: 10, K: 128, transA: true, prologue: { on: 'b', op: 'relu_bwd' }, sumB: true },
  { M: 128, N: 256, K: 10, transB: true, prologue: { on: 'a', op: 'relu_bwd' } },
  { M: 37, N: 13, K: 300, batch: 2, act: 'gelu', bias: true },
  { M: 3, N: 70, K: 9, batch: 3, broadcastB: true, transA: true, act: 'tanh' },
  { M: 300, N: 6, K: 40, transA: true, transB: true, act: 'sigmoid', bias: true },
  { M: 1, N: 200, K: 50, prologue: { on: 'b', op: 'gelu_bwd' }, sumB: true },
  { M: 70, N: 130, K: 40, prologue: { on: 'b', op: 'tanh_bwd' }, sumB: true, transA: true },
  { M: 96, N: 96, K: 64, prologue: { on: 'a', op: 'sigmoid_bwd' }, transB: true, bias: true },
];

// Shapes for the register-block kernels' vec4 paths (every contiguous dimension a multiple of 4):
// each transpose, K % 4 != 0 with A [K, M] (the vec4 K tail), column counts that end inside the
// second column group, bias/act, prologues and column sums.
const REG_SHAPES: Case[] = [
  { M: 64, N: 48, K: 36, transA: true, bias: true, act: 'relu' },
  { M: 32, N: 44, K: 37, transA: true, prologue: { on: 'b', op: 'relu_bwd' }, sumB: true },
  { M: 40, N: 24, K: 20, transB: true, prologue: { on: 'a', op: 'tanh_bwd' }, bias: true, act: 'sigmoid' },
  { M: 12, N: 20, K: 16, batch: 2, transA: true, transB: true, act: 'gelu', bias: true },
  { M: 36, N: 40, K: 24, transA: true, prologue: { on: 'b', op: 'sigmoid_bwd' }, sumB: true },
  { M: 8, N: 12, K: 8, batch: 3, broadcastB: true, bias: true },
  { M: 5, N: 9, K: 7, transB: true, prologue: { on: 'b', op: 'gelu_bwd' }, act: 'tanh' },
];

async function checkAll(be: WebGPUBackend, what: string, shapes: Case[]) {
  for (const c of shapes) {
    const { err, where } = await check(be, c);
    record(`matmul · webgpu ${what}`, err, where);
    assert.ok(err < 2e-6, `${what} ${where}: relative error ${err}`);
  }
}

/** Runs `fn` with the backend's tuning and forced config restored afterwards. */
async function isolated(be: WebGPUBackend, fn: () => Promise<void>) {
  const tuning = be.getTuning(), forced = be.matmulTiles, prologue = be.matmulPrologue;
  try {
    await fn();
  } finally {
    be.setTuning(tuning);
    be.matmulTiles = forced;
    be.matmulPrologue = prologue;
  }
}

test('autotune with a tiny budget, then matmul is right with the tuned configs', async () => {
  if (!gpu) {
    console.log('  (webgpu-tuning: no WebGPU backend, skipped)');
    return;
  }
  await isolated(gpu, async () => {
    gpu.setTuning(null);
    const wanted = ['matmul/small-output', 'matmul/small-k'];
    const t = await gpu.autotune({ budgetMs: 300, classes: wanted, force: true });
    assert.is(t.adapter, gpu.adapterKey);
    for (const [cls, cfg] of Object.entries(t.configs)) {
      assert.ok(wanted.includes(cls), `tuned an unrequested class ${cls}`);
      const tried = t.timings?.[cls]?.map((x) => JSON.stringify(x.config)) ?? [];
      assert.ok(tried.includes(JSON.stringify(cfg)), `${cls}: picked a config it did not time`);
    }
    console.log(`  (webgpu-tuning: ${t.clock} clock, picked ${JSON.stringify(t.configs)})`);
    await checkAll(gpu, 'tuned', SHAPES);

    // Persistence: a JSON round trip installs the same tuning; another adapter's is refused.
    const saved = JSON.parse(JSON.stringify(gpu.getTuning()));
    assert.ok(gpu.setTuning(null));
    assert.is(gpu.getTuning(), null);
    assert.ok(gpu.setTuning(saved));
    assert.equal(gpu.getTuning(), saved);
    assert.not.ok(gpu.setTuning({ ...saved, adapter: 'another|gpu||' }));
    assert.not.ok(gpu.setTuning({ ...saved, configs: { 'matmul/small-k': { kind: 'split', KS: 3, G: 5 } } }));
    assert.not.ok(gpu.setTuning({ ...saved, configs: { 'small-k': { kind: 'split', KS: 1, G: 64 } } }), 'a key without its family');
    assert.not.ok(gpu.setTuning({ ...saved, version: 2 }), 'an older version');
    assert.equal(gpu.getTuning(), saved);
  });
});

test('every small-path config (split K with and without the exchange) is right, forced on each class', async () => {
  if (!gpu) return;
  await isolated(gpu, async () => {
    // Pipelines with a barrier take 0.3-1 s each to compile on SwiftShader: the configs
    // that share the exchange code get a few shapes each, together covering every option.
    const split: [number, number, number[]][] = [[1, 64, [0, 1, 2, 3, 4, 5, 6, 7, 8]], [4, 16, [1, 3, 5, 6]], [16, 4, [2]], [64, 1, [7]]];
    for (const [KS, G, which] of split) {
      gpu.matmulTiles = { kind: 'split', KS, G };
      await checkAll(gpu, `split ${KS}x${G}`, which.map((i) => SHAPES[i]));
    }
    // The tiled candidates autotune may pick besides the two default tiles.
    for (const cfg of [{ TM: 32, TN: 64, TK: 16, RM: 8 }, { TM: 128, TN: 64, TK: 16, RM: 8 }, { TM: 64, TN: 64, TK: 32, RM: 8 }]) {
      gpu.matmulTiles = { kind: 'tile', ...cfg };
      await checkAll(gpu, `tile ${cfg.TM}x${cfg.TN}x${cfg.TK}`, [SHAPES[7]]);
    }
  });
});

test('every register-block config (plain and subgroup) is right on edges, transposes, epilogue, prologue and sums', async () => {
  if (!gpu) return;
  await isolated(gpu, async () => {
    // The first config of each kind on every shape; the others (pipelines with large blocks take
    // 0.2-0.6 s each to compile on SwiftShader) on the vec4 shapes plus scalar ones with a batch,
    // both transposes, column sums and edges.
    const all = [...SHAPES, ...REG_SHAPES];
    const some = [...REG_SHAPES, SHAPES[3], SHAPES[5], SHAPES[7]];
    const configs: [MatmulConfig, Case[]][] = [
      [{ kind: 'reg', RM: 4, CN: 1, WX: 8, WY: 8 }, all], [{ kind: 'reg', RM: 8, CN: 1, WX: 8, WY: 8 }, some],
      [{ kind: 'reg', RM: 4, CN: 2, WX: 8, WY: 8 }, some], [{ kind: 'reg', RM: 8, CN: 2, WX: 4, WY: 4 }, some],
    ];
    // The subgroup kernel assumes subgroups of exactly 4 (SwiftShader); elsewhere the backend never picks it.
    if (gpu.subgroups4) {
      // Blocks adapt to thin outputs (fitBlock): these shapes reach every row- and column-group count.
      configs.push(
        [{ kind: 'sg', RM: 16, CN: 4, SX: 1, SY: 2 }, all], [{ kind: 'sg', RM: 32, CN: 1, SX: 1, SY: 2 }, some],
        [{ kind: 'sg', RM: 8, CN: 1, SX: 4, SY: 4 }, some], [{ kind: 'sg', RM: 4, CN: 2, SX: 2, SY: 2 }, some],
      );
    } else {
      console.log('  (webgpu-tuning: no subgroups of 4 on this device, subgroup matmul skipped)');
    }
    for (const [cfg, shapes] of configs) {
      gpu.matmulTiles = cfg;
      const name = cfg.kind === 'reg' ? `reg ${cfg.RM}x${4 * cfg.CN} ${cfg.WX}x${cfg.WY}`
        : cfg.kind === 'sg' ? `sg ${cfg.RM}x${16 * cfg.CN} ${cfg.SX}x${cfg.SY}` : cfg.kind;
      // The backend always fuses a prologue it is given (linear() decides on a separate pass),
      // so this covers the fused prologue path of every config too.
      await checkAll(gpu, name, shapes);
    }
  });
});

test('prepare compiles the pipelines a product then uses', async () => {
  if (!gpu) return;
  const shapes = [
    { M: 128, N: 10, K: 256, bias: true, act: 'sigmoid' as const },
    { M: 256, N: 10, K: 128, transA: true, prologue: { on: 'b' as const, op: 'sigmoid_bwd' as const }, sumB: true },
    { M: 128, N: 256, K: 10, transB: true, prologue: { on: 'a' as const, op: 'sigmoid_bwd' as const } },
  ];
  // The backend compiles exactly the products it is given (linear's plan decides on passes: api.test.ts).
  await gpu.prepare({ matmul: shapes });
  const before = gpu.stats.pipelines;
  await checkAll(gpu, 'prepared', shapes.map((s) => ({ ...s, bias: s.bias ?? false })));
  assert.is(gpu.stats.pipelines, before, 'a prepared product compiled a pipeline on first use');
});

test.run();
