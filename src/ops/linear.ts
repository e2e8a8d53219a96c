// The fused layer act(x·W + b), and its plan: which products (and which
// elementwise passes) a forward and backward run. linearPlan is the one
// owner of that schedule: linear() executes it, nn.Linear.prepare hands the
// same plan's kernels to Backend.prepare.
import { isGradEnabled, record } from '../autograd.js';
import {
  ACTIVATIONS, type ActGradOp, type Activation, type Backend, type MatmulShape, type PrepareWork,
} from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { describe } from '../options.js';
import { sizeOf } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { binaryRaw, unaryRaw } from './elementwise.js';
import { gemm } from './matmul.js';
import { reduceSumRows } from './reduce.js';
import { deviceOf } from './util.js';

/** The binary op that multiplies a gradient by each activation's derivative. */
export const ACT_BWD: Record<Exclude<Activation, 'none'>, ActGradOp> = {
  relu: 'relu_bwd', gelu: 'gelu_bwd', tanh: 'tanh_bwd', sigmoid: 'sigmoid_bwd',
};

/** Which of x, w, b get a gradient. All false: inference. */
export interface LinearNeeds { x: boolean; w: boolean; b: boolean }

/** The steps of one linear layer on M rows of K features into N. */
export interface LinearPlan {
  /** Z = x·W + b, with the activation fused unless `postAct` applies it. */
  forward: MatmulShape;
  /** gelu as its own pass: its derivative needs the pre-activation, which the fused kernel does not keep. */
  postAct: 'gelu' | null;
  /** dZ = g ⊙ act'(·) formed as its own elementwise pass; null: the products read g through their prologue (or act is 'none'). */
  dzPass: ActGradOp | null;
  /** dX = dZ·Wᵀ. */
  dx: MatmulShape | null;
  /** dW = Xᵀ·dZ, with Σ_rows dZ (the bias gradient) as a by-product where `db` is 'sumB'. */
  dw: MatmulShape | null;
  /** Where the bias gradient comes from: the dW product, a row sum of dZ, or nowhere. */
  db: 'sumB' | 'rows' | null;
}

/**
 * The schedule of `act(x·W + b)` and its gradient on `be`. dZ = g ⊙ act'(·)
 * is normally never materialised: both gradient products read g through the
 * activation-derivative prologue and the dW product sums dZ's columns on the
 * way. It is formed once where the backend states that re-reading it costs
 * more (K output extents beyond fusedPrologueMaxReads) or where only the
 * bias needs it.
 */
export function linearPlan(be: Backend, M: number, K: number, N: number, act: Activation, bias: boolean, needs: LinearNeeds): LinearPlan {
  const grad = needs.x || needs.w || needs.b;
  const postAct = grad && act === 'gelu' ? 'gelu' : null;
  const op = act === 'none' ? null : ACT_BWD[act];
  const dzPass = op && ((!needs.w && needs.b) || ((needs.x || needs.w) && K > be.fusedPrologueMaxReads)) ? op : null;
  const pro = dzPass ? null : op;
  return {
    forward: { M, N, K, bias, act: postAct ? 'none' : act },
    postAct,
    dzPass,
    dx: needs.x ? { M, N: K, K: N, transB: true, prologue: pro && { on: 'a', op: pro } } : null,
    dw: needs.w ? { M: K, N, K: M, transA: true, prologue: pro && { on: 'b', op: pro }, sumB: needs.b } : null,
    db: !needs.b ? null : needs.w ? 'sumB' : 'rows',
  };
}

/**
 * What a training step of a layer on `batch` rows runs (the forward, dX unless
 * `needDx` is false, dW and the bias sums), plus the inference forward, for
 * Backend.prepare.
 */
export function linearWork(be: Backend, batch: number, K: number, N: number, act: Activation, bias: boolean, needDx: boolean): PrepareWork {
  const train = linearPlan(be, batch, K, N, act, bias, { x: needDx, w: true, b: bias });
  const infer = linearPlan(be, batch, K, N, act, bias, { x: false, w: false, b: false });
  const n = batch * N;
  return {
    matmul: [train.forward, infer.forward, train.dx, train.dw].filter((s): s is MatmulShape => s !== null),
    unary: train.postAct ? [{ op: train.postAct, n }] : [],
    binary: train.dzPass ? [{ op: train.dzPass, n }] : [],
  };
}

/**
 * `act(x·w + b)` in one kernel: x [..., in], w [in, out], b [out] or null.
 * The layer layout is [in, out] (as Keras and Flax), so the forward product
 * needs no transpose.
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null, act: Activation = 'none'): Tensor {
  deviceOf('linear', b ? { x, w, b } : { x, w });
  if (typeof act !== 'string' || !Object.hasOwn(ACTIVATIONS, act)) fail('linear', `argument 'act' must be one of ${Object.keys(ACTIVATIONS).map((a) => `'${a}'`).join(', ')}, got ${describe(act)}`);
  if (w.rank !== 2) fail('linear', `argument 'w' must be 2-D [in, out], got ${fmtShape(w.shape)}`);
  const [K, N] = w.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== K) fail('linear', `argument 'x' has shape ${fmtShape(x.shape)}; needs [..., ${K}] to match w ${fmtShape(w.shape)}`);
  if (b && (b.rank !== 1 || b.shape[0] !== N)) fail('linear', `argument 'b' has shape ${fmtShape(b.shape)}; needs [${N}] to match w ${fmtShape(w.shape)}`);
  const M = sizeOf(x.shape.slice(0, -1)); // rows, also when K = 0
  const outShape = [...x.shape.slice(0, -1), N];
  const on = isGradEnabled();
  const needs = { x: on && x.requiresGrad, w: on && w.requiresGrad, b: on && !!b?.requiresGrad };
  const plan = linearPlan(w.backend, M, K, N, act, !!b, needs);
  const shapeX = x.shape, shapeW = w.shape, hasBias = !!b;
  // The unfused pre-activation and the product's 3-D result die with this scope; the graph keeps what it reads.
  return scope(() => {
    const z = gemm(x, w, plan.forward, { bias: b }).view(outShape);
    const y = plan.postAct ? unaryRaw(plan.postAct, z) : z;
    // The derivative of relu, tanh and sigmoid reads the output; gelu's the pre-activation.
    const t = act === 'none' ? null : plan.postAct ? z : y;
    const inputs = b ? [x, w, b] : [x, w];
    return record('linear', y, inputs, [needs.w ? x : null, needs.x ? w : null, t], (g, [x, w, t]) => {
      const dz = plan.dzPass ? binaryRaw(plan.dzPass, t!, g) : g;
      const pro = plan.dzPass ? null : t;
      const gb = plan.db === 'sumB' ? empty(g.backend, [N], 'linear') : plan.db === 'rows' ? reduceSumRows(dz.view([M, N])) : null;
      const gx = plan.dx && gemm(dz, w!, plan.dx, { t: pro }).view(shapeX);
      const gw = plan.dw && gemm(x!, dz, plan.dw, { t: pro, sumB: gb }).view(shapeW);
      return hasBias ? [gx, gw, gb] : [gx, gw];
    });
  });
}
