// Float64 reference of scaled dot-product attention, unfused: every score,
// every probability, then the weighted sum, as softmax(Q·Kᵀ·scale + mask)·V
// with the causal and key-length masks leaving keys out. The VJP is derived
// by hand from the same formulas. Written from the math, not from the kernels.

export interface AttnConfig {
  B: number; H: number; Hkv: number; Lq: number; Lk: number; D: number;
  scale: number; causal: boolean;
  /** Additive mask at mask[b·sB + h·sH + i·sQ + j·sK]. */
  mask: { data: ArrayLike<number>; strides: readonly number[] } | null;
  /** Keys visible per batch entry. */
  lens: ArrayLike<number> | null;
}

/** The probabilities P[b, h, i, j] (0 where masked; a row with no visible key is all 0) and the lse. */
export function probabilities(q: ArrayLike<number>, k: ArrayLike<number>, c: AttnConfig): { P: Float64Array; lse: Float64Array } {
  const { B, H, Hkv, Lq, Lk, D } = c;
  const G = H / Hkv;
  const P = new Float64Array(B * H * Lq * Lk), lse = new Float64Array(B * H * Lq);
  const s = new Float64Array(Lk);
  for (let b = 0; b < B; b++) {
    const len = c.lens ? c.lens[b] : Lk;
    for (let h = 0; h < H; h++) {
      const kh = b * Hkv + Math.floor(h / G);
      for (let i = 0; i < Lq; i++) {
        const row = (b * H + h) * Lq + i;
        let mx = -Infinity;
        for (let j = 0; j < Lk; j++) {
          if (j >= len || (c.causal && j > i)) { s[j] = -Infinity; continue; }
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[row * D + d] * k[(kh * Lk + j) * D + d];
          s[j] = dot * c.scale + (c.mask ? c.mask.data[b * c.mask.strides[0] + h * c.mask.strides[1] + i * c.mask.strides[2] + j * c.mask.strides[3]] : 0);
          mx = Math.max(mx, s[j]);
        }
        if (mx === -Infinity) { lse[row] = Infinity; continue; }
        let sum = 0;
        for (let j = 0; j < Lk; j++) sum += Math.exp(s[j] - mx);
        for (let j = 0; j < Lk; j++) P[row * Lk + j] = Math.exp(s[j] - mx) / sum;
        lse[row] = mx + Math.log(sum);
      }
    }
  }
  return { P, lse };
}

/** out = P·V; with `abs`, P·|V| (the scale of the terms the output sums). */
export function attentionForward(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, c: AttnConfig, abs = false) {
  const { B, H, Hkv, Lq, Lk, D } = c;
  const G = H / Hkv;
  const { P, lse } = probabilities(q, k, c);
  const out = new Float64Array(B * H * Lq * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kh = b * Hkv + Math.floor(h / G);
      for (let i = 0; i < Lq; i++) {
        const row = (b * H + h) * Lq + i;
        for (let j = 0; j < Lk; j++) {
          const p = P[row * Lk + j];
          if (p === 0) continue;
          for (let d = 0; d < D; d++) {
            const x = v[(kh * Lk + j) * D + d];
            out[row * D + d] += p * (abs ? Math.abs(x) : x);
          }
        }
      }
    }
  }
  return { out, lse, P };
}

/**
 * Gradients of <g, out> with respect to q, k, v and the pre-softmax scores
 * (dbias, [B, H, Lq, Lk]: a mask's gradient before summing over its
 * broadcast axes). With `abs`, each sum of products becomes a sum of
 * absolute values: the scale float32 results are accurate to.
 */
export function attentionVjp(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, c: AttnConfig, g: ArrayLike<number>, abs = false) {
  const { B, H, Hkv, Lq, Lk, D } = c;
  const G = H / Hkv;
  const f = abs ? Math.abs : (x: number) => x;
  const { P } = probabilities(q, k, c);
  const dq = new Float64Array(q.length), dk = new Float64Array(k.length), dv = new Float64Array(v.length);
  const dbias = new Float64Array(B * H * Lq * Lk);
  const dP = new Float64Array(Lk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kh = b * Hkv + Math.floor(h / G);
      for (let i = 0; i < Lq; i++) {
        const row = (b * H + h) * Lq + i;
        let Di = 0;
        for (let j = 0; j < Lk; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += f(g[row * D + d]) * f(v[(kh * Lk + j) * D + d]);
          dP[j] = s;
          Di += P[row * Lk + j] * s;
        }
        for (let j = 0; j < Lk; j++) {
          const p = P[row * Lk + j];
          const ds = p * (abs ? dP[j] + Di : dP[j] - Di);
          dbias[row * Lk + j] = ds;
          const kr = (kh * Lk + j) * D;
          for (let d = 0; d < D; d++) {
            dv[kr + d] += p * f(g[row * D + d]);
            dq[row * D + d] += f(c.scale) * ds * f(k[kr + d]);
            dk[kr + d] += f(c.scale) * ds * f(q[row * D + d]);
          }
        }
      }
    }
  }
  return { dq, dk, dv, dbias };
}
