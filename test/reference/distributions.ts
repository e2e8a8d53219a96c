// Float64 references for the distributions: log-probabilities, entropies and
// their vector-Jacobian products, derived by hand, row by row over the last axis.
import type { Nd } from './ops.js';

const rows = (x: Nd) => ({ k: x.shape[x.shape.length - 1], n: x.data.length / x.shape[x.shape.length - 1] });

function logSoftmaxRow(z: Float64Array, o: number, k: number): Float64Array {
  let m = -Infinity;
  for (let j = 0; j < k; j++) m = Math.max(m, z[o + j]);
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(z[o + j] - m);
  const lse = m + Math.log(s);
  return Float64Array.from({ length: k }, (_, j) => z[o + j] - lse);
}

/** log softmax(z)[id] per row; ids one per row. */
export function catLogProb(z: Nd, ids: number[]): Nd {
  const { k, n } = rows(z);
  return { data: Float64Array.from({ length: n }, (_, r) => logSoftmaxRow(z.data, r * k, k)[ids[r]]), shape: z.shape.slice(0, -1) };
}
/** d/dz_j of Σ g_r log p_r[id_r] = g_r (1[j = id] − p_j). */
export function catLogProbVjp(z: Nd, ids: number[], g: Nd): Nd {
  const { k, n } = rows(z);
  const out = new Float64Array(z.data.length);
  for (let r = 0; r < n; r++) {
    const lp = logSoftmaxRow(z.data, r * k, k);
    for (let j = 0; j < k; j++) out[r * k + j] = g.data[r] * ((j === ids[r] ? 1 : 0) - Math.exp(lp[j]));
  }
  return { data: out, shape: z.shape };
}

/** H = −Σ p log p per row. */
export function catEntropy(z: Nd): Nd {
  const { k, n } = rows(z);
  return {
    data: Float64Array.from({ length: n }, (_, r) => { const lp = logSoftmaxRow(z.data, r * k, k); return -lp.reduce((s, l) => s + Math.exp(l) * l, 0); }),
    shape: z.shape.slice(0, -1),
  };
}
/** dH/dz_j = −p_j (log p_j + H). */
export function catEntropyVjp(z: Nd, g: Nd): Nd {
  const { k, n } = rows(z);
  const out = new Float64Array(z.data.length);
  for (let r = 0; r < n; r++) {
    const lp = logSoftmaxRow(z.data, r * k, k);
    const H = -lp.reduce((s, l) => s + Math.exp(l) * l, 0);
    for (let j = 0; j < k; j++) out[r * k + j] = -g.data[r] * Math.exp(lp[j]) * (lp[j] + H);
  }
  return { data: out, shape: z.shape };
}

/** From weights p: log(p_id / Σp) per row, and its VJP 1[j = id]/p_id − 1/Σp. */
export function catProbsLogProb(p: Nd, ids: number[]): Nd {
  const { k, n } = rows(p);
  return {
    data: Float64Array.from({ length: n }, (_, r) => { let s = 0; for (let j = 0; j < k; j++) s += p.data[r * k + j]; return Math.log(p.data[r * k + ids[r]] / s); }),
    shape: p.shape.slice(0, -1),
  };
}
export function catProbsLogProbVjp(p: Nd, ids: number[], g: Nd): Nd {
  const { k, n } = rows(p);
  const out = new Float64Array(p.data.length);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += p.data[r * k + j];
    for (let j = 0; j < k; j++) out[r * k + j] = g.data[r] * ((j === ids[r] ? 1 / p.data[r * k + j] : 0) - 1 / s);
  }
  return { data: out, shape: p.shape };
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
/** Normal log density, elementwise over equal shapes. */
export function normalLogProb(x: Nd, mu: Nd, sigma: Nd): Nd {
  return { data: x.data.map((v, i) => -((v - mu.data[i]) ** 2) / (2 * sigma.data[i] ** 2) - Math.log(sigma.data[i]) - LOG_SQRT_2PI), shape: x.shape };
}
/** d/dx = −(x − μ)/σ², d/dμ = (x − μ)/σ², d/dσ = (x − μ)²/σ³ − 1/σ. */
export function normalLogProbVjp(x: Nd, mu: Nd, sigma: Nd, g: Nd): Nd[] {
  const d = (f: (v: number, m: number, s: number) => number): Nd => ({ data: g.data.map((gi, i) => gi * f(x.data[i], mu.data[i], sigma.data[i])), shape: x.shape });
  return [d((v, m, s) => -(v - m) / s ** 2), d((v, m, s) => (v - m) / s ** 2), d((v, m, s) => (v - m) ** 2 / s ** 3 - 1 / s)];
}
export const normalEntropy = (sigma: Nd): Nd => ({ data: sigma.data.map((s) => 0.5 + LOG_SQRT_2PI + Math.log(s)), shape: sigma.shape });
export const normalEntropyVjp = (sigma: Nd, g: Nd): Nd => ({ data: sigma.data.map((s, i) => g.data[i] / s), shape: sigma.shape });
