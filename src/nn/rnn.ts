// nn.RNN, nn.LSTM and nn.GRU: multi-layer recurrent nets with PyTorch's
// parameter names, shapes, gate order, initialisation and (output, h_n)
// results, so weights port both ways. Composed from existing ops: per layer,
// direction and time step, one linear for the input ([B, in] × [in, G·H]),
// one [B, H] × [H, G·H] product for the state, and the gate arithmetic
// (rnn-step.ts). Backprop through time is the tape's.
import type { DeviceName } from '../backends/backend.js';
import { tensor, zeros } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { mul } from '../ops/elementwise.js';
import { linear } from '../ops/linear.js';
import { transpose } from '../ops/shape.js';
import { narrow } from '../ops/slice.js';
import { cat } from '../ops/concat.js';
import { bool, describe, device, finite, instanceOf, integer, number, oneOf, options, type OptionSpec } from '../options.js';
import { Generator } from '../random.js';
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { GATES, inputBias, recurrentGenerator, step, uniformParam, type RNNMode, type State } from './rnn-step.js';

export interface RNNOptions {
  /** Stacked layers; each later layer reads the previous one's output. Default 1. */
  numLayers?: number;
  /** Whether the layers have bias_ih / bias_hh. Default true. */
  bias?: boolean;
  /** Input and output as [batch, seq, feature] instead of [seq, batch, feature] (PyTorch's default, false). h_n is [layers·dirs, batch, hidden] either way. */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training only. Default 0. */
  dropout?: number;
  /** A second pass over the sequence backwards per layer; outputs are concatenated [forward, backward]. Default false. */
  bidirectional?: boolean;
  device?: DeviceName;
  /** Seeds the initial weights and the dropout masks. */
  seed?: number;
  /** A generator for the initial weights and the dropout masks (shared with other layers). */
  generator?: Generator;
}

export interface ElmanRNNOptions extends RNNOptions {
  /** The step's activation: 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

const COMMON: OptionSpec<RNNOptions> = {
  numLayers: integer(1), bias: bool, batchFirst: bool, dropout: number(0, 1), bidirectional: bool, device,
  seed: finite, generator: instanceOf(Generator, 'Generator'),
};
const ELMAN: OptionSpec<ElmanRNNOptions> = { ...COMMON, nonlinearity: oneOf('tanh', 'relu') };
/** PyTorch's spellings, so an error points at ours. */
export const RNN_ALIASES = { num_layers: 'numLayers', batch_first: 'batchFirst' };

/** A layer's and direction's parameters (PyTorch's weight_ih_l{k}{_reverse}, …). */
interface Cell { wih: Tensor; whh: Tensor; bih: Tensor | null; bhh: Tensor | null }

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  private readonly cells: Cell[] = [];
  private readonly gen: Generator;

  protected constructor(protected readonly op: string, readonly mode: RNNMode,
    readonly inputSize: number, readonly hiddenSize: number, opts: RNNOptions) {
    super();
    this.gen = recurrentGenerator(op, inputSize, hiddenSize, opts);
    this.numLayers = opts.numLayers ?? 1;
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    this.bidirectional = opts.bidirectional ?? false;
    const G = GATES[mode] * hiddenSize, H = hiddenSize, D = this.bidirectional ? 2 : 1;
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d ? '_reverse' : ''}`, inp = l === 0 ? inputSize : H * D;
        const p = (name: string, shape: number[]) => this.registerParameter(name + sfx, uniformParam(shape, H, this.gen, opts.device));
        const wih = p('weight_ih', [G, inp]), whh = p('weight_hh', [G, H]);
        const bih = this.bias ? p('bias_ih', [G]) : null, bhh = this.bias ? p('bias_hh', [G]) : null;
        this.cells.push({ wih, whh, bih, bhh });
      }
    }
  }

  /** The number of directions (2 when bidirectional). */
  private get dirs(): number { return this.bidirectional ? 2 : 1; }

  /** Checks x and the initial state; returns the batch size (0 for unbatched input) and sequence length. */
  private check(x: unknown, h0: unknown, c0: unknown, lstm: boolean): { B: number; T: number; unbatched: boolean } {
    const op = `${this.op}.forward`;
    if (!(x instanceof Tensor)) fail(op, `argument 'input' must be a Tensor, got ${describe(x)}`);
    if (x.rank !== 2 && x.rank !== 3) {
      fail(op, `argument 'input' must be 3-D ${this.batchFirst ? '[batch, seq, inputSize]' : '[seq, batch, inputSize]'} or 2-D [seq, inputSize] (unbatched), got ${fmtShape(x.shape)}`);
    }
    if (x.shape[x.rank - 1] !== this.inputSize) fail(op, `argument 'input' has ${x.shape[x.rank - 1]} features (shape ${fmtShape(x.shape)}); needs inputSize = ${this.inputSize}`);
    if (x.device !== this.device) fail(op, `argument 'input' is on ${x.device}; the layer's parameters are on ${this.device}`);
    const unbatched = x.rank === 2;
    const T = unbatched || !this.batchFirst ? x.shape[0] : x.shape[1];
    const B = unbatched ? 1 : this.batchFirst ? x.shape[0] : x.shape[1];
    if (T === 0 || B === 0) fail(op, `argument 'input' must have at least one time step and one sequence, got ${fmtShape(x.shape)}`);
    const need = unbatched ? [this.numLayers * this.dirs, this.hiddenSize] : [this.numLayers * this.dirs, B, this.hiddenSize];
    const names = lstm ? ['h0', 'c0'] : ['h0'];
    [h0, c0].slice(0, names.length).forEach((s, i) => {
      if (s === undefined || s === null) return;
      if (!(s instanceof Tensor)) fail(op, `argument '${names[i]}' must be a Tensor or null, got ${describe(s)}`);
      if (s.shape.length !== need.length || s.shape.some((d, j) => d !== need[j])) {
        fail(op, `argument '${names[i]}' has shape ${fmtShape(s.shape)}; needs ${fmtShape(need)} ([numLayers·directions, ${unbatched ? '' : 'batch, '}hiddenSize] for ${unbatched ? 'unbatched' : 'this'} input ${fmtShape(x.shape)})`);
      }
      if (s.device !== x.device) fail(op, `argument '${names[i]}' is on ${s.device}, input on ${x.device}`);
    });
    if (lstm && (h0 == null) !== (c0 == null)) fail(op, `argument 'hx' must give both h0 and c0, or neither`);
    return { B, T, unbatched };
  }

  /** The whole sequence through every layer: output [.., H·dirs], h_n and c_n [layers·dirs, B, H] (c_n null but for the LSTM). */
  protected run(x: Tensor, h0: Tensor | null | undefined, c0: Tensor | null | undefined): { out: Tensor; h: Tensor; c: Tensor | null } {
    const lstm = this.mode === 'LSTM';
    const { B, T, unbatched } = this.check(x, h0, c0, lstm);
    const H = this.hiddenSize, D = this.dirs, L = this.numLayers;
    // The time axis of every [.., .., features] tensor below: 1 only for batched batch-first input.
    const tAxis = this.batchFirst && !unbatched ? 1 : 0;
    return scope(() => {
      const x3 = unbatched ? x.reshape([T, 1, this.inputSize]) : x;
      // The layer's input, one [B, features] tensor per time step: the first layer's sliced from x, a later
      // layer's the steps' outputs themselves (never a slice of a [T, B, ·] tensor that needs a gradient:
      // narrow's gradient is the whole tensor, so T slices would cost O(T²) in the backward).
      let xs = Array.from({ length: T }, (_, t) => narrow(x3, tAxis, t, 1).reshape([B, this.inputSize]));
      const h0b = h0 && (unbatched ? h0.reshape([L * D, 1, H]) : h0), c0b = c0 && (unbatched ? c0.reshape([L * D, 1, H]) : c0);
      const hN: Tensor[] = [], cN: Tensor[] = [];
      for (let l = 0; l < L; l++) {
        const outs: Tensor[][] = [];
        for (let d = 0; d < D; d++) {
          const k = l * D + d, { wih, whh, bih, bhh } = this.cells[k];
          const wihT = transpose(wih), whhT = transpose(whh), b = inputBias(this.mode, bih, bhh);
          const part = (t: Tensor | null | undefined) => (t ? narrow(t, 0, k, 1).reshape([B, H]) : zeros([B, H], { device: x.device }));
          let s: State = { h: part(h0b), c: lstm ? part(c0b) : null };
          const hs: Tensor[] = new Array(T);
          for (let i = 0; i < T; i++) {
            const t = d ? T - 1 - i : i;
            s = step(this.mode, linear(xs[t], wihT, b), s, whhT, this.mode === 'GRU' ? bhh : null, H);
            hs[t] = s.h;
          }
          outs.push(hs);
          hN.push(s.h.reshape([1, B, H]));
          if (lstm) cN.push(s.c!.reshape([1, B, H]));
        }
        xs = D === 1 ? outs[0] : outs[0].map((f, t) => cat([f, outs[1][t]], 1));
        if (this.training && this.dropout > 0 && l < L - 1) xs = xs.map((h) => this.drop(h));
      }
      const F = H * D, steps = xs.map((h) => h.reshape(tAxis ? [B, 1, F] : [1, B, F]));
      const out = T === 1 ? steps[0] : cat(steps, tAxis);
      const stateOut = (t: Tensor[]) => (L * D === 1 ? t[0] : cat(t, 0)).reshape(unbatched ? [L * D, H] : [L * D, B, H]);
      return { out: unbatched ? out.reshape([T, F]) : out, h: stateOut(hN), c: lstm ? stateOut(cN) : null };
    });
  }

  /** Dropout between layers: a host mask (0 or 1 / (1 − p)) from the layer's generator, as nn.Dropout. */
  private drop(x: Tensor): Tensor {
    const m = new Float32Array(x.size), p = this.dropout, keepScale = p === 1 ? 0 : 1 / (1 - p);
    for (let i = 0; i < m.length; i++) m[i] = this.gen.next() < p ? 0 : keepScale;
    return mul(x, tensor(m, [...x.shape], { device: x.device }));
  }
}

/** An Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), as PyTorch's nn.RNN. */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options_?: ElmanRNNOptions) {
    const opts = options('nn.RNN', options_, ELMAN, RNN_ALIASES);
    super('nn.RNN', opts.nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH', inputSize, hiddenSize, opts);
    this.nonlinearity = opts.nonlinearity ?? 'tanh';
  }

  /**
   * `input` [seq, batch, inputSize] ([batch, seq, inputSize] with batchFirst,
   * or unbatched [seq, inputSize]); `h0` [numLayers·dirs, batch, hidden]
   * (zeros when omitted). Returns [output [seq, batch, dirs·hidden], h_n].
   */
  forward(input: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const r = this.run(input, h0, null);
    return [r.out, r.h];
  }
}

/** A gated recurrent unit layer (PyTorch's nn.GRU; gates r, z, n). */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options_?: RNNOptions) {
    super('nn.GRU', 'GRU', inputSize, hiddenSize, options('nn.GRU', options_, COMMON, RNN_ALIASES));
  }

  /** As RNN.forward: returns [output, h_n]. */
  forward(input: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const r = this.run(input, h0, null);
    return [r.out, r.h];
  }
}

/** A long short-term memory layer (PyTorch's nn.LSTM; gates i, f, g, o). */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options_?: RNNOptions) {
    super('nn.LSTM', 'LSTM', inputSize, hiddenSize, options('nn.LSTM', options_, COMMON, RNN_ALIASES));
  }

  /**
   * As RNN.forward with the state a pair: `hx` = [h0, c0] (zeros when
   * omitted). Returns [output, [h_n, c_n]].
   */
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    if (hx != null && (!Array.isArray(hx) || hx.length !== 2)) fail('nn.LSTM.forward', `argument 'hx' must be a pair [h0, c0] or null, got ${describe(hx)}`);
    const r = this.run(input, hx?.[0], hx?.[1]);
    return [r.out, [r.h, r.c!]];
  }
}
