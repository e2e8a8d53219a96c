// Naive float64 references for convolution and pooling (NHWC input, HWIO
// filter), written from the definitions: the forward as a direct sum, the
// input and filter gradients as scatters (each product x·w·dy added to the
// element it came from), so they share no indexing with the kernels' gathers.
import * as m from './math.js';
import type { Nd } from './ops.js';

export interface ConvGeom {
  N: number; H: number; W: number; C: number; Ho: number; Wo: number; O: number;
  Kh: number; Kw: number; sh: number; sw: number; dh: number; dw: number;
  padTop: number; padLeft: number; groups: number;
}

const xAt = (g: ConvGeom, n: number, ih: number, iw: number, c: number) => ((n * g.H + ih) * g.W + iw) * g.C + c;
const yAt = (g: ConvGeom, n: number, oh: number, ow: number, o: number) => ((n * g.Ho + oh) * g.Wo + ow) * g.O + o;
const wAt = (g: ConvGeom, kh: number, kw: number, ci: number, o: number) => ((kh * g.Kw + kw) * (g.C / g.groups) + ci) * g.O + o;

/** Calls f(n, oh, ow, o, xIndex, wIndex) for every product term of the convolution (padding skipped). */
function eachTerm(g: ConvGeom, f: (yi: number, xi: number, wi: number) => void): void {
  const Cg = g.C / g.groups, Og = g.O / g.groups;
  for (let n = 0; n < g.N; n++) for (let oh = 0; oh < g.Ho; oh++) for (let ow = 0; ow < g.Wo; ow++) {
    for (let o = 0; o < g.O; o++) {
      const grp = Math.floor(o / Og);
      for (let kh = 0; kh < g.Kh; kh++) {
        const ih = oh * g.sh - g.padTop + kh * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        for (let kw = 0; kw < g.Kw; kw++) {
          const iw = ow * g.sw - g.padLeft + kw * g.dw;
          if (iw < 0 || iw >= g.W) continue;
          for (let ci = 0; ci < Cg; ci++) f(yAt(g, n, oh, ow, o), xAt(g, n, ih, iw, grp * Cg + ci), wAt(g, kh, kw, ci, o));
        }
      }
    }
  }
}

/** act(conv(x, w) + bias); with `abs`, |x|·|w| + |bias| before any activation (the scale of the terms). */
export function conv2d(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null, g: ConvGeom,
  act = 'none', abs = false): Float64Array {
  const a = abs ? Math.abs : (v: number) => v;
  const y = new Float64Array(g.N * g.Ho * g.Wo * g.O);
  eachTerm(g, (yi, xi, wi) => { y[yi] += a(x[xi]) * a(w[wi]); });
  if (bias) for (let i = 0; i < y.length; i++) y[i] += a(bias[i % g.O]);
  return abs || act === 'none' ? y : y.map((v) => m.activation(act, v));
}

/** What float32 is accurate to after the activation: |act'(z)|·S + |act(z)| with S the terms' scale (as matmulScale). */
export function conv2dScale(x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null, g: ConvGeom, act: string): Float64Array {
  const s = conv2d(x, w, bias, g, 'none', true);
  if (act === 'none') return s;
  const z = conv2d(x, w, bias, g);
  return s.map((v, i) => Math.abs(m.activationGrad(act, z[i])) * v + Math.abs(m.activation(act, z[i])));
}

/** dy read as op(t, dy) (an activation derivative), or dy itself. */
export function prologued(dy: ArrayLike<number>, pro?: { op: string; t: ArrayLike<number> } | null, scale = false): Float64Array {
  return Float64Array.from(dy, (v, i) => (pro ? (scale ? m.binaryScale(pro.op, pro.t[i], v) : m.binary(pro.op, pro.t[i], v)) : scale ? Math.abs(v) : v));
}

/** The input gradient, by scattering each dy·w into the x element it multiplied; `abs` sums |terms|. */
export function conv2dBackwardData(dy: ArrayLike<number>, w: ArrayLike<number>, g: ConvGeom, abs = false): Float64Array {
  const a = abs ? Math.abs : (v: number) => v;
  const dx = new Float64Array(g.N * g.H * g.W * g.C);
  eachTerm(g, (yi, xi, wi) => { dx[xi] += a(dy[yi]) * a(w[wi]); });
  return dx;
}

/** The filter gradient, by scattering each x·dy into the w element it multiplied. */
export function conv2dBackwardFilter(x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeom, abs = false): Float64Array {
  const a = abs ? Math.abs : (v: number) => v;
  const dw = new Float64Array(g.Kh * g.Kw * (g.C / g.groups) * g.O);
  eachTerm(g, (yi, xi, wi) => { dw[wi] += a(x[xi]) * a(dy[yi]); });
  return dw;
}

/** Σ over pixels of dy, per output channel (the bias gradient). */
export function biasGrad(dy: ArrayLike<number>, O: number, abs = false): Float64Array {
  const s = new Float64Array(O);
  for (let i = 0; i < dy.length; i++) s[i % O] += abs ? Math.abs(dy[i]) : dy[i];
  return s;
}

// ---- pooling ----------------------------------------------------------

export interface PoolGeom {
  N: number; H: number; W: number; C: number; Ho: number; Wo: number;
  Kh: number; Kw: number; sh: number; sw: number; padTop: number; padLeft: number;
  /** Max pooling's dilation (default 1). */
  dh?: number; dw?: number;
}

/**
 * Each window's real input positions (x indices, in window order) for output
 * index yi, and how many of its positions lie within the padded input
 * (PyTorch: hend = min(hstart + K, H + pad); a ceil-mode window can run past it).
 */
function windows(g: PoolGeom, f: (yi: number, xs: number[], pos: number[], padded: number) => void): void {
  for (let n = 0; n < g.N; n++) for (let oh = 0; oh < g.Ho; oh++) for (let ow = 0; ow < g.Wo; ow++) for (let c = 0; c < g.C; c++) {
    const xs: number[] = [], pos: number[] = [];
    const h0 = oh * g.sh - g.padTop, w0 = ow * g.sw - g.padLeft;
    const padded = (Math.min(h0 + g.Kh, g.H + g.padTop) - h0) * (Math.min(w0 + g.Kw, g.W + g.padLeft) - w0);
    for (let kh = 0; kh < g.Kh; kh++) for (let kw = 0; kw < g.Kw; kw++) {
      const ih = oh * g.sh - g.padTop + kh * (g.dh ?? 1), iw = ow * g.sw - g.padLeft + kw * (g.dw ?? 1);
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
      xs.push(((n * g.H + ih) * g.W + iw) * g.C + c);
      pos.push(kh * g.Kw + kw);
    }
    f(((n * g.Ho + oh) * g.Wo + ow) * g.C + c, xs, pos, padded);
  }
}

/** Window maxima and which x element won: the first maximum, or the first NaN (as PyTorch propagates NaN). */
export function maxPool(x: ArrayLike<number>, g: PoolGeom): { y: Float64Array; from: Int32Array; pos: Float64Array } {
  const n = g.N * g.Ho * g.Wo * g.C;
  const y = new Float64Array(n).fill(-Infinity), from = new Int32Array(n).fill(-1), pos = new Float64Array(n).fill(-1);
  windows(g, (yi, xs, ps) => {
    xs.forEach((xi, k) => {
      const v = x[xi];
      if (Number.isNaN(y[yi])) return;
      if (v > y[yi] || Number.isNaN(v)) { y[yi] = v; from[yi] = xi; pos[yi] = ps[k]; }
    });
  });
  return { y, from, pos };
}

export function maxPoolBackward(x: ArrayLike<number>, dy: ArrayLike<number>, g: PoolGeom): Float64Array {
  const { from } = maxPool(x, g);
  const dx = new Float64Array(g.N * g.H * g.W * g.C);
  from.forEach((xi, yi) => { if (xi >= 0) dx[xi] += dy[yi]; });
  return dx;
}


export function avgPool(x: ArrayLike<number>, g: PoolGeom, includePad: boolean, abs = false): Float64Array {
  const y = new Float64Array(g.N * g.Ho * g.Wo * g.C);
  windows(g, (yi, xs, _, padded) => {
    let s = 0;
    for (const xi of xs) s += abs ? Math.abs(x[xi]) : x[xi];
    y[yi] = s / (includePad ? padded : xs.length);
  });
  return y;
}

export function avgPoolBackward(dy: ArrayLike<number>, g: PoolGeom, includePad: boolean, abs = false): Float64Array {
  const dx = new Float64Array(g.N * g.H * g.W * g.C);
  windows(g, (yi, xs, _, padded) => {
    for (const xi of xs) dx[xi] += (abs ? Math.abs(dy[yi]) : dy[yi]) / (includePad ? padded : xs.length);
  });
  return dx;
}

// ---- the ops, on Nd (forward and hand-derived VJP) ----------------------

type Dims = number | readonly number[];
export interface ConvOpts { stride?: Dims; padding?: 'valid' | 'same' | Dims; dilation?: Dims; groups?: number }

const pair = (v: Dims | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** The geometry of conv2d(x, w, opts) from the definitions: TensorFlow's rule for 'same' (extra padding at the bottom/right). */
export function convGeom(xs: number[], ws: number[], o: ConvOpts = {}): ConvGeom {
  const [N, H, W, C] = xs, [Kh, Kw, , O] = ws;
  const [sh, sw] = pair(o.stride, 1), [dh, dw] = pair(o.dilation, 1);
  const eh = (Kh - 1) * dh + 1, ew = (Kw - 1) * dw + 1;
  let pads: number[];
  if (o.padding === 'same') {
    const th = Math.max((Math.ceil(H / sh) - 1) * sh + eh - H, 0), tw = Math.max((Math.ceil(W / sw) - 1) * sw + ew - W, 0);
    pads = [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  } else if (o.padding === undefined || o.padding === 'valid') pads = [0, 0, 0, 0];
  else if (typeof o.padding === 'number') pads = [o.padding, o.padding, o.padding, o.padding];
  else if (o.padding.length === 2) pads = [o.padding[0], o.padding[0], o.padding[1], o.padding[1]];
  else pads = [...o.padding];
  const Ho = Math.floor((H + pads[0] + pads[1] - eh) / sh) + 1, Wo = Math.floor((W + pads[2] + pads[3] - ew) / sw) + 1;
  return { N, H, W, C, Ho, Wo, O, Kh, Kw, sh, sw, dh, dw, padTop: pads[0], padLeft: pads[2], groups: o.groups ?? 1 };
}

export function conv2dForward(x: Nd, w: Nd, b: Nd | null, o: ConvOpts, act = 'none', abs = false): Nd {
  const g = convGeom(x.shape, w.shape, o);
  const data = abs ? conv2dScale(x.data, w.data, b?.data ?? null, g, act) : conv2d(x.data, w.data, b?.data ?? null, g, act);
  return { data, shape: [g.N, g.Ho, g.Wo, g.O] };
}

/** [dx, dw, db?] of <g, act(conv(x, w) + b)>; with `abs`, the scale of each gradient's terms. */
export function conv2dVjp(x: Nd, w: Nd, b: Nd | null, o: ConvOpts, act: string, gy: Nd, abs = false): Nd[] {
  const g = convGeom(x.shape, w.shape, o);
  const z = conv2d(x.data, w.data, b?.data ?? null, g);
  const dz = Float64Array.from(gy.data, (v, i) => {
    const d = v * m.activationGrad(act, z[i]);
    return abs ? (act === 'gelu' ? Math.abs(v) * m.geluGradScale(z[i]) : Math.abs(d)) : d;
  });
  const out = [
    { data: conv2dBackwardData(dz, w.data, g, abs), shape: x.shape },
    { data: conv2dBackwardFilter(x.data, dz, g, abs), shape: w.shape },
  ];
  if (b) out.push({ data: biasGrad(dz, g.O, abs), shape: b.shape });
  return out;
}

export interface PoolOpts { kernelSize: Dims; stride?: Dims; padding?: Dims; ceilMode?: boolean; dilation?: Dims; countIncludePad?: boolean }

/**
 * PyTorch's pooling_output_shape: ⌊(n + 2p − K + (ceil ? s − 1 : 0)) / s⌋ + 1,
 * less one in ceil mode when the last window would start at or past n + p.
 */
export function poolOut(n: number, K: number, s: number, p: number, ceil = false): number {
  let out = Math.floor((n + 2 * p - K + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= n + p) out -= 1;
  return out;
}

export function poolGeom(xs: number[], o: PoolOpts): PoolGeom {
  const [N, H, W, C] = xs;
  const [Kh, Kw] = pair(o.kernelSize, 1), [sh, sw] = o.stride === undefined ? [Kh, Kw] : pair(o.stride, 1), [ph, pw] = pair(o.padding, 0);
  const [dh, dw] = pair(o.dilation, 1);
  return { N, H, W, C, Kh, Kw, sh, sw, padTop: ph, padLeft: pw, dh, dw,
    Ho: poolOut(H, (Kh - 1) * dh + 1, sh, ph, o.ceilMode), Wo: poolOut(W, (Kw - 1) * dw + 1, sw, pw, o.ceilMode) };
}

// ---- transposed convolution (the scatter definition) -------------------

export interface ConvTOpts { stride?: Dims; padding?: Dims; outputPadding?: Dims; dilation?: Dims; groups?: number }

/**
 * y = convTranspose2d(x [N, H, W, C], w [Kh, Kw, O / groups, C], b) from PyTorch's
 * definition: input pixel (i, j) adds x·w into output row i·s − p + kh·d (column
 * likewise) of its group's channels; Ho = (H − 1)·s − 2p + d·(Kh − 1) + op + 1.
 * Returns y and, for a VJP, the gradients of <gy, y>; with `abs`, the scale of the terms.
 */
export function convTranspose2dRef(x: Nd, w: Nd, b: Nd | null, o: ConvTOpts, gy?: Nd, abs = false) {
  const [N, H, W, C] = x.shape, [Kh, Kw, Og, ] = w.shape, G = o.groups ?? 1, Cg = C / G, O = Og * G;
  const [sh, sw] = pair(o.stride, 1), [ph, pw] = pair(o.padding, 0), [oph, opw] = pair(o.outputPadding, 0), [dh, dw] = pair(o.dilation, 1);
  const Ho = (H - 1) * sh - 2 * ph + dh * (Kh - 1) + oph + 1, Wo = (W - 1) * sw - 2 * pw + dw * (Kw - 1) + opw + 1;
  const f = (v: number) => (abs ? Math.abs(v) : v);
  const y = new Float64Array(N * Ho * Wo * O), dx = new Float64Array(x.data.length), dwt = new Float64Array(w.data.length), db = new Float64Array(O);
  for (let n = 0; n < N; n++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let c = 0; c < C; c++) {
    const xv = f(x.data[((n * H + i) * W + j) * C + c]), grp = Math.floor(c / Cg);
    for (let kh = 0; kh < Kh; kh++) {
      const oh = i * sh - ph + kh * dh;
      if (oh < 0 || oh >= Ho) continue;
      for (let kw = 0; kw < Kw; kw++) {
        const ow = j * sw - pw + kw * dw;
        if (ow < 0 || ow >= Wo) continue;
        for (let co = 0; co < Og; co++) {
          const wi = ((kh * Kw + kw) * Og + co) * C + c, yi = ((n * Ho + oh) * Wo + ow) * O + grp * Og + co;
          y[yi] += xv * f(w.data[wi]);
          if (gy) {
            dx[((n * H + i) * W + j) * C + c] += f(gy.data[yi]) * f(w.data[wi]);
            dwt[wi] += xv * f(gy.data[yi]);
          }
        }
      }
    }
  }
  if (b) for (let k = 0; k < y.length; k++) y[k] += f(b.data[k % O]);
  if (gy) for (let k = 0; k < gy.data.length; k++) db[k % O] += f(gy.data[k]);
  return { y: { data: y, shape: [N, Ho, Wo, O] }, dx: { data: dx, shape: x.shape }, dw: { data: dwt, shape: w.shape }, db: { data: db, shape: [O] } };
}
