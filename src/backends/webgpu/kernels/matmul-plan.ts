// Which matmul kernel a product runs with: the shape class, the kernel
// configuration for that class (the heuristic default, or what autotune
// measured best on this adapter), and the resulting pipeline key, workgroup
// count and parameters. matmul(), prepare() and autotune all plan here,
// so a prepared or tuned pipeline is exactly the one a call will use.
// `matmulTunable` is the family's entry in the autotune (tuning.ts).
import { ACTIVATIONS } from '../../primitives/activation.js';
import { BINARY_OPS } from '../../primitives/elementwise.js';
import { MatmulDims, type MatmulShape } from '../../primitives/matmul.js';
import type { Kernel } from '../pipelines.js';
import { params, WHO, type Params } from '../runtime.js';
import type { DeviceKind, TunableFamily } from '../tuning.js';

/** Workgroup tiles (matmul.wgsl): TM×TN outputs, K steps of TK, RM rows per invocation. */
export interface TileConfig { kind: 'tile'; TM: number; TN: number; TK: number; RM: number }
/** 4×4 output blocks, KS invocations splitting K per block, G blocks per workgroup (matmul-small.wgsl). */
export interface SplitConfig { kind: 'split'; KS: number; G: number }
/**
 * Register blocks without workgroup memory (matmul-register.wgsl): RM×(4·CN)
 * outputs per invocation, WX×WY invocations per workgroup.
 */
export interface RegConfig { kind: 'reg'; RM: number; CN: number; WX: number; WY: number }
/**
 * Register blocks shared by the 4 lanes of a subgroup (matmul-subgroup.wgsl, CPU
 * adapters with subgroups of 4): RM×(16·CN) outputs per subgroup (RM 4, 8,
 * 16 or 32; CN 1, 2 or 4), SX×SY subgroups per workgroup.
 */
export interface SgConfig { kind: 'sg'; RM: number; CN: number; SX: number; SY: number }
export type MatmulConfig = TileConfig | SplitConfig | RegConfig | SgConfig;

export const TILE_LARGE: TileConfig = { kind: 'tile', TM: 64, TN: 64, TK: 16, RM: 8 };
export const TILE_SMALL: TileConfig = { kind: 'tile', TM: 32, TN: 32, TK: 16, RM: 4 };

/**
 * Shape classes, each tuned separately:
 * - `small-k`: K ≤ 16, where workgroup tiles are loaded for one short step;
 * - `small-output`: at most 4096 outputs (an MLP's last layer and its weight gradient);
 * - `skinny`: M or N at most 16 with more outputs than that (tall-skinny, gemv);
 * - `square-small` / `square-large`: the rest, split by whether large tiles fill the device.
 */
export const CLASSES = ['small-output', 'small-k', 'square-large', 'skinny', 'square-small'] as const;
export type ShapeClass = typeof CLASSES[number];

const SMALL_K = 16, SMALL_OUTPUT = 4096, THIN = 16;
/**
 * Large tiles once there are this many of them. A CPU (fallback) adapter runs
 * few workgroups at a time and pays per invocation and per barrier, so it
 * prefers large tiles much earlier (about 1.4x faster from 128³ on SwiftShader).
 */
const LARGE_FROM = { gpu: 64, cpu: 4 };

export function classify(M: number, N: number, K: number, batch: number, cpu: boolean): ShapeClass {
  if (K <= SMALL_K) return 'small-k';
  if (M * N * batch <= SMALL_OUTPUT) return 'small-output';
  if (Math.min(M, N) <= THIN) return 'skinny';
  const large = Math.ceil(M / TILE_LARGE.TM) * Math.ceil(N / TILE_LARGE.TN) * batch;
  return large >= (cpu ? LARGE_FROM.cpu : LARGE_FROM.gpu) ? 'square-large' : 'square-small';
}

const split = (KS: number, G: number): SplitConfig => ({ kind: 'split', KS, G });
const TILE_64_K32: TileConfig = { kind: 'tile', TM: 64, TN: 64, TK: 32, RM: 8 };
const TILE_128x64: TileConfig = { kind: 'tile', TM: 128, TN: 64, TK: 16, RM: 8 };
const TILE_32x64: TileConfig = { kind: 'tile', TM: 32, TN: 64, TK: 16, RM: 8 };

const reg = (RM: number, CN: number, WX = 8, WY = 8): RegConfig => ({ kind: 'reg', RM, CN, WX, WY });
const sg = (RM: number, CN: number, SX: number, SY: number): SgConfig => ({ kind: 'sg', RM, CN, SX, SY });

/**
 * The untuned choice per class. A GPU keeps workgroup-memory tiles, and
 * splits K across invocations where the output alone gives too little
 * parallelism. A CPU adapter (SwiftShader) pays dearly for each barrier and
 * for every load with a computed index (4 scalar loads per value), so there
 * register blocks without barriers win: shared by the 4 lanes of a subgroup
 * where the device has subgroups of 4 (they load each value of A once per
 * subgroup), else one block per invocation. On SwiftShader 16×64 subgroup
 * blocks ran 256³-1024³ and the MLP's products 2.5-4x faster than the tiles,
 * per-invocation blocks about 2x.
 */
export function defaultConfig(cls: ShapeClass, kind: DeviceKind): MatmulConfig {
  if (kind.cpu && kind.subgroups4) {
    // Square products: large blocks, the fewest loads per multiply-add. Thin and small ones:
    // 8×16 blocks, within about 20% there and 8x quicker to compile (0.06 s, against 0.5 s).
    // planMatmul shrinks both to thin outputs.
    return cls === 'square-large' || cls === 'square-small' ? sg(16, 4, 1, 2) : sg(8, 1, 4, 4);
  }
  if (kind.cpu) {
    switch (cls) {
      case 'small-k': case 'small-output': case 'skinny': return split(1, 64);
      case 'square-small': return reg(4, 1);
      case 'square-large': return reg(4, 2);
    }
  }
  switch (cls) {
    case 'small-k': return split(1, 64);
    case 'small-output': return split(16, 4);
    case 'skinny': return split(4, 16);
    case 'square-small': return TILE_SMALL;
    case 'square-large': return TILE_LARGE;
  }
}

/**
 * What autotune tries per class, the default first: a few sensible points,
 * each one more pipeline to compile (on SwiftShader 0.3-1.3 s each with
 * barriers, so a CPU adapter skips the barrier-heavy ones it never wins with).
 */
export function candidates(cls: ShapeClass, kind: DeviceKind): MatmulConfig[] {
  const first = defaultConfig(cls, kind);
  const rest = ((): MatmulConfig[] => {
    if (kind.cpu) {
      // Subgroup blocks where the device has them, then the plain register blocks and the split path.
      // Subgroup blocks compile in 0.06 s (8×16) to 0.5 s (16×64) and 2 s (32×64, about 15%
      // faster on large squares) per pipeline variant on SwiftShader.
      const sub = kind.subgroups4;
      switch (cls) {
        case 'small-k': return sub ? [sg(16, 4, 1, 2), split(1, 64)] : [reg(4, 1), split(1, 16)];
        case 'small-output': return sub ? [sg(16, 4, 1, 2), sg(4, 1, 1, 4), split(1, 64)] : [split(1, 16), reg(4, 1, 4, 4), split(4, 16)];
        case 'skinny': return sub ? [sg(16, 4, 1, 2), split(1, 64)] : [split(1, 16), reg(4, 1)];
        case 'square-small': return sub ? [sg(16, 4, 1, 1), sg(8, 1, 4, 4)] : [reg(4, 2), reg(8, 1), TILE_SMALL];
        case 'square-large': return sub ? [sg(32, 4, 1, 2), sg(16, 4, 2, 2), sg(8, 1, 4, 4)] : [reg(4, 1), reg(8, 1), TILE_LARGE];
      }
    }
    switch (cls) {
      case 'small-k': return [split(1, 256), split(2, 32), TILE_SMALL, TILE_LARGE];
      case 'small-output': return [split(4, 16), split(64, 1), split(1, 64)];
      case 'skinny': return [split(1, 64), split(16, 4), TILE_SMALL];
      case 'square-small': return [TILE_32x64, TILE_LARGE, reg(4, 2)];
      case 'square-large': return [TILE_64_K32, TILE_128x64, TILE_32x64];
    }
  })();
  return [first, ...rest.filter((c) => JSON.stringify(c) !== JSON.stringify(first))];
}

/**
 * A subgroup block (RM rows × 16·CN columns) no larger than the output where
 * it can shrink, the registers freed going to the other dimension: a gemv
 * (M = 1) gets 4 × 64 blocks instead of 16 × 64 ones of which 15 rows would
 * be clamped copies, a product with 10 columns 16 × 16 instead of 16 × 64.
 */
export function fitBlock(rm: number, cn: number, M: number, N: number): [number, number] {
  let r = rm, c = cn;
  while (r > 4 && r / 2 >= M) {
    r /= 2;
    if (c < 4 && 16 * c < N) c *= 2;
  }
  while (c > 1 && 8 * c >= N) {
    c /= 2;
    if (r < 16 && r < M) r *= 2;
  }
  return [r, c];
}

/**
 * The x × y grid of blocks in a workgroup, shrunk along an axis where the
 * output has fewer blocks (nx, ny): a gemv (M = 1) then gets one row of
 * blocks instead of a square of which all but one row would compute clamped
 * copies (3-5x slower on SwiftShader). Smaller workgroups, not fuller ones:
 * small outputs keep several workgroups for the cores.
 */
export function fitGrid(x: number, y: number, nx: number, ny: number): [number, number] {
  const p2 = (v: number) => 2 ** Math.ceil(Math.log2(Math.max(1, v)));
  return [Math.min(x, p2(nx)), Math.min(y, p2(ny))];
}

export interface MatmulPlan {
  cls: ShapeClass;
  kernel: Kernel;
  groups: number;
  params: Params;
}

/** The kernel, workgroup count and parameters `s` runs with under `config` (the class's choice when omitted). */
export function planMatmul(s: MatmulShape, pick: (cls: ShapeClass) => MatmulConfig, cpu: boolean): MatmulPlan {
  const { M, N, K } = s;
  const batch = s.batch ?? 1;
  const transA = s.transA ?? false, transB = s.transB ?? false;
  const strideA = s.strideA ?? M * K, strideB = s.strideB ?? K * N;
  const act = ACTIVATIONS[s.act ?? 'none'];
  if (act === undefined) throw new Error(`${WHO}: unknown activation ${s.act}`);
  const pro = s.prologue ? BINARY_OPS[s.prologue.op] : 0;
  if (s.prologue && !(pro >= BINARY_OPS.relu_bwd && pro <= BINARY_OPS.sigmoid_bwd)) {
    throw new Error(`${WHO}: matmul prologue must be an activation derivative, got ${s.prologue.op}`);
  }
  const cls = classify(M, N, K, batch, cpu);
  let cfg = pick(cls);
  // A subgroup block is at least 16 columns wide: a product with a handful of
  // columns wastes most of it, where the split path's 4×4 blocks do not (2x faster at N = 1).
  if (cfg.kind === 'sg' && N <= 4) cfg = split(1, 64);
  const common = {
    TRANS_A: transA, TRANS_B: transB, HAS_BIAS: s.bias ?? false, ACT: act,
    PRO_A: s.prologue?.on === 'a' ? pro : 0, PRO_B: s.prologue?.on === 'b' ? pro : 0, SUM_B: s.sumB ?? false,
  };
  if (cfg.kind === 'split') {
    const bn = Math.ceil(N / 4), bm = Math.ceil(M / 4);
    return {
      cls,
      kernel: { file: 'matmulSmall', entry: 'matmul_small', constants: { KS: cfg.KS, G: cfg.G, ...common } },
      groups: Math.ceil((bn * bm * batch) / cfg.G),
      params: params(MatmulDims, { M, N, K, batch, strideA, strideB, tilesN: bn, tilesM: bm }),
    };
  }
  const aRow = transA ? M : K, bRow = transB ? K : N;
  const vec4 = aRow % 4 === 0 && bRow % 4 === 0 && N % 4 === 0 && strideA % 4 === 0 && strideB % 4 === 0;
  if (cfg.kind === 'sg') {
    const [RM, CN] = fitBlock(cfg.RM, cfg.CN, M, N);
    const [SX, SY] = fitGrid(cfg.SX, cfg.SY, Math.ceil(N / (16 * CN)), Math.ceil(M / RM));
    const tn = Math.ceil(N / (SX * 16 * CN)), tm = Math.ceil(M / (SY * RM));
    return {
      cls,
      kernel: { file: 'matmulSubgroup', entry: vec4 ? 'matmul_sg_vec4' : 'matmul_sg_scalar', constants: { RM, CN, SX, SY, ...common } },
      groups: tn * tm * batch,
      params: params(MatmulDims, { M, N, K, batch, strideA, strideB, tilesN: tn, tilesM: tm }),
    };
  }
  if (cfg.kind === 'reg') {
    const [WX, WY] = fitGrid(cfg.WX, cfg.WY, Math.ceil(N / (4 * cfg.CN)), Math.ceil(M / cfg.RM));
    const tn = Math.ceil(N / (WX * 4 * cfg.CN)), tm = Math.ceil(M / (WY * cfg.RM));
    return {
      cls,
      kernel: {
        file: 'matmulRegister', entry: vec4 ? 'matmul_reg_vec4' : 'matmul_reg_scalar',
        constants: { RM: cfg.RM, CN: cfg.CN, WX, WY, ...common },
      },
      groups: tn * tm * batch,
      params: params(MatmulDims, { M, N, K, batch, strideA, strideB, tilesN: tn, tilesM: tm }),
    };
  }
  const tn = Math.ceil(N / cfg.TN), tm = Math.ceil(M / cfg.TM);
  return {
    cls,
    kernel: {
      file: 'matmul', entry: vec4 ? 'matmul_vec4' : 'matmul_scalar',
      constants: { TM: cfg.TM, TN: cfg.TN, TK: cfg.TK, RM: cfg.RM, ...common },
    },
    groups: tn * tm * batch,
    params: params(MatmulDims, { M, N, K, batch, strideA, strideB, tilesN: tn, tilesM: tm }),
  };
}

/** Checks a config read back from storage (setTuning): only shapes the kernels support. */
export function validConfig(c: unknown): c is MatmulConfig {
  const o = c as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') return false;
  const pow2 = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi && (v & (v - 1)) === 0;
  if (o.kind === 'split') {
    // KS > 1 exchanges 20 f32 per invocation through workgroup memory (16 KiB is the default limit).
    return pow2(o.KS, 1, 256) && pow2(o.G, 1, 256) && (o.KS as number) * (o.G as number) <= (o.KS === 1 ? 256 : 128);
  }
  if (o.kind === 'sg') {
    const { RM, CN, SX, SY } = o as Record<string, number>;
    return (RM === 4 || RM === 8 || RM === 16 || RM === 32) && (CN === 1 || CN === 2 || CN === 4) && pow2(SX, 1, 64) && pow2(SY, 1, 64) && SX * SY <= 64;
  }
  if (o.kind === 'reg') {
    const { RM, CN, WX, WY } = o as Record<string, number>;
    return (RM === 4 || RM === 8) && (CN === 1 || CN === 2) && pow2(WX, 1, 256) && pow2(WY, 1, 256) && WX * WY <= 256;
  }
  if (o.kind !== 'tile') return false;
  const { TM, TN, TK, RM } = o as Record<string, number>;
  return pow2(TM, 8, 128) && pow2(TN, 8, 128) && pow2(TK, 4, 64) && (RM === 4 || RM === 8) && TM % RM === 0
    && (TN / 4) * (TM / RM) <= 256 && (TK * (TM + TN)) * 4 <= 16384;
}

/**
 * Representative products per class: the MLP layer shapes where they apply;
 * smaller ones on a CPU adapter, where a large product takes 100s of ms.
 */
function representative(cls: ShapeClass, cpu: boolean): MatmulShape {
  switch (cls) {
    case 'small-output': return { M: 128, N: 10, K: 256 };
    case 'small-k': return cpu ? { M: 128, N: 256, K: 10, transB: true } : { M: 1024, N: 512, K: 16 };
    case 'skinny': return cpu ? { M: 1024, N: 10, K: 256 } : { M: 8192, N: 10, K: 512 };
    case 'square-small': return cpu ? { M: 64, N: 128, K: 256 } : { M: 256, N: 256, K: 256 };
    case 'square-large': return cpu ? { M: 256, N: 256, K: 256 } : { M: 1024, N: 1024, K: 1024 };
  }
}

/** The matmul family's part in the autotune (tuning.ts). */
export const matmulTunable: TunableFamily<MatmulShape, MatmulConfig> = {
  name: 'matmul',
  classes: CLASSES,
  classify: (s, kind) => classify(s.M, s.N, s.K, s.batch ?? 1, kind.cpu),
  defaultConfig: (cls, kind) => defaultConfig(cls as ShapeClass, kind),
  candidates: (cls, kind) => candidates(cls as ShapeClass, kind),
  // A saved subgroup config on a device made without subgroups (e.g. one passed in) cannot run there.
  valid: (c, kind): c is MatmulConfig => validConfig(c) && (c.kind !== 'sg' || kind.subgroups4),
  representative: (cls, kind) => representative(cls as ShapeClass, kind.cpu),
  plan: (s, c, kind) => planMatmul(s, () => c, kind.cpu),
  // A, B, bias (unused), C, the prologue's t (unused), the column sums (unused).
  bindings: (s) => [{ in: s.M * s.K }, { in: s.K * s.N }, 'unused', { out: s.M * s.N }, 'unused', 'unusedOut'],
};
