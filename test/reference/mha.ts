// Float64 reference of nn.MultiHeadAttention, composed from the definitions:
// qkv = x·W_in + b_in split into heads (queries, then keys, then values), the
// unfused attention reference per head, heads merged, y = m·W_out + b_out. The
// VJP of <g, y> follows the same steps backwards. Weights are lepton's [in, out].
import { attentionForward, attentionVjp, type AttnConfig } from './attention.js';

export interface MhaConfig { B: number; S: number; E: number; H: number; Hkv: number; causal: boolean }
export interface MhaWeights { wIn: ArrayLike<number>; bIn: ArrayLike<number> | null; wOut: ArrayLike<number>; bOut: ArrayLike<number> | null }

/** y[r, :] = x[r, :]·W + b for `rows` rows of width `k` (W is [k, n]). */
function affine(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, rows: number, k: number, n: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      let s = b ? b[j] : 0;
      for (let e = 0; e < k; e++) s += x[r * k + e] * w[e * n + j];
      y[r * n + j] = s;
    }
  }
  return y;
}

function parts(c: MhaConfig) {
  const D = c.E / c.H, N = c.E + 2 * c.Hkv * D;
  const attn: AttnConfig = { B: c.B, H: c.H, Hkv: c.Hkv, Lq: c.S, Lk: c.S, D, scale: 1 / Math.sqrt(D), causal: c.causal, mask: null, lens: null };
  // Column of qkv for (part, head, d): queries at 0, keys at E, values at E + kvDim.
  const col = (part: number, h: number, d: number) => (part === 0 ? 0 : part === 1 ? c.E : c.E + c.Hkv * D) + h * D + d;
  return { D, N, attn, col };
}

export function mhaForward(x: ArrayLike<number>, w: MhaWeights, c: MhaConfig) {
  const { D, N, attn, col } = parts(c);
  const qkv = affine(x, w.wIn, w.bIn, c.B * c.S, c.E, N);
  const split = (part: number, heads: number) => {
    const t = new Float64Array(c.B * heads * c.S * D);
    for (let b = 0; b < c.B; b++) for (let h = 0; h < heads; h++) for (let s = 0; s < c.S; s++) for (let d = 0; d < D; d++) {
      t[((b * heads + h) * c.S + s) * D + d] = qkv[(b * c.S + s) * N + col(part, h, d)];
    }
    return t;
  };
  const q = split(0, c.H), k = split(1, c.Hkv), v = split(2, c.Hkv);
  const o = attentionForward(q, k, v, attn).out;
  const m = new Float64Array(c.B * c.S * c.E);
  for (let b = 0; b < c.B; b++) for (let h = 0; h < c.H; h++) for (let s = 0; s < c.S; s++) for (let d = 0; d < D; d++) {
    m[(b * c.S + s) * c.E + h * D + d] = o[((b * c.H + h) * c.S + s) * D + d];
  }
  return { y: affine(m, w.wOut, w.bOut, c.B * c.S, c.E, c.E), q, k, v, m, qkv };
}

/** Gradients of <g, y> with respect to x and every parameter. */
export function mhaVjp(x: ArrayLike<number>, w: MhaWeights, c: MhaConfig, g: ArrayLike<number>) {
  const { D, N, attn, col } = parts(c);
  const { q, k, v, m } = mhaForward(x, w, c);
  const rows = c.B * c.S, E = c.E;
  const dWout = new Float64Array(E * E), dbOut = new Float64Array(E), dm = new Float64Array(rows * E);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < E; f++) {
      dbOut[f] += g[r * E + f];
      for (let e = 0; e < E; e++) { dWout[e * E + f] += m[r * E + e] * g[r * E + f]; dm[r * E + e] += g[r * E + f] * w.wOut[e * E + f]; }
    }
  }
  const dO = new Float64Array(c.B * c.H * c.S * D);
  for (let b = 0; b < c.B; b++) for (let h = 0; h < c.H; h++) for (let s = 0; s < c.S; s++) for (let d = 0; d < D; d++) {
    dO[((b * c.H + h) * c.S + s) * D + d] = dm[(b * c.S + s) * E + h * D + d];
  }
  const { dq, dk, dv } = attentionVjp(q, k, v, attn, dO);
  const dqkv = new Float64Array(rows * N);
  const merge = (t: Float64Array, part: number, heads: number) => {
    for (let b = 0; b < c.B; b++) for (let h = 0; h < heads; h++) for (let s = 0; s < c.S; s++) for (let d = 0; d < D; d++) {
      dqkv[(b * c.S + s) * N + col(part, h, d)] = t[((b * heads + h) * c.S + s) * D + d];
    }
  };
  merge(dq, 0, c.H); merge(dk, 1, c.Hkv); merge(dv, 2, c.Hkv);
  const dWin = new Float64Array(E * N), dbIn = new Float64Array(N), dx = new Float64Array(rows * E);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < N; j++) {
      const gj = dqkv[r * N + j];
      dbIn[j] += gj;
      for (let e = 0; e < E; e++) { dWin[e * N + j] += x[r * E + e] * gj; dx[r * E + e] += gj * w.wIn[e * N + j]; }
    }
  }
  return { dx, dWin, dbIn, dWout, dbOut };
}
