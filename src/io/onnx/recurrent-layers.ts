// ONNX exports of nn.RNN, nn.GRU and nn.LSTM: one opset-17 RNN / GRU / LSTM
// node per layer (both directions in one node when bidirectional), with the
// weights' gate blocks reordered from PyTorch's to ONNX's at export. ONNX's
// nodes read X [seq, batch, in] and give Y [seq, dirs, batch, hidden]; a
// Transpose and a Reshape make that lepton's [seq, batch, dirs·hidden] (the
// directions concatenated, as PyTorch's output) before the next layer, and
// Transposes at the edges serve batchFirst. The `layout` attribute is not
// used (onnxruntime's CPU kernels accept only layout 0). The exported value
// is the layer's sequence output (forward's first element, what a model
// passes on); the initial state is zeros and h_n / c_n are not outputs.
// Dropout between layers is the identity in eval.
import { fail } from '../../errors.js';
import { GRU, LSTM, RNN } from '../../nn/rnn.js';
import { GRUCell, LSTMCell, RNNCell } from '../../nn/rnn-cell.js';
import type { Tensor } from '../../tensor.js';
import { onnxLayer, OP, type OnnxGraph, type OnnxValue } from './graph.js';

const at = (path: string, name: string) => path ? `${path}.${name}` : name;
const where = (path: string, what: string) => `layer '${path || 'the model'}' (${what})`;
const fmt = (s: readonly (number | string)[]) => `[${s.join(', ')}]`;

type Recurrent = RNN | GRU | LSTM;

/**
 * ONNX's gate order as PyTorch's block indices: LSTM i,o,f,c from PyTorch's
 * i,f,g,o; GRU z,r,h from PyTorch's r,z,n; the Elman RNN has one block.
 */
const ORDER = { LSTM: [0, 3, 1, 2], GRU: [1, 0, 2], RNN: [0] } as const;

/** The ONNX operator of a layer and its PyTorch → ONNX gate order. */
function kind(l: Recurrent): { op: 'LSTM' | 'GRU' | 'RNN'; order: readonly number[] } {
  const op = l instanceof LSTM ? 'LSTM' : l instanceof GRU ? 'GRU' : 'RNN';
  return { op, order: ORDER[op] };
}

/**
 * The given matrices (each G·hidden rows of `cols` values, gate blocks in
 * PyTorch's order) with their blocks in ONNX's order, one after another:
 * ONNX's [dirs, G·hidden, cols] for one matrix per direction, [dirs, 2·G·hidden]
 * for the biases [b_ih, b_hh] of each direction (cols 1).
 */
function stackGates(order: readonly number[], hidden: number, cols: number) {
  const block = hidden * cols;
  return (vs: Float32Array[]): Float32Array => {
    const out = new Float32Array(vs.length * order.length * block);
    vs.forEach((v, k) => {
      order.forEach((src, dst) => out.set(v.subarray(src * block, (src + 1) * block), (k * order.length + dst) * block));
    });
    return out;
  };
}

/** One layer's W, R and (with bias) B initializers in ONNX's layouts. */
function weights(l: Recurrent, layer: number, inSize: number, g: OnnxGraph, path: string): { w: string; r: string; b?: string } {
  const { order } = kind(l);
  const H = l.hiddenSize, G = order.length, D = l.bidirectional ? 2 : 1;
  const params = new Map(l.namedParameters());
  const sfx = (d: number) => `_l${layer}${d ? '_reverse' : ''}`;
  const get = (name: string, d: number): Tensor => {
    const t = params.get(name + sfx(d));
    if (!t) fail(OP, `${where(path, l.constructor.name)} has no parameter '${name}${sfx(d)}'`);
    return t;
  };
  const dirs = Array.from({ length: D }, (_, d) => d);
  const w = g.derived(at(path, `W_l${layer}`), [D, G * H, inSize], dirs.map((d) => get('weight_ih', d)), stackGates(order, H, inSize));
  const r = g.derived(at(path, `R_l${layer}`), [D, G * H, H], dirs.map((d) => get('weight_hh', d)), stackGates(order, H, H));
  if (!l.bias) return { w, r }; // ONNX's B defaults to zeros.
  // B per direction is [Wb, Rb] (G·hidden each), both reordered.
  const b = g.derived(at(path, `B_l${layer}`), [D, 2 * G * H], dirs.flatMap((d) => [get('bias_ih', d), get('bias_hh', d)]), stackGates(order, H, 1));
  return { w, r, b };
}

/** The layer's sequence output: per layer one ONNX node, Y [T, D, B, H] → [T, B, D·H]. */
function recurrent(l: Recurrent, x: OnnxValue, g: OnnxGraph, path: string): OnnxValue {
  const { op } = kind(l);
  const H = l.hiddenSize, D = l.bidirectional ? 2 : 1;
  const what = `${l.constructor.name} ${l.inputSize} → ${H}`;
  const layout = l.batchFirst ? '[batch, seq, inputSize]' : '[seq, batch, inputSize]';
  if (x.shape.length !== 3 || (typeof x.shape[2] === 'number' && x.shape[2] !== l.inputSize)) {
    fail(OP, `${where(path, what)} gets an input of shape ${fmt(x.shape)}; needs ${layout.replace('inputSize', String(l.inputSize))} (unbatched 2-D input does not export)`);
  }
  // ONNX's recurrent nodes are time-major.
  let h = l.batchFirst ? g.node('Transpose', [x.name], [x.shape[1], x.shape[0], x.shape[2]], path, { perm: [1, 0, 2] }) : x;
  const [T, B] = h.shape;
  for (let k = 0; k < l.numLayers; k++) {
    const p = at(path, `l${k}`);
    const { w, r, b } = weights(l, k, k === 0 ? l.inputSize : D * H, g, path);
    const attrs: Record<string, number | string | { strings: string[] }> = { hidden_size: H, direction: D === 2 ? 'bidirectional' : 'forward' };
    // ONNX's GRU default (linear_before_reset 0) applies r before R_h; PyTorch's applies it after (+ b_hn).
    if (op === 'GRU') attrs.linear_before_reset = 1;
    if (op === 'RNN') attrs.activations = { strings: Array<string>(D).fill(l instanceof RNN && l.nonlinearity === 'relu' ? 'Relu' : 'Tanh') };
    const y = g.node(op, b ? [h.name, w, r, b] : [h.name, w, r], [T, D, B, H], p, attrs);
    const yt = g.node('Transpose', [y.name], [T, B, D, H], p, { perm: [0, 2, 1, 3] });
    h = g.node('Reshape', [yt.name, g.ints(at(p, 'shape'), [0, 0, D * H])], [T, B, D * H], p);
  }
  return l.batchFirst ? g.node('Transpose', [h.name], [B, T, D * H], path, { perm: [1, 0, 2] }) : h;
}

let registered = false;

export function registerRecurrentLayers(): void {
  if (registered) return;
  registered = true;
  for (const cls of [RNN, GRU, LSTM]) onnxLayer(cls as typeof RNN, recurrent);
  // A cell is one time step with a state the caller threads; a graph of it would only be the step with zero state.
  for (const cls of [RNNCell, GRUCell, LSTMCell]) {
    onnxLayer(cls as typeof RNNCell, (l, _x, _g, path) => fail(OP, `${where(path, l.constructor.name)} is a single-step recurrent cell; exportOnnx exports the sequence layers (nn.RNN, nn.GRU, nn.LSTM), not cells`), { refuses: true });
  }
}
