// Float64 references for every public op: forward and vector-Jacobian
// product (the gradient of <g, f(x)> with respect to each input), derived by
// hand from the math, independent of the library's autograd.
import * as k from './kernels.js';
import * as m from './math.js';

export interface Nd { data: Float64Array; shape: number[] }
export const nd = (data: ArrayLike<number>, shape: number[]): Nd => ({ data: Float64Array.from(data), shape: [...shape] });
const size = k.sizeOf;

export function broadcastShape(a: number[], b: number[]) {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error('reference: not broadcastable');
    return x === 1 ? y : x;
  });
}

/** Value of `x` at each index of the broadcast shape `out`. */
export function expand(x: Nd, out: number[]): Nd {
  return { data: k.strided(x.data, out, k.stridesIn(x.shape, out), 0), shape: out };
}

/** Sum of `g` (broadcast shape) back to `shape`; from −0, the identity of IEEE addition (a lone −0 stays −0). */
export function sumTo(g: Nd, shape: number[]): Nd {
  const out = new Float64Array(size(shape)).fill(-0);
  const st = k.stridesIn(shape, g.shape);
  for (let i = 0; i < g.data.length; i++) out[k.offsetOf(i, g.shape, st)] += g.data[i];
  return { data: out, shape };
}

const map = (x: Nd, f: (v: number, i: number) => number): Nd => ({ data: x.data.map(f), shape: x.shape });
/** |x|: the scale helpers below rerun a reference over absolute values, the size of what float32 adds up. */
export const absNd = (x: Nd): Nd => map(x, Math.abs);
const zip = (a: Nd, b: Nd, f: (x: number, y: number) => number): Nd => {
  const shape = broadcastShape(a.shape, b.shape);
  const A = expand(a, shape), B = expand(b, shape);
  return { data: A.data.map((v, i) => f(v, B.data[i])), shape };
};

// ---- elementwise -------------------------------------------------------
export const unaryDerivative: Record<string, (x: number) => number> = {
  neg: () => -1, exp: Math.exp, log: (x) => 1 / x, abs: (x) => m.unary('sign', x), sqrt: (x) => 0.5 / Math.sqrt(x),
  square: (x) => 2 * x, relu: (x) => m.activationGrad('relu', x), gelu: m.geluGrad, tanh: (x) => 1 - Math.tanh(x) ** 2,
  sigmoid: (x) => m.sigmoid(x) * (1 - m.sigmoid(x)), clone: () => 1,
};
export const unaryForward = (op: string, x: Nd) => map(x, (v) => m.unary(op === 'clone' ? 'copy' : op, v));
export const unaryVjp = (op: string, x: Nd, g: Nd) => [map(x, (v, i) => g.data[i] * unaryDerivative[op](v))];

export function binaryForward(op: string, a: Nd, b: Nd): Nd {
  return zip(a, b, (x, y) => m.binary(op, x, y));
}
/** With `abs`, each term's |value| before the broadcast sums: the scale the gradient is accurate to. */
export function binaryVjp(op: string, a: Nd, b: Nd, g: Nd, abs = false): [Nd, Nd] {
  const shape = g.shape;
  const A = expand(a, shape), B = expand(b, shape);
  const da = new Float64Array(g.data.length), db = new Float64Array(g.data.length);
  for (let i = 0; i < g.data.length; i++) {
    const x = A.data[i], y = B.data[i], gi = g.data[i];
    switch (op) {
      case 'add': da[i] = gi; db[i] = gi; break;
      case 'sub': da[i] = gi; db[i] = -gi; break;
      case 'mul': da[i] = gi * y; db[i] = gi * x; break;
      case 'div': da[i] = gi / y; db[i] = -gi * x / (y * y); break;
      case 'maximum': case 'minimum': {
        // A NaN operand makes the result NaN, and both operands get the whole gradient (as PyTorch).
        if (Number.isNaN(x) || Number.isNaN(y)) { da[i] = gi; db[i] = gi; break; }
        const aWins = op === 'maximum' ? x > y : x < y;
        const w = x === y ? 0.5 : aWins ? 1 : 0;
        da[i] = gi * w; db[i] = gi * (1 - w); break;
      }
      default: throw new Error(`reference: no vjp for ${op}`);
    }
    if (abs) { da[i] = Math.abs(da[i]); db[i] = Math.abs(db[i]); }
  }
  return [sumTo({ data: da, shape }, a.shape), sumTo({ data: db, shape }, b.shape)];
}

// ---- reductions --------------------------------------------------------
export function reduceForward(op: string, x: Nd, axes: number[], keepDims: boolean): Nd {
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(size(keep)).fill(op === 'max' ? -Infinity : 0);
  const st = k.stridesIn(keep, x.shape);
  const r = size(axes.map((i) => x.shape[i]));
  for (let i = 0; i < x.data.length; i++) {
    const o = k.offsetOf(i, x.shape, st);
    out[o] = op === 'max' ? Math.max(out[o], x.data[i]) : out[o] + x.data[i];
  }
  if (op === 'mean') for (let i = 0; i < out.length; i++) out[i] /= r;
  return { data: out, shape: keepDims ? keep : x.shape.filter((_, i) => !axes.includes(i)) };
}
export function reduceVjp(op: string, x: Nd, axes: number[], g: Nd): Nd[] {
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const gk = { data: g.data, shape: keep };
  const r = size(axes.map((i) => x.shape[i]));
  if (op === 'sum') return [expand(gk, x.shape)];
  if (op === 'mean') return [map(expand(gk, x.shape), (v) => v / r)];
  // max: the gradient is shared equally between tied maxima.
  const mx = expand(reduceForward('max', x, axes, true), x.shape);
  const hit = map(x, (v, i) => (v === mx.data[i] ? 1 : 0));
  const count = expand(reduceForward('sum', hit, axes, true), x.shape);
  const ge = expand(gk, x.shape);
  return [map(hit, (h, i) => (h * ge.data[i]) / count.data[i])];
}

// ---- shape -------------------------------------------------------------
export function transposeForward(x: Nd, perm: number[]): Nd {
  const st = k.contiguousStrides(x.shape);
  const shape = perm.map((i) => x.shape[i]);
  return { data: k.strided(x.data, shape, perm.map((i) => st[i]), 0), shape };
}
export function transposeVjp(x: Nd, perm: number[], g: Nd): Nd[] {
  const inv = new Array(perm.length);
  perm.forEach((v, i) => { inv[v] = i; });
  return [transposeForward(g, inv)];
}

// ---- matmul ------------------------------------------------------------
/** Batched matmul with numpy broadcasting of batch dims; 1-D operands are vectors. */
export function matmulForward(a: Nd, b: Nd): Nd {
  const as = a.shape.length === 1 ? [1, ...a.shape] : a.shape, bs = b.shape.length === 1 ? [...b.shape, 1] : b.shape;
  const [M, K] = as.slice(-2), N = bs[bs.length - 1];
  const batch = broadcastShape(as.slice(0, -2), bs.slice(0, -2));
  const A = expand({ data: a.data, shape: as }, [...batch, M, K]), B = expand({ data: b.data, shape: bs }, [...batch, K, N]);
  const nb = size(batch);
  const out = new Float64Array(nb * M * N);
  for (let z = 0; z < nb; z++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let t = 0; t < K; t++) s += A.data[z * M * K + i * K + t] * B.data[z * K * N + t * N + j];
    out[z * M * N + i * N + j] = s;
  }
  return { data: out, shape: [...batch, ...(a.shape.length === 1 ? [] : [M]), ...(b.shape.length === 1 ? [] : [N])] };
}
export function matmulVjp(a: Nd, b: Nd, g: Nd): [Nd, Nd] {
  const as = a.shape.length === 1 ? [1, ...a.shape] : a.shape, bs = b.shape.length === 1 ? [...b.shape, 1] : b.shape;
  const [M, K] = as.slice(-2), N = bs[bs.length - 1];
  const batch = broadcastShape(as.slice(0, -2), bs.slice(0, -2));
  const nb = size(batch);
  const A = expand({ data: a.data, shape: as }, [...batch, M, K]), B = expand({ data: b.data, shape: bs }, [...batch, K, N]);
  const da = new Float64Array(nb * M * K), db = new Float64Array(nb * K * N);
  for (let z = 0; z < nb; z++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    const gv = g.data[z * M * N + i * N + j];
    for (let t = 0; t < K; t++) {
      da[z * M * K + i * K + t] += gv * B.data[z * K * N + t * N + j];
      db[z * K * N + t * N + j] += gv * A.data[z * M * K + i * K + t];
    }
  }
  const ga = sumTo({ data: da, shape: [...batch, M, K] }, as), gb = sumTo({ data: db, shape: [...batch, K, N] }, bs);
  return [{ data: ga.data, shape: a.shape }, { data: gb.data, shape: b.shape }];
}

/** What matmulForward / matmulVjp are accurate to: the same sums over |terms|. */
export const matmulForwardScale = (a: Nd, b: Nd) => matmulForward(absNd(a), absNd(b));
export const matmulVjpScale = (a: Nd, b: Nd, g: Nd) => matmulVjp(absNd(a), absNd(b), absNd(g));

/** x [..., in] · w [in, out] as one product of x's rows: its parameters and the output shape. */
function linearProduct(x: Nd, w: Nd, act: string) {
  const [K, N] = w.shape;
  const M = size(x.shape.slice(0, -1));
  return { M, N, K, p: { batch: 1, M, N, K, transA: false, transB: false, strideA: 0, strideB: 0, act }, shape: [...x.shape.slice(0, -1), N] };
}

/** act(x·w + b) with x [..., in], w [in, out]. */
export function linearForward(x: Nd, w: Nd, b: Nd | null, act: string): Nd {
  const { p, shape } = linearProduct(x, w, act);
  return { data: k.matmul(x.data, w.data, b ? b.data : null, p), shape };
}
/** With `abs`, sums over |terms| and gelu' by its terms (m.geluGradScale): the scale each gradient is accurate to. */
export function linearVjp(x: Nd, w: Nd, b: Nd | null, act: string, g: Nd, abs = false): Nd[] {
  const { M, N, K, p } = linearProduct(x, w, 'none');
  const pre = k.matmul(x.data, w.data, b ? b.data : null, p);
  const dz = pre.map((v, i) => (abs ? Math.abs(g.data[i]) * (act === 'gelu' ? m.geluGradScale(v) : Math.abs(m.activationGrad(act, v)))
    : g.data[i] * m.activationGrad(act, v)));
  const X = { data: x.data, shape: [M, K] };
  const [gx, gw] = matmulVjp(abs ? absNd(X) : X, abs ? absNd(w) : w, { data: dz, shape: [M, N] });
  const out = [{ data: gx.data, shape: x.shape }, gw];
  if (b) out.push(sumTo({ data: dz, shape: [M, N] }, [N]));
  return out;
}

/** The scale linearForward is accurate to (k.matmulScale). */
export function linearForwardScale(x: Nd, w: Nd, b: Nd | null, act: string): Nd {
  const { p, shape } = linearProduct(x, w, act);
  return { data: k.matmulScale(x.data, w.data, b ? b.data : null, p), shape };
}

// ---- softmax and losses -------------------------------------------------
function moveLast(x: Nd, axis: number) {
  const perm = x.shape.map((_, i) => i);
  perm[axis] = x.shape.length - 1; perm[x.shape.length - 1] = axis;
  return perm;
}
export function softmaxForward(x: Nd, axis: number, log: boolean): Nd {
  const perm = moveLast(x, axis);
  const xt = transposeForward(x, perm);
  const cols = xt.shape[xt.shape.length - 1];
  const yt = { data: k.softmax(xt.data, xt.data.length / cols, cols, log), shape: xt.shape };
  return transposeForward(yt, perm);
}
/** With `abs`, |g| and + for −: y(|g| + Σ|g|y), or |g| + e^y Σ|g|, the scale the gradient is accurate to. */
export function softmaxVjp(x: Nd, axis: number, log: boolean, g: Nd, abs = false): Nd[] {
  const perm = moveLast(x, axis), sign = abs ? 1 : -1;
  const yt = transposeForward(softmaxForward(x, axis, log), perm), gt = transposeForward(abs ? absNd(g) : g, perm);
  const cols = yt.shape[yt.shape.length - 1], rows = yt.data.length / cols;
  const dx = new Float64Array(yt.data.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += log ? gt.data[r * cols + c] : gt.data[r * cols + c] * yt.data[r * cols + c];
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      dx[i] = log ? gt.data[i] + sign * Math.exp(yt.data[i]) * s : yt.data[i] * (gt.data[i] + sign * s);
    }
  }
  return [transposeForward({ data: dx, shape: yt.shape }, perm)];
}

/**
 * Mean softmax cross-entropy of logits [N, C] against target probabilities [N, C].
 * A class of probability 0 adds 0 even where its log-probability is −inf (a
 * logit masked with −inf): 0 · log 0 = 0, as class ids give (PyTorch's nll_loss).
 */
export function crossEntropyForward(logits: Nd, target: Nd, reduction = 'mean'): Nd {
  const [N, C] = logits.shape;
  const lp = k.softmax(logits.data, N, C, true);
  const rows = new Float64Array(N);
  for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) rows[i] -= m.binary('xmul', target.data[i * C + c], lp[i * C + c]);
  if (reduction === 'none') return { data: rows, shape: [N] };
  const s = rows.reduce((a, b) => a + b, 0);
  return { data: Float64Array.of(reduction === 'sum' ? s : s / N), shape: [] };
}
/**
 * With `abs`, the logit gradient's scale |g|·(p·|Σt| + |t|): p·Σt − t cancels
 * wherever the prediction matches the target.
 */
export function crossEntropyVjp(logits: Nd, target: Nd, g: Nd, reduction = 'mean', abs = false): Nd[] {
  const [N, C] = logits.shape;
  const p = k.softmax(logits.data, N, C, false);
  const d = new Float64Array(N * C), dt = new Float64Array(N * C);
  const lp = k.softmax(logits.data, N, C, true);
  for (let i = 0; i < N; i++) {
    const gi = reduction === 'none' ? g.data[i] : reduction === 'sum' ? g.data[0] : g.data[0] / N;
    let tsum = 0;
    for (let c = 0; c < C; c++) tsum += target.data[i * C + c];
    for (let c = 0; c < C; c++) {
      d[i * C + c] = abs ? Math.abs(gi) * (p[i * C + c] * Math.abs(tsum) + Math.abs(target.data[i * C + c]))
        : gi * (p[i * C + c] * tsum - target.data[i * C + c]);
      dt[i * C + c] = (abs ? Math.abs(gi) : -gi) * lp[i * C + c];
    }
  }
  return [{ data: d, shape: logits.shape }, { data: dt, shape: target.shape }];
}

export function mseForward(a: Nd, b: Nd): Nd {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += (a.data[i] - b.data[i]) ** 2;
  return { data: Float64Array.of(s / a.data.length), shape: [] };
}
export function mseVjp(a: Nd, b: Nd, g: Nd): Nd[] {
  const n = a.data.length;
  const da = a.data.map((v, i) => (2 * (v - b.data[i]) * g.data[0]) / n);
  return [{ data: da, shape: a.shape }, { data: da.map((v) => -v), shape: b.shape }];
}
