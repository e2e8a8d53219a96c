// Float64 reference of a pre-norm transformer block and of a decoder-only
// language model, composed from the definitions (PyTorch's
// TransformerEncoderLayer with norm_first=True and tanh-GELU; GPT's
// embeddings + blocks + final norm + head). Parameters come as a map from
// PyTorch-style names ("self_attn.in_proj_weight", "linear1.weight", …) to
// lepton-layout values (a Linear's weight [in, out]), so the same map can be
// perturbed entry by entry for finite differences.
import { mhaForward } from './mha.js';
import { probabilities } from './attention.js';
import { gelu } from './math.js';
import { norm } from './seq.js';

export type Params = Map<string, Float64Array>;

export interface BlockConfig {
  B: number; S: number; E: number; H: number; Hkv: number; F: number;
  causal: boolean; rms: boolean; eps: number; bias: boolean;
}

/** y[r, :] = act(x[r, :]·W + b) for `rows` rows, W [k, n]. */
function dense(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | undefined, rows: number, k: number, n: number, act?: (v: number) => number) {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      let s = b ? b[j] : 0;
      for (let e = 0; e < k; e++) s += x[r * k + e] * w[e * n + j];
      y[r * n + j] = act ? act(s) : s;
    }
  }
  return y;
}

function layerNormOf(p: Params, prefix: string, x: ArrayLike<number>, rows: number, E: number, c: { rms: boolean; eps: number }) {
  return norm(x, p.get(`${prefix}.weight`) ?? null, p.get(`${prefix}.bias`) ?? null, rows, E, c.eps, c.rms).y;
}

/** One block: x + attn(norm1(x)), then + linear2(gelu(linear1(norm2(·)))); also each head's attention probabilities. */
export function blockForward(x: ArrayLike<number>, p: Params, c: BlockConfig, prefix = '') {
  const rows = c.B * c.S, E = c.E;
  const h1 = layerNormOf(p, `${prefix}norm1`, x, rows, E, c);
  const att = mhaForward(h1, {
    wIn: p.get(`${prefix}self_attn.in_proj_weight`)!, bIn: p.get(`${prefix}self_attn.in_proj_bias`) ?? null,
    wOut: p.get(`${prefix}self_attn.out_proj.weight`)!, bOut: p.get(`${prefix}self_attn.out_proj.bias`) ?? null,
  }, { B: c.B, S: c.S, E, H: c.H, Hkv: c.Hkv, causal: c.causal });
  const D = E / c.H;
  const { P } = probabilities(att.q, att.k, { B: c.B, H: c.H, Hkv: c.Hkv, Lq: c.S, Lk: c.S, D, scale: 1 / Math.sqrt(D), causal: c.causal, mask: null, lens: null });
  const x1 = Float64Array.from(x, (v, i) => v + att.y[i]);
  const h2 = layerNormOf(p, `${prefix}norm2`, x1, rows, E, c);
  const m = dense(h2, p.get(`${prefix}linear1.weight`)!, p.get(`${prefix}linear1.bias`), rows, E, c.F, gelu);
  const o = dense(m, p.get(`${prefix}linear2.weight`)!, p.get(`${prefix}linear2.bias`), rows, c.F, E);
  return { y: Float64Array.from(x1, (v, i) => v + o[i]), P };
}

export interface LMConfig extends Omit<BlockConfig, 'causal'> { V: number; layers: number }

/** Logits [B, S, V] of token ids [B·S]: embeddings + positions, causal blocks "layers.i.", final "norm", "lm_head". */
export function lmForward(ids: ArrayLike<number>, p: Params, c: LMConfig) {
  const rows = c.B * c.S, E = c.E;
  const tok = p.get('token_embedding.weight')!, pos = p.get('position_embedding.weight')!;
  let x = new Float64Array(rows * E);
  for (let b = 0; b < c.B; b++) {
    for (let s = 0; s < c.S; s++) for (let e = 0; e < E; e++) x[(b * c.S + s) * E + e] = tok[ids[b * c.S + s] * E + e] + pos[s * E + e];
  }
  const P: Float64Array[] = [];
  for (let l = 0; l < c.layers; l++) {
    const out = blockForward(x, p, { ...c, causal: true }, `layers.${l}.`);
    x = out.y;
    P.push(out.P);
  }
  const h = layerNormOf(p, 'norm', x, rows, E, c);
  return { logits: dense(h, p.get('lm_head.weight')!, p.get('lm_head.bias'), rows, E, c.V), P };
}

/**
 * Central differences of <g, f(params)> with respect to every entry of the
 * parameters named in `names` (float64 throughout: h = 1e-6 leaves ~1e-9
 * relative error on these smooth functions).
 */
export function paramGradients(p: Params, names: string[], g: ArrayLike<number>, f: (p: Params) => ArrayLike<number>): Map<string, Float64Array> {
  const h = 1e-6, out = new Map<string, Float64Array>();
  const dot = (y: ArrayLike<number>) => { let s = 0; for (let i = 0; i < y.length; i++) s += g[i] * y[i]; return s; };
  for (const name of names) {
    const v = p.get(name)!, d = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const orig = v[i];
      v[i] = orig + h;
      const up = dot(f(p));
      v[i] = orig - h;
      const down = dot(f(p));
      v[i] = orig;
      d[i] = (up - down) / (2 * h);
    }
    out.set(name, d);
  }
  return out;
}
