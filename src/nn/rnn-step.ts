// One time step of the Elman RNN, LSTM and GRU, composed from existing ops,
// shared by the layers (rnn.ts) and the cells (rnn-cell.ts). Weights are in
// PyTorch's layout ([gates·hidden, in]); the step reads the hidden weights
// already transposed ([hidden, gates·hidden]) so that the per-step product is
// one plain [B, H]·[H, G] matmul, the transpose made once per forward.
import { tensor } from '../creation.js';
import { add, mul, relu, sigmoid, sub, tanh } from '../ops/elementwise.js';
import { linear } from '../ops/linear.js';
import { matmul } from '../ops/matmul.js';
import { narrow } from '../ops/slice.js';
import type { DeviceName } from '../backends/backend.js';
import { fail } from '../errors.js';
import { describe } from '../options.js';
import { generatorFor, type Generator } from '../random.js';
import type { Tensor } from '../tensor.js';

export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** Gates per hidden unit, in PyTorch's order: LSTM i, f, g, o; GRU r, z, n. */
export const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/**
 * What a recurrent layer and a cell both check when built (positive integer
 * sizes; `seed` or `generator`, not both); returns the generator their
 * parameters are drawn from.
 */
export function recurrentGenerator(op: string, inputSize: number, hiddenSize: number,
  opts: { seed?: number; generator?: Generator }): Generator {
  for (const [name, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize]] as const) {
    if (!Number.isInteger(v) || v <= 0) fail(op, `argument '${name}' must be a positive integer, got ${describe(v)}`);
  }
  if (opts.seed !== undefined && opts.generator) fail(op, `give 'seed' or 'generator', not both`);
  return opts.generator ?? generatorFor(opts.seed);
}

/** PyTorch's initialisation of every recurrent weight and bias: U(−1/√hidden, 1/√hidden). */
export function uniformParam(shape: number[], hidden: number, g: Generator, device?: DeviceName): Tensor {
  const n = shape.reduce((a, b) => a * b, 1), k = 1 / Math.sqrt(hidden);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (2 * g.next() - 1) * k;
  return tensor(v, shape, { requiresGrad: true, device });
}

/**
 * The bias folded into the input projection: b_ih + b_hh for the RNN and
 * LSTM, where the two always add; b_ih alone for the GRU, whose b_hn sits
 * inside r ∘ (W_hn h + b_hn) and so goes with the hidden product.
 */
export function inputBias(mode: RNNMode, bih: Tensor | null, bhh: Tensor | null): Tensor | null {
  if (!bih || !bhh) return null;
  return mode === 'GRU' ? bih : add(bih, bhh);
}

/** The recurrent state: h, and c for the LSTM. */
export interface State { h: Tensor; c: Tensor | null }

/**
 * One step: `xp` is the input projection of this step, [B, G·H], with the
 * input bias already added (inputBias); `whhT` is W_hhᵀ [H, G·H]; `bhh` the
 * hidden bias (used only by the GRU). A missing initial state is passed as
 * zeros, not skipped, so W_hh gets its (zero) gradient at T = 1 as in PyTorch.
 */
export function step(mode: RNNMode, xp: Tensor, s: State, whhT: Tensor, bhh: Tensor | null, H: number): State {
  if (mode === 'GRU') return gruStep(xp, s, whhT, bhh, H);
  const gates = add(xp, matmul(s.h, whhT));
  if (mode === 'RNN_TANH') return { h: tanh(gates), c: null };
  if (mode === 'RNN_RELU') return { h: relu(gates), c: null };
  // LSTM: i, f, o through the sigmoid, g through tanh; c' = f ∘ c + i ∘ g, h' = o ∘ tanh(c').
  const i = sigmoid(narrow(gates, 1, 0, H));
  const g = tanh(narrow(gates, 1, 2 * H, H));
  const o = sigmoid(narrow(gates, 1, 3 * H, H));
  const ig = mul(i, g);
  const c = add(mul(sigmoid(narrow(gates, 1, H, H)), s.c!), ig);
  return { h: mul(o, tanh(c)), c };
}

// GRU: r, z = σ(x_rz + W_h{r,z} h + b_h{r,z}); n = tanh(x_n + r ∘ (W_hn h + b_hn)); h' = n + z ∘ (h − n).
function gruStep(xp: Tensor, s: State, whhT: Tensor, bhh: Tensor | null, H: number): State {
  const gh = linear(s.h, whhT, bhh);
  const rz = sigmoid(add(narrow(xp, 1, 0, 2 * H), narrow(gh, 1, 0, 2 * H)));
  const r = narrow(rz, 1, 0, H), z = narrow(rz, 1, H, H);
  const n = tanh(add(narrow(xp, 1, 2 * H, H), mul(r, narrow(gh, 1, 2 * H, H))));
  // h' = (1 − z) ∘ n + z ∘ h, written n + z ∘ (h − n): one multiply fewer.
  return { h: add(n, mul(z, sub(s.h, n))), c: null };
}
