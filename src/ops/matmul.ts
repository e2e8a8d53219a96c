// matmul (numpy semantics: 1-D operands, broadcast batch dimensions) and the
// fused `linear`: act(x·W + b) in one kernel. Both gradients are matmuls with
// transpose flags, never explicit transposes.
import { isGradEnabled, record } from '../autograd.js';
import { ACTIVATIONS, type ActGradOp, type Activation, type MatmulShape } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { broadcast, sizeOf } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { binaryRaw, unaryRaw } from './elementwise.js';
import { reduceSumRows, sumTo } from './reduce.js';
import { expandRaw } from './shape.js';
import { deviceOf } from './util.js';

interface Gemm {
  transA: boolean;
  transB: boolean;
  act?: Activation;
  bias?: Tensor | null;
  /** Read operand `on` as op(t, operand): an activation derivative folded into the product. */
  prologue?: { on: 'a' | 'b'; op: ActGradOp; t: Tensor } | null;
  /** Also write Σ_k op(B)[k, :] here (the bias gradient). */
  sumB?: Tensor | null;
}

/**
 * C[z] = act(op(A[z])·op(B[z]) + bias) on 3-D operands [batchA, ., .]
 * and [batchB, ., .] where each batch is 1 (broadcast) or `batch`.
 */
function gemm(a: Tensor, b: Tensor, batch: number, M: number, N: number, K: number, o: Gemm): Tensor {
  const be = a.backend;
  const out = empty(be, [batch, M, N]);
  if (K === 0) {
    // An empty sum: every row is act(0 + bias), and Σ_k op(B) is 0.
    if (out.size > 0) be.fill(out.handle('matmul', 'out'), out.size, 0);
    if (o.sumB && o.sumB.size > 0) be.fill(o.sumB.handle('matmul', 'sumB'), o.sumB.size, 0);
    const act = o.act ?? 'none';
    if (out.size === 0 || (!o.bias && act === 'none')) return out;
    const z = o.bias ? binaryRaw('add', out, o.bias, 'matmul') : out;
    const y = act === 'none' ? z : unaryRaw(act, z);
    if (z !== out) out.dispose();
    if (y !== z) z.dispose();
    return y;
  }
  if (out.size === 0) {
    // No outputs (M = 0), but Σ_k op(B) — the bias gradient — is still defined.
    if (o.sumB && N > 0) {
      const pro = o.prologue?.on === 'b' ? o.prologue : null;
      const src = pro ? empty(be, [K * N]) : b;
      if (pro) be.binary(pro.op, pro.t.handle('matmul', 'prologue'), b.handle('matmul', 'b'), src.handle('matmul', 'b'), { shape: [K * N], aStrides: [1], bStrides: [1] });
      be.reduce('sum', src.handle('matmul', 'b'), o.sumB.handle('matmul', 'sumB'), { outer: 1, reduce: K, inner: N });
      if (src !== b) src.dispose();
    }
    return out;
  }
  const pro = o.prologue ? { on: o.prologue.on, op: o.prologue.op, t: o.prologue.t.handle('matmul', 'prologue') } : null;
  be.matmul(a.handle('matmul', 'a'), b.handle('matmul', 'b'), o.bias ? o.bias.handle('matmul', 'bias') : null, out.handle('matmul', 'out'), {
    batch, M, N, K, transA: o.transA, transB: o.transB,
    strideA: a.size === M * K ? 0 : M * K, strideB: b.size === K * N ? 0 : K * N, act: o.act ?? 'none',
    prologue: pro, sumB: o.sumB ? o.sumB.handle('matmul', 'sumB') : null,
  });
  return out;
}

/** Gradients of C = op(A)·op(B) for stored A, B (see gemm); each summed over a broadcast batch. */
function gemmGrads(g: Tensor, a: Tensor, b: Tensor, batch: number, M: number, N: number, K: number,
  tA: boolean, tB: boolean, needA: boolean, needB: boolean): [Tensor | null, Tensor | null] {
  let ga: Tensor | null = null, gb: Tensor | null = null;
  if (needA) {
    // dA = dC·op(B)ᵀ, or (dC·op(B)ᵀ)ᵀ = op(B)·dCᵀ when A is stored transposed.
    ga = tA ? gemm(b, g, batch, K, M, N, { transA: tB, transB: true }) : gemm(g, b, batch, M, K, N, { transA: false, transB: !tB });
    if (a.size !== ga.size) ga = sumBatch(ga);
  }
  if (needB) {
    // dB = op(A)ᵀ·dC, or dCᵀ·op(A) when B is stored transposed.
    gb = tB ? gemm(g, a, batch, N, K, M, { transA: true, transB: tA }) : gemm(a, g, batch, K, N, M, { transA: !tA, transB: false });
    if (b.size !== gb.size) gb = sumBatch(gb);
  }
  return [ga, gb];
}

function sumBatch(t: Tensor): Tensor {
  const [batch, r, c] = t.shape;
  const out = reduceSumRows(t.view([batch, r * c]));
  t.dispose();
  return out;
}

/**
 * Matrix product with numpy semantics: [..., M, K]·[..., K, N] → [..., M, N];
 * batch dimensions broadcast; a 1-D operand is a vector.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  deviceOf('matmul', { a, b });
  if (a.rank === 0 || b.rank === 0) fail('matmul', `needs operands of rank >= 1, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)} (use mul for scalars)`);
  const as = a.rank === 1 ? [1, a.shape[0]] : [...a.shape];
  const bs = b.rank === 1 ? [b.shape[0], 1] : [...b.shape];
  const [M, K] = as.slice(-2), [K2, N] = bs.slice(-2);
  if (K !== K2) {
    fail('matmul', `inner sizes differ: a is ${fmtShape(a.shape)} (K = ${K}), b is ${fmtShape(b.shape)} (K = ${K2}); needs b of shape [${K}, *]`);
  }
  const batchShape = broadcast('matmul', as.slice(0, -2), bs.slice(0, -2)).shape;
  const batch = sizeOf(batchShape);
  // Operands whose batch is neither 1 nor the full batch are materialised (rare).
  const fit = (t: Tensor, s: number[]) => {
    const own = sizeOf(s.slice(0, -2));
    return own === 1 || own === batch ? t : expandRaw(t.view(s), [...batchShape, ...s.slice(-2)]);
  };
  const A = fit(a, as), B = fit(b, bs);
  const outShape = [...batchShape, ...(a.rank === 1 ? [] : [M]), ...(b.rank === 1 ? [] : [N])];
  // A batch of A's against one B is one tall product: better tiles, and dB needs no batch sum.
  const tall = batch > 1 && B.size === K * N && A.size === batch * M * K;
  const [bt, mt] = tall ? [1, batch * M] : [batch, M];
  const y3 = gemm(A, B, bt, mt, N, K, { transA: false, transB: false });
  const y = y3.view(outShape);
  y3.dispose();
  if (isGradEnabled() && (a.requiresGrad || b.requiresGrad)) {
    record('matmul', y, [a, b], (g) => {
      const [ga, gb] = gemmGrads(g, A, B, bt, mt, N, K, false, false, a.requiresGrad, b.requiresGrad);
      const shapeBack = (t: Tensor | null, target: Tensor, s: number[]) => {
        if (!t) return null;
        if (t.size === target.size) { const v = t.view(target.shape); t.dispose(); return v; }
        // Materialised operand: sum over the batch axes it was broadcast along.
        const r = sumTo(t.view([...batchShape, ...s.slice(-2)]), s);
        t.dispose();
        const v = r.view(target.shape);
        r.dispose();
        return v;
      };
      return [shapeBack(ga, a, as), shapeBack(gb, b, bs)];
    });
  }
  // Materialised operands are needed by backward when a graph was recorded; scopes collect them then.
  if (!y.gradFn) {
    if (A !== a) A.dispose();
    if (B !== b) B.dispose();
  }
  return y;
}


/** The binary op that multiplies a gradient by each activation's derivative. */
export const ACT_BWD: Record<Exclude<Activation, 'none'>, ActGradOp> = {
  relu: 'relu_bwd', gelu: 'gelu_bwd', tanh: 'tanh_bwd', sigmoid: 'sigmoid_bwd',
};

/**
 * The products linear() runs for a training step on `batch` rows of K
 * features into N (forward, dX unless `needDx` is false, dW with the bias
 * sums), described for Backend.prepareMatmul. Kept next to linear(): the two
 * must agree (gelu's forward runs unfused while training).
 */
export function linearProducts(batch: number, K: number, N: number, act: Activation, bias: boolean, needDx: boolean): MatmulShape[] {
  const op = act === 'none' ? null : ACT_BWD[act];
  return [
    { M: batch, N, K, bias, act: act === 'gelu' ? 'none' : act },
    { M: batch, N, K, bias, act },
    ...(needDx ? [{ M: batch, N: K, K: N, transB: true, prologue: op && { on: 'a' as const, op } }] : []),
    { M: K, N, K: batch, transA: true, prologue: op && { on: 'b' as const, op }, sumB: bias },
  ];
}

/**
 * `act(x·w + b)` in one kernel: x [..., in], w [in, out], b [out] or null.
 * The layer layout is [in, out] (as Keras and Flax), so the forward product
 * needs no transpose.
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null, act: Activation = 'none'): Tensor {
  deviceOf('linear', b ? { x, w, b } : { x, w });
  if (!(act in ACTIVATIONS)) fail('linear', `argument 'act' must be one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${JSON.stringify(act)}`);
  if (w.rank !== 2) fail('linear', `argument 'w' must be 2-D [in, out], got ${fmtShape(w.shape)}`);
  const [K, N] = w.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== K) fail('linear', `argument 'x' has shape ${fmtShape(x.shape)}; needs [..., ${K}] to match w ${fmtShape(w.shape)}`);
  if (b && (b.rank !== 1 || b.shape[0] !== N)) fail('linear', `argument 'b' has shape ${fmtShape(b.shape)}; needs [${N}] to match w ${fmtShape(w.shape)}`);
  const M = sizeOf(x.shape.slice(0, -1)); // rows, also when K = 0
  const outShape = [...x.shape.slice(0, -1), N];
  const grad = isGradEnabled() && (x.requiresGrad || w.requiresGrad || (b?.requiresGrad ?? false));
  // gelu's derivative needs the pre-activation, which the fused kernel does not keep.
  const fused = !(grad && act === 'gelu');
  const z3 = gemm(x, w, 1, M, N, K, { transA: false, transB: false, bias: b, act: fused ? act : 'none' });
  let y = z3.view(outShape);
  z3.dispose();
  let pre: Tensor | null = null;
  if (!fused) {
    pre = y;
    y = unaryRaw('gelu', pre);
  }
  if (grad) {
    const inputs = b ? [x, w, b] : [x, w];
    record('linear', y, inputs, (g) => {
      // dZ = g ⊙ act'(·) is not materialised: both gradient products read g
      // through the activation-derivative prologue, and the dW product also
      // sums dZ's columns into the bias gradient on the way. It is formed once
      // where the backend finds a separate pass cheaper (its K re-reads on a
      // CPU adapter) or where only the bias needs it.
      const g2 = g.view([M, N]);
      let pro = act === 'none' ? null : { op: ACT_BWD[act], t: act === 'gelu' ? pre! : y };
      let dz = g2;
      if (pro && ((!w.requiresGrad && b?.requiresGrad) || (w.backend.prologueAsPass?.(K) ?? false))) {
        const t2 = pro.t.view([M, N]);
        dz = binaryRaw(pro.op, t2, g2);
        t2.dispose();
        pro = null;
      }
      let gx: Tensor | null = null, gw: Tensor | null = null, gb: Tensor | null = null;
      if (x.requiresGrad) {
        // dX = dZ·Wᵀ
        gx = gemm(dz, w, 1, M, K, N, { transA: false, transB: true, prologue: pro && { on: 'a', ...pro } });
      }
      if (w.requiresGrad) {
        // dW = Xᵀ·dZ, with Σ_rows dZ as a by-product
        gb = b?.requiresGrad ? empty(w.backend, [N]) : null;
        gw = gemm(x, dz, 1, K, N, M, { transA: true, transB: false, prologue: pro && { on: 'b', ...pro }, sumB: gb });
      } else if (b?.requiresGrad) {
        gb = reduceSumRows(dz);
      }
      if (dz !== g2) dz.dispose();
      g2.dispose();
      const shaped = (t: Tensor | null, shape: readonly number[]) => {
        if (!t) return null;
        const v = t.view(shape);
        t.dispose();
        return v;
      };
      const out = [shaped(gx, x.shape), shaped(gw, w.shape)];
      return b ? [...out, gb] : out;
    });
  } else if (pre) pre.dispose();
  return y;
}
