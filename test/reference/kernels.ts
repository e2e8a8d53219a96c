// Naive float64 references for every backend primitive. Inputs are plain
// arrays (any numeric ArrayLike), outputs Float64Array. No blocking, no
// cleverness: the point is to be obviously right.
import * as m from './math.js';

export interface MatmulRef {
  batch: number; M: number; N: number; K: number;
  transA: boolean; transB: boolean; strideA: number; strideB: number; act: string;
  /** Operand `on` is replaced by op(t, operand) elementwise before the product. */
  prologue?: { on: 'a' | 'b'; op: string; t: ArrayLike<number> } | null;
}

export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, bias: ArrayLike<number> | null, p: MatmulRef,
  prologueFn = m.binary): Float64Array {
  const { batch, M, N, K } = p;
  if (p.prologue) {
    const { on, op, t } = p.prologue;
    const src = on === 'a' ? a : b;
    const applied = Float64Array.from(src, (v, i) => prologueFn(op, t[i], v));
    if (on === 'a') a = applied; else b = applied;
  }
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const oa = z * p.strideA, ob = z * p.strideB;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a[oa + (p.transA ? k * M + i : i * K + k)];
          const bv = b[ob + (p.transB ? j * K + k : k * N + j)];
          s += av * bv;
        }
        if (bias) s += bias[j];
        out[z * M * N + i * N + j] = m.activation(p.act, s);
      }
    }
  }
  return out;
}

/**
 * The scale a float32 product is accurate to. Before the activation that is
 * S = |op(A)|·|B| + |bias| (the classic bound |Z − Ẑ| ≤ γ_K S); after it,
 * |act'(z)|·S + |act(z)|. Measured against |C| alone, one output whose K
 * terms nearly cancel fails ~0.4% of the time at K ≤ 129.
 */
export function matmulScale(a: ArrayLike<number>, b: ArrayLike<number>, bias: ArrayLike<number> | null, p: MatmulRef): Float64Array {
  const abs = (x: ArrayLike<number>) => Float64Array.from(x, Math.abs);
  const s = matmul(abs(a), abs(b), bias && abs(bias), { ...p, act: 'none' }, m.binaryScale);
  if (p.act === 'none') return s;
  const z = matmul(a, b, bias, { ...p, act: 'none' });
  return s.map((v, i) => Math.abs(m.activationGrad(p.act, z[i])) * v + Math.abs(m.activation(p.act, z[i])));
}

export function unary(op: string, x: ArrayLike<number>, alpha = 1, beta = 0): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = m.unary(op, x[i], alpha, beta);
  return out;
}

/** Row-major index -> per-dimension coordinates, applied to a stride vector. */
export function offsetOf(index: number, shape: readonly number[], strides: readonly number[]): number {
  let off = 0;
  for (let d = shape.length - 1; d >= 0; d--) {
    const c = index % shape[d];
    index = (index - c) / shape[d];
    off += c * strides[d];
  }
  return off;
}

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Row-major element strides. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** numpy broadcasting: strides of `shape` (right-aligned) within `out`, 0 where broadcast. */
export function stridesIn(shape: readonly number[], out: readonly number[]): number[] {
  const s = new Array<number>(out.length).fill(0);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = out.length - shape.length + i;
    s[d] = shape[i] === 1 ? 0 : acc;
    acc *= shape[i];
  }
  return s;
}

export function binary(op: string, a: ArrayLike<number>, b: ArrayLike<number>,
  shape: readonly number[], aStrides: readonly number[], bStrides: readonly number[], fn = m.binary): Float64Array {
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = fn(op, a[offsetOf(i, shape, aStrides)], b[offsetOf(i, shape, bStrides)]);
  return out;
}

/** Elementwise m.binaryScale: what a binary op's float32 result is accurate relative to. */
export const binaryScale = (op: string, a: ArrayLike<number>, b: ArrayLike<number>,
  shape: readonly number[], aStrides: readonly number[], bStrides: readonly number[]) => binary(op, a, b, shape, aStrides, bStrides, m.binaryScale);

export function reduce(op: string, x: ArrayLike<number>, outer: number, r: number, inner: number): Float64Array {
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = op === 'max' ? -Infinity : 0;
      for (let k = 0; k < r; k++) {
        const v = x[(o * r + k) * inner + i];
        acc = op === 'max' ? Math.max(acc, v) : acc + v;
      }
      out[o * inner + i] = op === 'mean' ? acc / r : acc;
    }
  }
  return out;
}

export function softmax(x: ArrayLike<number>, rows: number, cols: number, log: boolean): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let c = 0; c < cols; c++) mx = Math.max(mx, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - mx);
    for (let c = 0; c < cols; c++) {
      const z = x[r * cols + c] - mx;
      out[r * cols + c] = log ? z - Math.log(s) : Math.exp(z) / s;
    }
  }
  return out;
}

export function strided(x: ArrayLike<number>, shape: readonly number[], strides: readonly number[], offset: number): Float64Array {
  const n = sizeOf(shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = x[offset + offsetOf(i, shape, strides)];
  return out;
}

export interface SgdRef { lr: number; momentum: number; weightDecay: number; nesterov: boolean }

/** One SGD step as PyTorch defines it (dampening 0; a zero-initialised buffer equals PyTorch's first-step copy). */
export function sgd(p: ArrayLike<number>, g: ArrayLike<number>, v: ArrayLike<number> | null, h: SgdRef) {
  const P = Float64Array.from(p), V = v ? Float64Array.from(v) : null;
  for (let i = 0; i < P.length; i++) {
    let d = g[i] + h.weightDecay * P[i];
    if (V) {
      V[i] = h.momentum * V[i] + d;
      d = h.nesterov ? d + h.momentum * V[i] : V[i];
    }
    P[i] -= h.lr * d;
  }
  return { p: P, v: V };
}

export interface AdamRef {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean;
  biasCorrection1: number; biasCorrection2: number;
}

/**
 * One Adam (decoupled=false, L2 in the gradient) or AdamW step, as PyTorch
 * defines them. With `abs`, the scale each result is accurate to: every sum
 * over |terms| (β1·m + (1 − β1)·g and p − step cancel for some draws; v cannot).
 */
export function adam(p: ArrayLike<number>, g: ArrayLike<number>, mIn: ArrayLike<number>, vIn: ArrayLike<number>, h: AdamRef, abs = false) {
  const P = Float64Array.from(p), M = Float64Array.from(mIn), V = Float64Array.from(vIn);
  const a = abs ? Math.abs : (x: number) => x;
  for (let i = 0; i < P.length; i++) {
    const grad = h.decoupled ? g[i] : g[i] + h.weightDecay * P[i];
    if (h.decoupled) P[i] *= 1 - h.lr * h.weightDecay;
    M[i] = h.beta1 * a(M[i]) + (1 - h.beta1) * (abs && !h.decoupled ? Math.abs(g[i]) + h.weightDecay * Math.abs(p[i]) : a(grad));
    V[i] = h.beta2 * V[i] + (1 - h.beta2) * grad * grad;
    const mhat = M[i] / h.biasCorrection1, vhat = V[i] / h.biasCorrection2;
    P[i] = a(P[i]) - (abs ? -1 : 1) * h.lr * mhat / (Math.sqrt(vhat) + h.eps);
  }
  return { p: P, m: M, v: V };
}

/** Σ_k B[k, n] of a row-major [K, N] matrix after an optional elementwise prologue op(t, B). */
export function columnSums(b: ArrayLike<number>, K: number, N: number, prologue?: { op: string; t: ArrayLike<number> } | null,
  fn = m.binary): Float64Array {
  const out = new Float64Array(N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) {
    const v = b[k * N + n];
    out[n] += prologue ? fn(prologue.op, prologue.t[k * N + n], v) : v;
  }
  return out;
}

/** Σ_k |op(t, B)|: the scale the column sums are accurate to (see matmulScale). */
export const columnSumsScale = (b: ArrayLike<number>, K: number, N: number, prologue?: { op: string; t: ArrayLike<number> } | null) =>
  columnSums(Float64Array.from(b, Math.abs), K, N, prologue, (op, t, v) => m.binaryScale(op, t, v));
