// nn.RNN, nn.LSTM and nn.GRU on every backend against the float64 reference
// (test/reference/rnn.ts): outputs, h_n / c_n, and the gradients of the
// input, the initial state and every parameter, over layers, directions,
// batch-first and time-major layouts, with and without h0, with and without
// biases, unbatched input. The reference's hand-derived backprop through
// time is itself checked against central finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { rng, testRng } from '../helpers/random.js';
import { rnnForward, rnnVjp, type Mode } from '../reference/rnn.js';
import { checkConfig, describeConfig, f32, randomNet, type Config } from './rnn-helpers.js';

const r = testRng('nn-rnn');
const MODES: Mode[] = ['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'];

test('reference backprop through time agrees with central finite differences (every input and parameter)', () => {
  for (const mode of MODES) {
    const c: Config = { mode, I: 3, H: 3, L: 2, D: 2, T: 3, B: 2, bias: true, batchFirst: false, withH0: true };
    const net = randomNet(r, c), lstm = mode === 'LSTM', S = c.L * c.D * c.B * c.H;
    const x = f32(r, c.T * c.B * c.I), h0 = f32(r, S), c0 = lstm ? f32(r, S) : null;
    const gOut = f32(r, c.T * c.B * c.D * c.H), gh = f32(r, S), gc = lstm ? f32(r, S) : null;
    const objective = () => {
      const f = rnnForward(net, x, c.T, c.B, h0, c0);
      let s = 0;
      f.out.forEach((v, i) => { s += v * gOut[i]; });
      f.hN.forEach((v, i) => { s += v * gh[i]; });
      f.cN?.forEach((v, i) => { s += v * gc![i]; });
      return s;
    };
    const v = rnnVjp(net, x, c.T, c.B, h0, c0, gOut, gh, gc);
    const pairs: [string, Float64Array, Float64Array][] = [['x', x, v.dx], ['h0', h0, v.dh0]];
    if (c0) pairs.push(['c0', c0, v.dc0!]);
    net.cells.forEach((p, k) => {
      const g = v.grads[k];
      pairs.push([`wih${k}`, p.wih, g.wih], [`whh${k}`, p.whh, g.whh], [`bih${k}`, p.bih!, g.bih!], [`bhh${k}`, p.bhh!, g.bhh!]);
    });
    for (const [name, a, want] of pairs) {
      const fd = new Float64Array(a.length), h = 1e-6;
      for (let i = 0; i < a.length; i++) {
        const a0 = a[i];
        a[i] = a0 + h; const up = objective();
        a[i] = a0 - h; const down = objective();
        a[i] = a0;
        fd[i] = (up - down) / (2 * h);
      }
      const e = relErr(fd, want);
      record(`nn.${mode} · reference BPTT vs finite differences`, e, name);
      // ReLU's kink can sit within h of a pre-activation only by a fluke of the draw; the smooth modes are exact to ~1e-9.
      assert.ok(e < 1e-6, `${mode} ${name}: finite differences differ by ${e}`);
    }
  }
});

const CONFIGS: Omit<Config, 'mode'>[] = [
  { I: 4, H: 5, L: 1, D: 1, T: 5, B: 3, bias: true, batchFirst: false, withH0: false },
  { I: 3, H: 4, L: 2, D: 1, T: 4, B: 2, bias: true, batchFirst: true, withH0: true },
  { I: 5, H: 3, L: 2, D: 2, T: 3, B: 2, bias: true, batchFirst: false, withH0: true },
  { I: 2, H: 6, L: 1, D: 2, T: 4, B: 1, bias: false, batchFirst: true, withH0: false },
  { I: 3, H: 4, L: 2, D: 1, T: 1, B: 3, bias: false, batchFirst: false, withH0: true },
  { I: 4, H: 3, L: 1, D: 1, T: 6, B: 1, bias: true, batchFirst: true, withH0: true, unbatched: true },
];

for (const mode of MODES) {
  test(`nn.${mode === 'LSTM' || mode === 'GRU' ? mode : `RNN (${mode === 'RNN_RELU' ? 'relu' : 'tanh'})`}: forward, h_n${mode === 'LSTM' ? ', c_n' : ''} and every gradient vs float64, on every backend`, async () => {
    for (const base of CONFIGS) {
      const c = { mode, ...base };
      const seed = Math.floor(r.next() * 2 ** 31), outs: Float32Array[] = [];
      for (const device of devices) {
        // The same draw on every device, so the backends can also be compared with each other.
        outs.push(await checkConfig(rng(seed), c, device));
      }
      if (outs.length > 1) {
        const d = relErr(outs[1], outs[0]);
        assert.ok(d < 2e-5, `${describeConfig(c)}: webgpu and wasm outputs differ by ${d}`);
      }
    }
  });
}

test.run();
