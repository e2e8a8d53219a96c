// Float64 reference for the recurrent nets (Elman RNN, LSTM, GRU; layers,
// directions): the forward written from PyTorch's documented equations, and
// backprop through time derived by hand, step by step in reverse. Plain
// loops over time-major [T, B, features] arrays; independent of the library.
//
//   RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)
//   LSTM: a = W_ih x + b_ih + W_hh h + b_hh = [a_i, a_f, a_g, a_o]
//         i, f, o = σ(a_i, a_f, a_o), g = tanh(a_g), c' = f c + i g, h' = o tanh(c')
//   GRU:  x̃ = W_ih x + b_ih, h̃ = W_hh h + b_hh (each [r, z, n] parts)
//         r = σ(x̃_r + h̃_r), z = σ(x̃_z + h̃_z), n = tanh(x̃_n + r h̃_n), h' = (1 − z) n + z h

export type Mode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';
export const GATES: Record<Mode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/** One layer-direction's parameters: wih [G·H, in], whh [G·H, H], biases [G·H] or null. */
export interface RefCell { wih: Float64Array; whh: Float64Array; bih: Float64Array | null; bhh: Float64Array | null; inSize: number }
export interface RefNet { mode: Mode; H: number; L: number; D: number; cells: RefCell[] }

const sig = (v: number) => 1 / (1 + Math.exp(-v));

/** y[r] = Σ_c W[r, c] v[c] + b[r] over rows 0..rows-1. */
function affine(W: Float64Array, v: ArrayLike<number>, vOff: number, cols: number, rows: number, b: Float64Array | null): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = b ? b[r] : 0;
    for (let c = 0; c < cols; c++) s += W[r * cols + c] * v[vOff + c];
    y[r] = s;
  }
  return y;
}

/** What one step keeps for its backward (per batch row). */
type F64 = Float64Array<ArrayBufferLike>;
interface StepRec { x: F64; h: F64; c: F64 | null; gx: F64; gh: F64; hOut: F64; cOut: F64 | null }

function stepFwd(net: RefNet, p: RefCell, x: Float64Array, h: Float64Array, c: Float64Array | null): StepRec {
  const H = net.H, G = GATES[net.mode] * H;
  const gx = affine(p.wih, x, 0, p.inSize, G, p.bih), gh = affine(p.whh, h, 0, H, G, p.bhh);
  const hOut = new Float64Array(H);
  let cOut: Float64Array | null = null;
  if (net.mode === 'RNN_TANH' || net.mode === 'RNN_RELU') {
    for (let j = 0; j < H; j++) { const a = gx[j] + gh[j]; hOut[j] = net.mode === 'RNN_TANH' ? Math.tanh(a) : Math.max(a, 0); }
  } else if (net.mode === 'LSTM') {
    cOut = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const a = (k: number) => gx[k * H + j] + gh[k * H + j];
      const i = sig(a(0)), f = sig(a(1)), g = Math.tanh(a(2)), o = sig(a(3));
      cOut[j] = f * c![j] + i * g;
      hOut[j] = o * Math.tanh(cOut[j]);
    }
  } else {
    for (let j = 0; j < H; j++) {
      const r = sig(gx[j] + gh[j]), z = sig(gx[H + j] + gh[H + j]), n = Math.tanh(gx[2 * H + j] + r * gh[2 * H + j]);
      hOut[j] = (1 - z) * n + z * h[j];
    }
  }
  return { x, h, c, gx, gh, hOut, cOut };
}

/** Gradients of one step: accumulates into the cell's parameter gradients, returns d(x), d(h), d(c). */
function stepBwd(net: RefNet, p: RefCell, s: StepRec, dhOut: Float64Array, dcOut: Float64Array | null, dp: RefCell) {
  const H = net.H, G = GATES[net.mode] * H;
  const dax = new Float64Array(G), dah = new Float64Array(G), dh = new Float64Array(H);
  let dc: Float64Array | null = null;
  if (net.mode === 'RNN_TANH' || net.mode === 'RNN_RELU') {
    for (let j = 0; j < H; j++) {
      const a = s.gx[j] + s.gh[j];
      dax[j] = dah[j] = dhOut[j] * (net.mode === 'RNN_TANH' ? 1 - Math.tanh(a) ** 2 : a > 0 ? 1 : 0);
    }
  } else if (net.mode === 'LSTM') {
    dc = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const a = (k: number) => s.gx[k * H + j] + s.gh[k * H + j];
      const i = sig(a(0)), f = sig(a(1)), g = Math.tanh(a(2)), o = sig(a(3)), tc = Math.tanh(s.cOut![j]);
      const dcT = dcOut![j] + dhOut[j] * o * (1 - tc * tc);
      dc[j] = dcT * f;
      dax[j] = dcT * g * i * (1 - i);
      dax[H + j] = dcT * s.c![j] * f * (1 - f);
      dax[2 * H + j] = dcT * i * (1 - g * g);
      dax[3 * H + j] = dhOut[j] * tc * o * (1 - o);
    }
    dah.set(dax);
  } else {
    for (let j = 0; j < H; j++) {
      const r = sig(s.gx[j] + s.gh[j]), z = sig(s.gx[H + j] + s.gh[H + j]);
      const n = Math.tanh(s.gx[2 * H + j] + r * s.gh[2 * H + j]);
      const dn = dhOut[j] * (1 - z), dz = dhOut[j] * (s.h[j] - n);
      dh[j] += dhOut[j] * z;
      const dan = dn * (1 - n * n);
      dax[2 * H + j] = dan;
      dah[2 * H + j] = dan * r;
      const dr = dan * s.gh[2 * H + j];
      dax[j] = dah[j] = dr * r * (1 - r);
      dax[H + j] = dah[H + j] = dz * z * (1 - z);
    }
  }
  const I = p.inSize, dx = new Float64Array(I);
  for (let r = 0; r < G; r++) {
    for (let c = 0; c < I; c++) { dp.wih[r * I + c] += dax[r] * s.x[c]; dx[c] += p.wih[r * I + c] * dax[r]; }
    for (let c = 0; c < H; c++) { dp.whh[r * H + c] += dah[r] * s.h[c]; dh[c] += p.whh[r * H + c] * dah[r]; }
    if (dp.bih) dp.bih[r] += dax[r];
    if (dp.bhh) dp.bhh[r] += dah[r];
  }
  return { dx, dh, dc };
}

const rowOf = (a: ArrayLike<number>, off: number, n: number) => Float64Array.from({ length: n }, (_, i) => a[off + i]);

/**
 * Forward over time-major x [T, B, I] with h0 / c0 [L·D, B, H] (null: zeros).
 * Returns out [T, B, D·H], hN and cN [L·D, B, H] (cN only for the LSTM), and the tape for rnnVjp.
 */
export function rnnForward(net: RefNet, x: ArrayLike<number>, T: number, B: number, h0: ArrayLike<number> | null, c0: ArrayLike<number> | null) {
  const { H, L, D } = net, lstm = net.mode === 'LSTM';
  const hN = new Float64Array(L * D * B * H), cN = new Float64Array(lstm ? L * D * B * H : 0);
  const tape: StepRec[][][] = []; // [layer·D + d][b][t]
  let inp = Float64Array.from(x), inSize = net.cells[0].inSize;
  const inputs: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    inputs.push(inp);
    const out = new Float64Array(T * B * D * H);
    for (let d = 0; d < D; d++) {
      const k = l * D + d, p = net.cells[k], recs: StepRec[][] = [];
      for (let b = 0; b < B; b++) {
        let h: F64 = h0 ? rowOf(h0, (k * B + b) * H, H) : new Float64Array(H);
        let c: F64 | null = lstm ? (c0 ? rowOf(c0, (k * B + b) * H, H) : new Float64Array(H)) : null;
        const rb: StepRec[] = new Array(T);
        for (let i = 0; i < T; i++) {
          const t = d ? T - 1 - i : i;
          const s = stepFwd(net, p, rowOf(inp, (t * B + b) * inSize, inSize), h, c);
          rb[t] = s;
          h = s.hOut; c = s.cOut;
          out.set(h, (t * B + b) * D * H + d * H);
        }
        hN.set(h, (k * B + b) * H);
        if (lstm) cN.set(c!, (k * B + b) * H);
        recs.push(rb);
      }
      tape.push(recs);
    }
    inp = out; inSize = D * H;
  }
  return { out: inp, hN, cN: lstm ? cN : null, tape };
}

/** Zero gradients shaped like the net's parameters. */
export function zeroGrads(net: RefNet): RefCell[] {
  const z = (a: Float64Array | null) => (a ? new Float64Array(a.length) : null);
  return net.cells.map((p) => ({ wih: z(p.wih)!, whh: z(p.whh)!, bih: z(p.bih), bhh: z(p.bhh), inSize: p.inSize }));
}

/**
 * Backprop through time of <gOut, out> + <gh, hN> + <gc, cN>: gradients of
 * x [T, B, I], h0, c0 [L·D, B, H] and every parameter.
 */
export function rnnVjp(net: RefNet, x: ArrayLike<number>, T: number, B: number, h0: ArrayLike<number> | null, c0: ArrayLike<number> | null,
  gOut: ArrayLike<number>, gh: ArrayLike<number>, gc: ArrayLike<number> | null) {
  const { H, L, D } = net, lstm = net.mode === 'LSTM';
  const { tape } = rnnForward(net, x, T, B, h0, c0);
  const grads = zeroGrads(net);
  const dh0 = new Float64Array(L * D * B * H), dc0 = new Float64Array(L * D * B * H);
  let dOut = Float64Array.from(gOut); // gradient of this layer's output [T, B, D·H]
  for (let l = L - 1; l >= 0; l--) {
    const inSize = net.cells[l * D].inSize, dIn = new Float64Array(T * B * inSize);
    for (let d = 0; d < D; d++) {
      const k = l * D + d, p = net.cells[k];
      for (let b = 0; b < B; b++) {
        let dh: F64 = rowOf(gh, (k * B + b) * H, H);
        let dc: F64 | null = lstm ? rowOf(gc!, (k * B + b) * H, H) : null;
        // Reverse of the processing order: the forward direction from T − 1 down, the reverse one from 0 up.
        for (let i = T - 1; i >= 0; i--) {
          const t = d ? T - 1 - i : i, s = tape[k][b][t];
          for (let j = 0; j < H; j++) dh[j] += dOut[(t * B + b) * D * H + d * H + j];
          const r = stepBwd(net, p, s, dh, dc, grads[k]);
          for (let c = 0; c < inSize; c++) dIn[(t * B + b) * inSize + c] += r.dx[c];
          dh = r.dh; dc = r.dc;
        }
        dh0.set(dh, (k * B + b) * H);
        if (lstm) dc0.set(dc!, (k * B + b) * H);
      }
    }
    dOut = dIn;
  }
  return { dx: dOut, dh0, dc0: lstm ? dc0 : null, grads };
}

/** A [T, B, F] array as [B, T, F] (or back: the permutation is its own inverse with T and B swapped). */
export function swap01(a: ArrayLike<number>, T: number, B: number, F: number): Float64Array {
  const o = new Float64Array(T * B * F);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) o[(b * T + t) * F + f] = a[(t * B + b) * F + f];
  return o;
}
