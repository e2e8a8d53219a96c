// Recurrent nets against PyTorch itself (Debian's python3-torch 1.13):
//   A. lepton's state dict loads strictly into torch's nn.RNN / LSTM / GRU and
//      cells (same keys, same shapes), and with those weights torch's outputs,
//      h_n / c_n and every gradient (input, initial state, parameters) equal
//      lepton's on every backend;
//   B. torch's own initialised weights load into lepton, which then gives
//      torch's outputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as lp from '../../src/index.js';
import type { DeviceName } from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { havePython, runPython } from './python.js';

const { nn, tensor, scope, sum, mul, add } = lp;
const r = testRng('rnn-torch');
const DIR = 'test-output/interop';
mkdirSync(DIR, { recursive: true });

type Kind = 'RNN' | 'LSTM' | 'GRU' | 'RNNCell' | 'LSTMCell' | 'GRUCell';
interface Args { inputSize: number; hiddenSize: number; numLayers: number; bias: boolean; batchFirst: boolean; bidirectional: boolean; nonlinearity: 'tanh' | 'relu' }
interface Case { kind: Kind; args: Args; T: number; B: number; withState: boolean }
interface Flat { data: number[]; shape: number[] }

const A = (o: Partial<Args>): Args => ({ inputSize: 3, hiddenSize: 4, numLayers: 1, bias: true, batchFirst: false, bidirectional: false, nonlinearity: 'tanh', ...o });
const CASES: Case[] = [
  { kind: 'LSTM', args: A({ numLayers: 2, bidirectional: true, batchFirst: true }), T: 5, B: 3, withState: true },
  { kind: 'LSTM', args: A({ inputSize: 5, hiddenSize: 6 }), T: 4, B: 2, withState: false },
  { kind: 'GRU', args: A({ numLayers: 2 }), T: 6, B: 2, withState: true },
  { kind: 'GRU', args: A({ bidirectional: true, bias: false, batchFirst: true }), T: 3, B: 4, withState: false },
  { kind: 'RNN', args: A({ nonlinearity: 'relu', numLayers: 2 }), T: 4, B: 3, withState: true },
  { kind: 'RNN', args: A({ bias: false, bidirectional: true }), T: 5, B: 2, withState: false },
  { kind: 'LSTMCell', args: A({}), T: 1, B: 3, withState: true },
  { kind: 'GRUCell', args: A({ hiddenSize: 5 }), T: 1, B: 2, withState: true },
  { kind: 'RNNCell', args: A({ nonlinearity: 'relu' }), T: 1, B: 2, withState: false },
];

const cell = (k: Kind) => k.endsWith('Cell');
const lstmLike = (k: Kind) => k.startsWith('LSTM');

function build(c: Case, device: DeviceName, seed: number): lp.nn.Module {
  const a = c.args;
  if (cell(c.kind)) {
    const o = { bias: a.bias, device, seed };
    if (c.kind === 'LSTMCell') return new nn.LSTMCell(a.inputSize, a.hiddenSize, o);
    if (c.kind === 'GRUCell') return new nn.GRUCell(a.inputSize, a.hiddenSize, o);
    return new nn.RNNCell(a.inputSize, a.hiddenSize, { ...o, nonlinearity: a.nonlinearity });
  }
  const o = { numLayers: a.numLayers, bias: a.bias, batchFirst: a.batchFirst, bidirectional: a.bidirectional, device, seed };
  if (c.kind === 'LSTM') return new nn.LSTM(a.inputSize, a.hiddenSize, o);
  if (c.kind === 'GRU') return new nn.GRU(a.inputSize, a.hiddenSize, o);
  return new nn.RNN(a.inputSize, a.hiddenSize, { ...o, nonlinearity: a.nonlinearity });
}

const flat = (shape: number[], lo = -1, hi = 1): Flat => ({ data: [...r.array(shape.reduce((x, y) => x * y, 1), lo, hi)], shape });

/** Shapes of x, the state and the output for a case. */
function shapes(c: Case) {
  const a = c.args, D = a.bidirectional ? 2 : 1;
  if (cell(c.kind)) return { x: [c.B, a.inputSize], state: [c.B, a.hiddenSize], out: null };
  return {
    x: a.batchFirst ? [c.B, c.T, a.inputSize] : [c.T, c.B, a.inputSize],
    state: [a.numLayers * D, c.B, a.hiddenSize],
    out: a.batchFirst ? [c.B, c.T, D * a.hiddenSize] : [c.T, c.B, D * a.hiddenSize],
  };
}

/** lepton's forward with the given state; returns [out | null, h, c | null]. */
function forward(m: lp.nn.Module, c: Case, x: lp.Tensor, h0: lp.Tensor | null, c0: lp.Tensor | null): [lp.Tensor | null, lp.Tensor, lp.Tensor | null] {
  if (m instanceof nn.LSTM) { const [o, [h, cc]] = m.forward(x, h0 && c0 ? [h0, c0] : null); return [o, h, cc]; }
  if (m instanceof nn.RNN || m instanceof nn.GRU) { const [o, h] = m.forward(x, h0); return [o, h, null]; }
  if (m instanceof nn.LSTMCell) { const [h, cc] = m.forward(x, h0 && c0 ? [h0, c0] : null); return [null, h, cc]; }
  return [null, (m as lp.nn.RNNCell).forward(x, h0), null];
}

if (havePython(['torch'], 'the PyTorch recurrent-net round trip (test/interop/rnn-torch.test.ts)')) {
  test('PyTorch loads lepton\'s RNN/LSTM/GRU state dicts strictly and matches outputs and gradients; lepton loads PyTorch\'s', async () => {
    const seeds = CASES.map(() => r.int(1, 1e6));
    const inputs = CASES.map((c) => {
      const s = shapes(c), lstm = lstmLike(c.kind);
      return {
        x: flat(s.x, -2, 2), h0: c.withState ? flat(s.state) : null, c0: c.withState && lstm ? flat(s.state) : null,
        gOut: s.out && flat(s.out), gh: flat(s.state), gc: lstm ? flat(s.state) : null,
      };
    });
    const payload = await Promise.all(CASES.map(async (c, i) => {
      const m = build(c, 'wasm', seeds[i]), sd = m.stateDict();
      const state: Record<string, Flat> = {};
      for (const [k, t] of Object.entries(sd)) state[k] = { data: [...await t.data()], shape: [...t.shape] };
      lp.dispose(sd);
      m.dispose();
      return { kind: c.kind, args: c.args, seed: seeds[i], state, ...inputs[i] };
    }));
    writeFileSync(`${DIR}/rnn-cases.json`, JSON.stringify(payload));
    runPython(['test/interop/rnn_torch.py', `${DIR}/rnn-cases.json`, `${DIR}/rnn-torch.json`]);
    const torch = JSON.parse(readFileSync(`${DIR}/rnn-torch.json`, 'utf8')) as Record<string, Flat & Record<string, Flat>>[];
    for (const device of devices) {
      for (const [i, c] of CASES.entries()) {
        const where = `${c.kind} ${JSON.stringify(c.args)} on ${device}`, want = torch[i], inp = inputs[i], s = shapes(c);
        const cmp = (name: string, got: ArrayLike<number>, ref: Flat | undefined, tol = 1e-5) => {
          assert.ok(ref, `${where}: torch gave no ${name}`);
          const e = relErr(got, ref!.data);
          record(`nn.${c.kind} vs PyTorch · ${device}`, e, `${where} ${name}`);
          assert.ok(e < tol, `${where}: ${name} differs from PyTorch by ${e}`);
        };
        // A: lepton's own weights (the same seed gives the same weights on every device), forward and backward.
        const m = build(c, device, seeds[i]);
        const x = tensor(inp.x.data, inp.x.shape, { device, requiresGrad: true });
        const h0 = inp.h0 && tensor(inp.h0.data, inp.h0.shape, { device, requiresGrad: true });
        const c0 = inp.c0 && tensor(inp.c0.data, inp.c0.shape, { device, requiresGrad: true });
        const [out, h, cc, loss] = scope(() => {
          const [out, h, cc] = forward(m, c, x, h0, c0);
          let loss = sum(mul(h, tensor(inp.gh.data, s.state, { device })));
          if (out) loss = add(loss, sum(mul(out, tensor(inp.gOut!.data, s.out!, { device }))));
          if (cc) loss = add(loss, sum(mul(cc, tensor(inp.gc!.data, s.state, { device }))));
          return [out, h, cc, loss] as const;
        });
        loss.backward();
        if (out) cmp('output', await out.data(), want.out);
        cmp(cell(c.kind) ? 'h\'' : 'h_n', await h.data(), want.h);
        if (cc) cmp(cell(c.kind) ? 'c\'' : 'c_n', await cc.data(), want.c);
        cmp('input gradient', await x.grad!.data(), want.dx);
        if (h0) cmp('h0 gradient', await h0.grad!.data(), want.dh0);
        if (c0) cmp('c0 gradient', await c0.grad!.data(), want.dc0);
        const grads = want.grads as unknown as Record<string, Flat>;
        assert.equal([...m.namedParameters()].map(([k]) => k), Object.keys(grads), `${where}: parameter names and order`);
        for (const [k, p] of m.namedParameters()) cmp(`${k} gradient`, await p.grad!.data(), grads[k]);
        lp.dispose(out, h, cc, loss, x, h0, c0, x.grad, h0?.grad, c0?.grad);
        // B: PyTorch's initialisation loaded into lepton gives PyTorch's outputs (zero initial state).
        const ts = want.torchState as unknown as Record<string, Flat>;
        m.loadStateDict(Object.fromEntries(Object.entries(ts).map(([k, v]) => [k, Float32Array.from(v.data)])));
        const x2 = tensor(inp.x.data, inp.x.shape, { device });
        const [o2, h2, c2] = lp.noGrad(() => scope(() => forward(m, c, x2, null, null)));
        if (o2) cmp('output (torch weights)', await o2.data(), want.torchOut);
        cmp('state (torch weights)', await h2.data(), want.torchH);
        if (c2) cmp('cell state (torch weights)', await c2.data(), want.torchC);
        lp.dispose(o2, h2, c2, x2);
        m.dispose();
      }
    }
  });
}

test.run();
