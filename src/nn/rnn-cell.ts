// nn.RNNCell, nn.LSTMCell and nn.GRUCell: one time step, for loops the user
// writes (decoders feeding back their own output). PyTorch's parameter names
// (weight_ih, weight_hh, bias_ih, bias_hh), shapes and initialisation; the
// same step as the layers (rnn-step.ts).
import type { DeviceName } from '../backends/backend.js';
import { zeros } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { linear } from '../ops/linear.js';
import { transpose } from '../ops/shape.js';
import { bool, describe, device, finite, instanceOf, oneOf, options, type OptionSpec } from '../options.js';
import { Generator } from '../random.js';
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { GATES, inputBias, recurrentGenerator, step, uniformParam, type RNNMode, type State } from './rnn-step.js';

export interface RNNCellOptions {
  /** Whether the cell has bias_ih / bias_hh. Default true. */
  bias?: boolean;
  device?: DeviceName;
  /** Seeds the initial weights. */
  seed?: number;
  /** A generator for the initial weights (shared with other layers). */
  generator?: Generator;
}

export interface ElmanRNNCellOptions extends RNNCellOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

const COMMON: OptionSpec<RNNCellOptions> = { bias: bool, device, seed: finite, generator: instanceOf(Generator, 'Generator') };
const ELMAN: OptionSpec<ElmanRNNCellOptions> = { ...COMMON, nonlinearity: oneOf('tanh', 'relu') };

abstract class CellBase extends Module {
  readonly weight_ih: Tensor;
  readonly weight_hh: Tensor;
  readonly bias_ih: Tensor | null;
  readonly bias_hh: Tensor | null;

  protected constructor(protected readonly op: string, readonly mode: RNNMode,
    readonly inputSize: number, readonly hiddenSize: number, opts: RNNCellOptions) {
    super();
    const g = recurrentGenerator(op, inputSize, hiddenSize, opts), G = GATES[mode] * hiddenSize, H = hiddenSize;
    const p = (name: string, shape: number[]) => this.registerParameter(name, uniformParam(shape, H, g, opts.device));
    this.weight_ih = p('weight_ih', [G, inputSize]);
    this.weight_hh = p('weight_hh', [G, H]);
    this.bias_ih = opts.bias === false ? null : p('bias_ih', [G]);
    this.bias_hh = opts.bias === false ? null : p('bias_hh', [G]);
  }

  /** Checks x [batch, inputSize] or [inputSize] and the state tensors against it. */
  private check(x: unknown, state: (Tensor | null | undefined)[], names: string[]): { B: number; unbatched: boolean } {
    const op = `${this.op}.forward`;
    if (!(x instanceof Tensor)) fail(op, `argument 'input' must be a Tensor, got ${describe(x)}`);
    if ((x.rank !== 1 && x.rank !== 2) || x.shape[x.rank - 1] !== this.inputSize) {
      fail(op, `argument 'input' has shape ${fmtShape(x.shape)}; needs [batch, ${this.inputSize}] or [${this.inputSize}] (inputSize = ${this.inputSize})`);
    }
    if (x.device !== this.device) fail(op, `argument 'input' is on ${x.device}; the layer's parameters are on ${this.device}`);
    const unbatched = x.rank === 1, B = unbatched ? 1 : x.shape[0];
    if (B === 0) fail(op, `argument 'input' must hold at least one row, got ${fmtShape(x.shape)}`);
    const need = unbatched ? [this.hiddenSize] : [B, this.hiddenSize];
    state.forEach((s, i) => {
      if (s == null) return;
      if (!(s instanceof Tensor)) fail(op, `argument '${names[i]}' must be a Tensor or null, got ${describe(s)}`);
      if (s.shape.length !== need.length || s.shape.some((d, j) => d !== need[j])) {
        fail(op, `argument '${names[i]}' has shape ${fmtShape(s.shape)}; needs ${fmtShape(need)} for input ${fmtShape(x.shape)}`);
      }
      if (s.device !== x.device) fail(op, `argument '${names[i]}' is on ${s.device}, input on ${x.device}`);
    });
    return { B, unbatched };
  }

  protected cell(x: Tensor, h: Tensor | null | undefined, c: Tensor | null | undefined): State {
    const lstm = this.mode === 'LSTM';
    const { B, unbatched } = this.check(x, lstm ? [h, c] : [h], lstm ? ['h', 'c'] : ['hx']);
    if (lstm && (h == null) !== (c == null)) fail(`${this.op}.forward`, `argument 'hx' must give both h and c, or neither`);
    const H = this.hiddenSize, row = (t: Tensor) => (unbatched ? t.reshape([1, t.size]) : t);
    return scope(() => {
      const xp = linear(row(x), transpose(this.weight_ih), inputBias(this.mode, this.bias_ih, this.bias_hh));
      const z = () => zeros([B, H], { device: x.device });
      const s0 = { h: h == null ? z() : row(h), c: lstm ? (c == null ? z() : row(c)) : null };
      const s = step(this.mode, xp, s0, transpose(this.weight_hh), this.mode === 'GRU' ? this.bias_hh : null, H);
      const out = (t: Tensor) => (unbatched ? t.reshape([H]) : t.reshape([B, H]));
      return { h: out(s.h), c: s.c && out(s.c) };
    });
  }
}

/** One step of an Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu). */
export class RNNCell extends CellBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options_?: ElmanRNNCellOptions) {
    const opts = options('nn.RNNCell', options_, ELMAN);
    super('nn.RNNCell', opts.nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH', inputSize, hiddenSize, opts);
    this.nonlinearity = opts.nonlinearity ?? 'tanh';
  }

  /** `input` [batch, inputSize] or [inputSize]; `hx` [batch, hidden] (zeros when omitted). Returns h'. */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this.cell(input, hx, null).h;
  }
}

/** One GRU step (gates r, z, n, as PyTorch's nn.GRUCell). */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options_?: RNNCellOptions) {
    super('nn.GRUCell', 'GRU', inputSize, hiddenSize, options('nn.GRUCell', options_, COMMON));
  }

  /** As RNNCell.forward. */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    return this.cell(input, hx, null).h;
  }
}

/** One LSTM step (gates i, f, g, o, as PyTorch's nn.LSTMCell). */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options_?: RNNCellOptions) {
    super('nn.LSTMCell', 'LSTM', inputSize, hiddenSize, options('nn.LSTMCell', options_, COMMON));
  }

  /** `hx` = [h, c] (zeros when omitted). Returns [h', c']. */
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, Tensor] {
    if (hx != null && (!Array.isArray(hx) || hx.length !== 2)) fail('nn.LSTMCell.forward', `argument 'hx' must be a pair [h, c] or null, got ${describe(hx)}`);
    const s = this.cell(input, hx?.[0], hx?.[1]);
    return [s.h, s.c!];
  }
}
