// nn.RNNCell, nn.LSTMCell, nn.GRUCell on every backend against the float64
// reference (one step of test/reference/rnn.ts), and what the layers and
// cells share with PyTorch: parameter names and shapes, the
// U(−1/√hidden, 1/√hidden) initialisation, seeded dropout between layers,
// and the errors at the boundary.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import { rnnForward, rnnVjp, type Mode } from '../reference/rnn.js';
import { f32, randomNet } from './rnn-helpers.js';

const { nn, tensor, scope, sum, mul, add, noGrad } = lp;
const r = testRng('nn-rnn-cell');

function makeCell(mode: Mode, I: number, H: number, bias: boolean, device: lp.DeviceName) {
  if (mode === 'LSTM') return new nn.LSTMCell(I, H, { bias, device });
  if (mode === 'GRU') return new nn.GRUCell(I, H, { bias, device });
  return new nn.RNNCell(I, H, { bias, device, nonlinearity: mode === 'RNN_RELU' ? 'relu' : 'tanh' });
}

for (const mode of ['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'] as Mode[]) {
  test(`${mode} cell: h' (and c') and every gradient vs float64, batched and unbatched, with and without a state`, async () => {
    for (const device of devices) {
      for (const [B, I, H, bias, withState, unbatched] of [[4, 3, 5, true, true, false], [2, 6, 3, false, false, false], [1, 4, 4, true, true, true]] as const) {
        const net = randomNet(r, { mode, I, H, L: 1, D: 1, T: 1, B, bias, batchFirst: false, withH0: withState });
        const lstm = mode === 'LSTM', p = net.cells[0];
        const x = f32(r, B * I), h = withState ? f32(r, B * H) : null, c = withState && lstm ? f32(r, B * H) : null;
        const gh = f32(r, B * H), gc = lstm ? f32(r, B * H) : null;
        // A cell is a one-step, one-layer net: the step's output is h' and h_n.
        const ref = rnnForward(net, x, 1, B, h, c);
        const vjp = rnnVjp(net, x, 1, B, h, c, new Float64Array(B * H), gh, gc);
        const cell = makeCell(mode, I, H, bias, device);
        const sd: Record<string, Float32Array> = { weight_ih: Float32Array.from(p.wih), weight_hh: Float32Array.from(p.whh) };
        if (bias) { sd.bias_ih = Float32Array.from(p.bih!); sd.bias_hh = Float32Array.from(p.bhh!); }
        cell.loadStateDict(sd);
        const shape = (n: number) => (unbatched ? [n] : [B, n]);
        const xt = tensor(x, shape(I), { device, requiresGrad: true });
        const ht = h && tensor(h, shape(H), { device, requiresGrad: true }), ct = c && tensor(c, shape(H), { device, requiresGrad: true });
        const { h1, c1, loss } = scope(() => {
          const [h1, c1] = cell instanceof nn.LSTMCell ? cell.forward(xt, ht && ct ? [ht, ct] : null) : [(cell as lp.nn.RNNCell).forward(xt, ht), null];
          let loss = sum(mul(h1, tensor(gh, shape(H), { device })));
          if (c1) loss = add(loss, sum(mul(c1, tensor(gc!, shape(H), { device }))));
          return { h1, c1, loss };
        });
        assert.equal([...h1.shape], shape(H));
        loss.backward();
        const where = `${mode} cell B${B} I${I} H${H}${bias ? '' : ' nobias'}${withState ? ' state' : ''}${unbatched ? ' unbatched' : ''} on ${device}`;
        const checks: [string, lp.Tensor | null | undefined, Float64Array][] = [['h\'', h1, ref.hN], ['dx', xt.grad, vjp.dx], ['dweight_ih', cell.weight_ih.grad, vjp.grads[0].wih], ['dweight_hh', cell.weight_hh.grad, vjp.grads[0].whh]];
        if (lstm) checks.push(['c\'', c1, ref.cN!]);
        if (ht) checks.push(['dh', ht.grad, vjp.dh0]);
        if (ct) checks.push(['dc', ct.grad, vjp.dc0!]);
        if (bias) checks.push(['dbias_ih', cell.bias_ih!.grad, vjp.grads[0].bih!], ['dbias_hh', cell.bias_hh!.grad, vjp.grads[0].bhh!]);
        for (const [name, t, want] of checks) {
          assert.ok(t, `${where}: ${name} missing`);
          const e = relErr(await t!.data(), want);
          record(`nn.${mode}Cell · ${device}`, e, `${where} ${name}`);
          assert.ok(e < 2e-5, `${where}: ${name} relative error ${e}`);
        }
        lp.dispose(h1, c1, loss, xt, ht, ct, xt.grad, ht?.grad, ct?.grad);
        cell.dispose();
      }
    }
  });
}

test('parameters: PyTorch\'s names, shapes and order; U(−1/√hidden, 1/√hidden) initialisation', () => {
  const lstm = new nn.LSTM(3, 16, { numLayers: 2, bidirectional: true, seed: 1 });
  const names = [...lstm.namedParameters()].map(([n, t]) => `${n}:${t.shape.join('x')}`);
  const want: string[] = [];
  for (const l of [0, 1]) {
    for (const sfx of ['', '_reverse']) {
      const inp = l === 0 ? 3 : 32;
      want.push(`weight_ih_l${l}${sfx}:64x${inp}`, `weight_hh_l${l}${sfx}:64x16`, `bias_ih_l${l}${sfx}:64`, `bias_hh_l${l}${sfx}:64`);
    }
  }
  assert.equal(names, want);
  assert.equal(Object.keys(lstm.stateDict()), want.map((w) => w.split(':')[0]));
  for (const p of lstm.parameters()) {
    const v = p.dataSync();
    const lo = Math.min(...v), hi = Math.max(...v);
    assert.ok(lo >= -0.25 && hi <= 0.25, `init outside ±1/√16: [${lo}, ${hi}]`);
    if (v.length >= 64) assert.ok(lo < -0.2 && hi > 0.2, `init does not fill ±1/√16: [${lo}, ${hi}]`);
  }
  const gru = new nn.GRU(5, 7, { bias: false });
  assert.equal([...gru.namedParameters()].map(([n, t]) => `${n}:${t.shape.join('x')}`), ['weight_ih_l0:21x5', 'weight_hh_l0:21x7']);
  const cell = new nn.RNNCell(4, 9);
  assert.equal([...cell.namedParameters()].map(([n, t]) => `${n}:${t.shape.join('x')}`), ['weight_ih:9x4', 'weight_hh:9x9', 'bias_ih:9', 'bias_hh:9']);
  // Same seed, same weights.
  const a = new nn.GRU(3, 4, { seed: 7 }).parameters()[0].dataSync(), b = new nn.GRU(3, 4, { seed: 7 }).parameters()[0].dataSync();
  assert.equal([...a], [...b]);
});

test('dropout between layers: training only, seeded, not after the last layer', async () => {
  const x = tensor(f32(r, 4 * 3 * 5), [4, 3, 5]);
  const make = () => new nn.GRU(5, 6, { numLayers: 2, dropout: 0.5, seed: 11 });
  const run = (m: lp.nn.GRU) => noGrad(() => scope(() => m.forward(x)[0])).dataSync();
  const a = make(), b = make();
  const ta = run(a), tb = run(b);
  assert.equal([...ta], [...tb], 'the same seed gives the same masks');
  a.eval();
  const evalOut = run(a);
  // Eval is the net without dropout: a 2-layer reference with the same weights.
  const sd = a.stateDict();
  const cells = [0, 1].map((l) => ({
    inSize: l === 0 ? 5 : 6, wih: Float64Array.from(sd[`weight_ih_l${l}`].dataSync()), whh: Float64Array.from(sd[`weight_hh_l${l}`].dataSync()),
    bih: Float64Array.from(sd[`bias_ih_l${l}`].dataSync()), bhh: Float64Array.from(sd[`bias_hh_l${l}`].dataSync()),
  }));
  const ref = rnnForward({ mode: 'GRU', H: 6, L: 2, D: 1, cells }, x.dataSync(), 4, 3, null, null);
  assert.ok(relErr(evalOut, ref.out) < 1e-5, 'eval matches the reference without dropout');
  assert.ok(relErr(ta, ref.out) > 1e-2, 'training output differs (masks applied)');
  // One layer: dropout has nothing to act on (PyTorch warns; the output is the plain layer's).
  const one = new nn.GRU(5, 6, { dropout: 0.5, seed: 3 }), oneEval = new nn.GRU(5, 6, { seed: 3 }).eval();
  assert.equal([...run(one)], [...run(oneEval)]);
});

test('errors name the layer, the argument, what it got and what it needs', () => {
  const lstm = new nn.LSTM(4, 3, { numLayers: 2 });
  throwsLepton(() => lstm.forward(tensor(new Float32Array(24), [2, 3, 4, 1])), /nn\.LSTM\.forward.*'input'.*3-D \[seq, batch, inputSize\].*\[2, ?3, ?4, ?1\]/);
  throwsLepton(() => lstm.forward(tensor(new Float32Array(30), [2, 3, 5])), /nn\.LSTM\.forward.*'input' has 5 features.*inputSize = 4/);
  const x = tensor(new Float32Array(24), [2, 3, 4]);
  throwsLepton(() => lstm.forward(x, [tensor(new Float32Array(9), [1, 3, 3]), tensor(new Float32Array(18), [2, 3, 3])]), /nn\.LSTM\.forward.*'h0' has shape \[1, ?3, ?3\]; needs \[2, ?3, ?3\]/);
  throwsLepton(() => lstm.forward(x, [tensor(new Float32Array(18), [2, 3, 3]), null as unknown as lp.Tensor]), /both h0 and c0/);
  throwsLepton(() => lstm.forward(x, tensor(new Float32Array(18), [2, 3, 3]) as unknown as [lp.Tensor, lp.Tensor]), /nn\.LSTM\.forward.*'hx' must be a pair/);
  throwsLepton(() => new nn.GRU(4, 3, { batchFirst: true }).forward(tensor(new Float32Array(24), [3, 2, 4]), tensor(new Float32Array(6), [1, 2, 3])), /'h0' has shape \[1, ?2, ?3\]; needs \[1, ?3, ?3\]/);
  throwsLepton(() => new nn.RNN(4, 0), /nn\.RNN.*'hiddenSize' must be a positive integer, got 0/);
  throwsLepton(() => new nn.RNN(4, 3, { nonlinearity: 'sigmoid' as 'tanh' }), /nn\.RNN.*option 'nonlinearity'/);
  throwsLepton(() => new nn.LSTM(4, 3, { num_layers: 2 } as never), /unknown option 'num_layers' \(did you mean 'numLayers'\?\)/);
  throwsLepton(() => new nn.GRU(4, 3, { dropout: 1.5 }), /nn\.GRU.*option 'dropout'/);
  throwsLepton(() => new nn.GRU(4, 3, { numLayers: 0 }), /nn\.GRU.*option 'numLayers'/);
  throwsLepton(() => new nn.LSTMCell(4, 3).forward(tensor(new Float32Array(6), [2, 3])), /nn\.LSTMCell\.forward.*'input' has shape \[2, ?3\]; needs \[batch, 4\]/);
  throwsLepton(() => new nn.GRUCell(4, 3).forward(tensor(new Float32Array(8), [2, 4]), tensor(new Float32Array(9), [3, 3])), /nn\.GRUCell\.forward.*'hx' has shape \[3, ?3\]; needs \[2, ?3\]/);
  throwsLepton(() => lstm.forward(tensor(new Float32Array(0), [0, 3, 4])), /at least one time step/);
  if (devices.includes('webgpu')) throwsLepton(() => lstm.forward(tensor(new Float32Array(24), [2, 3, 4], { device: 'webgpu' })), /nn\.LSTM\.forward.*'input' is on webgpu; the layer's parameters are on wasm/);
  throwsLepton(() => new nn.Sequential(new nn.GRU(4, 3)).forward(x), /nn\.Sequential\.forward.*module 0 \(GRU\).*not a Tensor/);
});

test.run();
