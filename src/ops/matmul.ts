// matmul (numpy semantics: 1-D operands, broadcast batch dimensions), and
// gemm, the product every matmul-based op runs (linear.ts). Both gradients
// are matmuls with transpose flags, never explicit transposes.
import { record } from '../autograd.js';
import type { ActGradOp, Activation, MatmulShape } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { broadcast, sizeOf } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { binaryRaw, unaryRaw } from './elementwise.js';
import { reduceSumRows, sumTo } from './reduce.js';
import { expandRaw } from './shape.js';
import { deviceOf } from './util.js';

/** The tensors a planned product reads besides its operands (see MatmulShape). */
export interface GemmTensors {
  /** Where the shape says `bias`. */
  bias?: Tensor | null;
  /** Where the shape has a prologue: operand `on` is read as op(t, operand). */
  t?: Tensor | null;
  /** Where the shape says `sumB`: Σ_k op(B)[k, :] is written here (the bias gradient). */
  sumB?: Tensor | null;
}

type Prologue = { on: 'a' | 'b'; op: ActGradOp; t: Tensor } | null;

/**
 * @internal Runs the product `s` describes (the description Backend.prepare
 * gets): C[z] = act(op(A[z])·op(B[z]) + bias) on 3-D operands [batchA, ., .]
 * and [batchB, ., .] where each batch is 1 (broadcast) or `batch`.
 */
export function gemm(a: Tensor, b: Tensor, s: MatmulShape, w: GemmTensors = {}): Tensor {
  const { M, N, K } = s, batch = s.batch ?? 1, act = s.act ?? 'none';
  const bias = s.bias ? w.bias! : null, sumB = s.sumB ? w.sumB! : null;
  const pro: Prologue = s.prologue ? { ...s.prologue, t: w.t! } : null;
  if (K === 0 || batch * M * N === 0) return scope(() => degenerate(b, batch, M, N, K, act, bias, pro, sumB));
  const be = a.backend;
  const out = empty(be, [batch, M, N], 'matmul');
  be.matmul(a.handle('matmul', 'a'), b.handle('matmul', 'b'), bias ? bias.handle('matmul', 'bias') : null, out.handle('matmul', 'out'), {
    batch, M, N, K, transA: !!s.transA, transB: !!s.transB,
    strideA: a.size === M * K ? 0 : M * K, strideB: b.size === K * N ? 0 : K * N, act,
    prologue: pro && { on: pro.on, op: pro.op, t: pro.t.handle('matmul', 'prologue') },
    sumB: sumB ? sumB.handle('matmul', 'sumB') : null,
  });
  return out;
}

/** An empty sum (K = 0) or no outputs, which the kernels leave to the ops layer; runs in a scope. */
function degenerate(b: Tensor, batch: number, M: number, N: number, K: number, act: Activation,
  bias: Tensor | null, pro: Prologue, sumB: Tensor | null): Tensor {
  const be = b.backend;
  const out = empty(be, [batch, M, N], 'matmul');
  if (K === 0) {
    // An empty sum: every row is act(0 + bias), and Σ_k op(B) is 0.
    if (out.size > 0) be.fill(out.handle('matmul', 'out'), out.size, 0);
    if (sumB && sumB.size > 0) be.fill(sumB.handle('matmul', 'sumB'), sumB.size, 0);
    if (out.size === 0) return out;
    const z = bias ? binaryRaw('add', out, bias, 'matmul') : out;
    return act === 'none' ? z : unaryRaw(act, z);
  }
  // No outputs (M = 0), but Σ_k op(B) — the bias gradient — is still defined.
  if (sumB && N > 0) {
    const on = pro?.on === 'b' ? pro : null;
    const src = on ? empty(be, [K * N], 'matmul') : b;
    if (on) be.binary(on.op, on.t.handle('matmul', 'prologue'), b.handle('matmul', 'b'), src.handle('matmul', 'b'), { shape: [K * N], aStrides: [1], bStrides: [1] });
    be.reduce('sum', src.handle('matmul', 'b'), sumB.handle('matmul', 'sumB'), { outer: 1, reduce: K, inner: N });
  }
  return out;
}

/**
 * Gradients of C = A·B (A [batch?, M, K], B [batch?, K, N], see gemm), each
 * summed over the batch it was broadcast along; null where not asked for.
 */
function gemmGrads(g: Tensor, A: Tensor | null, B: Tensor | null, batch: number, M: number, N: number, K: number,
  sizeA: number, sizeB: number): [Tensor | null, Tensor | null] {
  // dA = dC·Bᵀ, dB = Aᵀ·dC
  const ga = B && gemm(g, B, { batch, M, N: K, K: N, transB: true });
  const gb = A && gemm(A, g, { batch, M: K, N, K: M, transA: true });
  return [ga && (ga.size === sizeA ? ga : sumBatch(ga)), gb && (gb.size === sizeB ? gb : sumBatch(gb))];
}

const sumBatch = (t: Tensor) => reduceSumRows(t.view([t.shape[0], t.shape[1] * t.shape[2]]));

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
  // Materialised operands die with this scope; the graph keeps its own references.
  return scope(() => {
    const A = fit(a, as), B = fit(b, bs);
    const outShape = [...batchShape, ...(a.rank === 1 ? [] : [M]), ...(b.rank === 1 ? [] : [N])];
    // A batch of A's against one B is one tall product: better tiles, and dB needs no batch sum.
    const tall = batch > 1 && B.size === K * N && A.size === batch * M * K;
    const [bt, mt] = tall ? [1, batch * M] : [batch, M];
    const y = gemm(A, B, { batch: bt, M: mt, N, K }).view(outShape);
    const sizeA = A.size, sizeB = B.size, shapeA = a.shape, shapeB = b.shape;
    // Each operand is saved only where the other one's gradient reads it.
    return record('matmul', y, [a, b], [b.requiresGrad ? A : null, a.requiresGrad ? B : null], (g, [A, B]) => {
      const [ga, gb] = gemmGrads(g, A, B, bt, mt, N, K, sizeA, sizeB);
      // A materialised operand's gradient is summed over the batch axes it was broadcast along.
      const back = (t: Tensor | null, s: number[], shape: readonly number[]) =>
        t && (t.size === sizeOf(shape) ? t : sumTo(t.view([...batchShape, ...s.slice(-2)]), s)).view(shape);
      return [back(ga, as, shapeA), back(gb, bs, shapeB)];
    });
  });
}
