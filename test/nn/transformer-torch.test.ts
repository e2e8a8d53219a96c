// PyTorch parity (Debian's python3-torch 1.13, float64): lepton's state dict
// of an nn.TransformerBlock loads strictly into PyTorch's
// nn.TransformerEncoderLayer(norm_first=True, activation=tanh-GELU,
// batch_first=True) and an nn.TransformerLM's into the same GPT composition
// written in PyTorch (nn.Embedding ×2, encoder layers with a causal mask,
// nn.LayerNorm, bias-free nn.Linear): outputs and every gradient agree with
// lepton's on every device. lepton's GELU is the tanh form, which PyTorch
// names approximate='tanh'.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { nn, tensor } from '../../src/index.js';
import { layoutsOf, permute } from '../../src/io/layouts.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { havePython, runPython } from '../interop/python.js';

const r = testRng('nn-transformer-torch');
const DIR = 'test-output/transformer-torch';
const TOL = 3e-5;

const SCRIPT = String.raw`
import json, sys, torch, torch.nn as tnn, torch.nn.functional as F
torch.set_default_dtype(torch.float64)
spec = json.load(open(sys.argv[1]))
def layer(c):
    return tnn.TransformerEncoderLayer(c['E'], c['H'], dim_feedforward=c['F'], dropout=0.0, activation=lambda x: F.gelu(x, approximate='tanh'),
                                       batch_first=True, norm_first=True)
class LM(tnn.Module):
    def __init__(s, c):
        super().__init__()
        s.token_embedding = tnn.Embedding(c['V'], c['E']); s.position_embedding = tnn.Embedding(c['maxSeqLen'], c['E'])
        s.layers = tnn.ModuleList([layer(c) for _ in range(c['layers'])])
        s.norm = tnn.LayerNorm(c['E']); s.lm_head = tnn.Linear(c['E'], c['V'], bias=False)
    def forward(s, ids):
        S = ids.shape[1]
        x = s.token_embedding(ids) + s.position_embedding(torch.arange(S))
        for l in s.layers: x = l(x, src_mask=causal(S))
        return s.lm_head(s.norm(x))
def causal(S):
    return torch.triu(torch.full((S, S), float('-inf')), diagonal=1)
c = spec['config']
m = layer(c) if spec['kind'] == 'block' else LM(c)
m.load_state_dict({k: torch.tensor(v['data']).reshape(v['shape']) for k, v in spec['state'].items()}, strict=True)
if spec['kind'] == 'block':
    x = torch.tensor(spec['x']).reshape(c['B'], c['S'], c['E']).requires_grad_()
    y = m(x, src_mask=causal(c['S']) if c['causal'] else None)
else:
    x = None
    y = m(torch.tensor(spec['ids']).reshape(c['B'], c['S']))
y.backward(torch.tensor(spec['g']).reshape(y.shape))
out = {'y': y.detach().flatten().tolist(), 'grads': {k: p.grad.flatten().tolist() for k, p in m.named_parameters()}}
if x is not None: out['dx'] = x.grad.flatten().tolist()
json.dump(out, open(sys.argv[2], 'w'))
`;

/** Random parameters (norm weights near 1) loaded into m; returns the state in PyTorch's layout for the script. */
function randomState(m: nn.Module) {
  const values: Record<string, Float32Array> = {};
  for (const [name, t] of m.namedParameters()) values[name] = r.array(t.size, -0.5, 0.5).map((v) => (name.includes('norm') && name.endsWith('weight') ? 1 + v : v));
  m.loadStateDict(values);
  const layouts = layoutsOf(m), state: Record<string, { data: number[]; shape: number[] }> = {};
  for (const [name, t] of m.namedParameters()) {
    const perm = layouts.get(name)?.perm;
    state[name] = { data: Array.from(perm ? permute(values[name], t.shape, perm) : values[name]), shape: perm ? perm.map((a) => t.shape[a]) : [...t.shape] };
  }
  return state;
}

/** lepton's gradient of `name` in PyTorch's layout. */
const torchLayout = (m: nn.Module, name: string, g: Float32Array, shape: readonly number[]) => {
  const perm = layoutsOf(m).get(name)?.perm;
  return perm ? permute(g, shape, perm) : g;
};

function runTorch(tag: string, spec: object): { y: number[]; dx?: number[]; grads: Record<string, number[]> } {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(`${DIR}/script.py`, SCRIPT);
  writeFileSync(`${DIR}/${tag}-in.json`, JSON.stringify(spec));
  runPython([`${DIR}/script.py`, `${DIR}/${tag}-in.json`, `${DIR}/${tag}-out.json`]);
  return JSON.parse(readFileSync(`${DIR}/${tag}-out.json`, 'utf8'));
}

function compare(what: string, got: Float32Array, ref: ArrayLike<number>, where: string) {
  const e = relErr(got, ref);
  record(`PyTorch parity ${what}`, e, where);
  assert.ok(e < TOL, `${where}: ${what} differs from PyTorch by ${e}`);
}

if (havePython(['torch'], 'TransformerBlock / TransformerLM PyTorch parity')) {
  test('TransformerBlock = PyTorch TransformerEncoderLayer(norm_first, tanh-GELU, batch_first): state dict, output, every gradient', async () => {
    for (const causal of [true, false]) {
      const c = { B: 2, S: 5, E: 16, H: 4, F: 24, causal };
      const probe = new nn.TransformerBlock(c.E, c.H, { ffnDim: c.F, causal, dropout: 0, seed: 1 });
      const state = randomState(probe);
      const x = r.array(c.B * c.S * c.E, -1, 1), g = r.array(c.B * c.S * c.E, -1, 1);
      const ref = runTorch(`block-${causal}`, { kind: 'block', config: c, state, x: Array.from(x), g: Array.from(g) });
      for (const device of devices) {
        const where = `${causal ? 'causal' : 'not causal'} · ${device}`;
        const b = new nn.TransformerBlock(c.E, c.H, { ffnDim: c.F, causal, dropout: 0, device });
        b.loadStateDict(probe.stateDict());
        const xt = tensor(x, [c.B, c.S, c.E], { device, requiresGrad: true });
        const y = b.forward(xt);
        y.backward(tensor(g, [c.B, c.S, c.E], { device }));
        compare('block output', await y.data(), ref.y, where);
        compare('block dx', await xt.grad!.data(), ref.dx!, where);
        assert.equal(Object.keys(ref.grads).sort(), [...b.namedParameters()].map(([n]) => n).sort(), 'the same parameter names');
        for (const [name, t] of b.namedParameters()) compare(`block d${name}`, torchLayout(b, name, await t.grad!.data(), t.shape), ref.grads[name], where);
        b.dispose();
      }
      probe.dispose();
    }
  });

  test('TransformerLM = the GPT composition in PyTorch: logits and every gradient', async () => {
    const c = { B: 2, S: 6, E: 16, H: 2, F: 32, V: 9, layers: 2, maxSeqLen: 8 };
    const probe = new nn.TransformerLM(c.V, { dModel: c.E, numHeads: c.H, ffnDim: c.F, numLayers: c.layers, maxSeqLen: c.maxSeqLen, dropout: 0, seed: 2 });
    const state = randomState(probe);
    const ids = Array.from({ length: c.B }, () => Array.from({ length: c.S }, () => r.int(0, c.V - 1)));
    const g = r.array(c.B * c.S * c.V, -1, 1);
    const ref = runTorch('lm', { kind: 'lm', config: c, state, ids: ids.flat(), g: Array.from(g) });
    for (const device of devices) {
      const m = new nn.TransformerLM(c.V, { dModel: c.E, numHeads: c.H, ffnDim: c.F, numLayers: c.layers, maxSeqLen: c.maxSeqLen, dropout: 0, device });
      m.loadStateDict(probe.stateDict());
      const y = m.forward(ids);
      y.backward(tensor(g, [c.B, c.S, c.V], { device }));
      compare('LM logits', await y.data(), ref.y, device);
      for (const [name, t] of m.namedParameters()) compare(`LM d${name}`, torchLayout(m, name, await t.grad!.data(), t.shape), ref.grads[name], device);
      m.dispose();
    }
    probe.dispose();
  });
}

test.run();
