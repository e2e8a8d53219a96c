// nn.TransformerBlock and nn.TransformerLM on every device against a float64
// composition from the definitions (test/reference/transformer.ts): the
// forward, the attention weights of every head, and the gradients of the
// input and of every parameter, the latter against central finite
// differences of the float64 reference on tiny models.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nn, noGrad, tensor, type Tensor } from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { probabilities } from '../reference/attention.js';
import { mhaForward } from '../reference/mha.js';
import { blockForward, lmForward, paramGradients, type BlockConfig, type LMConfig, type Params } from '../reference/transformer.js';

const r = testRng('nn-transformer');
// Norm-wise relative error against float64: float32 lands near 1e-6; a wrong residual, norm or head split gives O(1).
const TOL = 3e-5;
// float32 gradients against float64 finite differences (which are good to ~1e-9 here).
const GRAD_TOL = 2e-4;

/** Random values for every parameter (biases and norm weights non-trivial too), loaded into m; returns them in float64. */
function randomize(m: nn.Module, scale = 0.5): Params {
  const values: Record<string, Float32Array> = {};
  for (const [name, t] of m.namedParameters()) values[name] = r.array(t.size, -scale, scale).map((v) => (name.includes('norm') && name.endsWith('weight') ? 1 + v : v));
  m.loadStateDict(values);
  return new Map(Object.entries(values).map(([k, v]) => [k, Float64Array.from(v)]));
}

async function check(what: string, got: Tensor | null, ref: ArrayLike<number>, where: string, tol: number) {
  assert.ok(got, `${where}: no ${what}`);
  const e = relErr(await got!.data(), ref);
  record(`nn.Transformer ${what}`, e, where);
  assert.ok(e < tol, `${where}: ${what} relative error ${e}`);
}

const BLOCKS: (BlockConfig & { name: string })[] = [
  { name: 'layer norm, causal', B: 2, S: 7, E: 16, H: 4, Hkv: 4, F: 24, causal: true, rms: false, eps: 1e-5, bias: true },
  { name: 'rms norm, grouped-query, no bias', B: 1, S: 11, E: 24, H: 6, Hkv: 2, F: 40, causal: true, rms: true, eps: 2 ** -23, bias: false },
  { name: 'not causal, one position', B: 3, S: 1, E: 8, H: 2, Hkv: 2, F: 32, causal: false, rms: false, eps: 1e-5, bias: true },
  { name: 'not causal, width 64', B: 2, S: 13, E: 64, H: 4, Hkv: 4, F: 256, causal: false, rms: false, eps: 1e-5, bias: true },
];

const makeBlock = (c: BlockConfig, device: nn.TransformerBlockOptions['device']) => new nn.TransformerBlock(c.E, c.H, {
  numKVHeads: c.Hkv, ffnDim: c.F, causal: c.causal, norm: c.rms ? 'rms' : 'layer', bias: c.bias, dropout: 0, seed: 5, device,
});

test('TransformerBlock: forward and attention weights match float64, every device', async () => {
  for (const c of BLOCKS) {
    for (const device of devices) {
      const where = `${c.name} · ${device}`;
      const block = makeBlock(c, device);
      const p = randomize(block);
      const xData = r.array(c.B * c.S * c.E, -1, 1);
      const ref = blockForward(xData, p, c);
      const x = tensor(xData, [c.B, c.S, c.E], { device });
      const y = block.forward(x);
      assert.equal(y.shape, [c.B, c.S, c.E]);
      await check('block forward', y, ref.y, where, TOL);
      const [y2, w] = block.forwardWithWeights(x);
      assert.equal(w.shape, [c.B, c.H, c.S, c.S]);
      await check('block forward (with weights)', y2, ref.y, where, TOL);
      await check('block attention weights', w, ref.P, where, TOL);
      for (const t of [x, y, y2, w]) t.dispose();
      block.dispose();
    }
  }
});

test('TransformerBlock: gradients of x and every parameter match finite differences of the float64 reference, every device', async () => {
  const c: BlockConfig = { B: 2, S: 3, E: 8, H: 2, Hkv: 1, F: 12, causal: true, rms: false, eps: 1e-5, bias: true };
  for (const rms of [false, true]) {
    const cc = { ...c, rms, eps: rms ? 2 ** -23 : 1e-5 };
    const xData = r.array(cc.B * cc.S * cc.E, -1, 1), g = r.array(cc.B * cc.S * cc.E, -1, 1);
    for (const device of devices) {
      const where = `${rms ? 'rms' : 'layer'} norm · ${device}`;
      const block = makeBlock(cc, device);
      const p = randomize(block);
      p.set('x', Float64Array.from(xData));
      const names = [...block.namedParameters()].map(([n]) => n);
      const fd = paramGradients(p, ['x', ...names], g, (q) => blockForward(q.get('x')!, q, cc).y);
      const x = tensor(xData, [cc.B, cc.S, cc.E], { device, requiresGrad: true });
      block.forward(x).backward(tensor(g, [cc.B, cc.S, cc.E], { device }));
      await check('block dx', x.grad, fd.get('x')!, where, GRAD_TOL);
      for (const [name, t] of block.namedParameters()) await check(`block d${name}`, t.grad, fd.get(name)!, where, GRAD_TOL);
      x.dispose();
      block.dispose();
    }
  }
});

test('TransformerBlock: PyTorch child names in PyTorch\'s order; dropout off in eval; train() reaches the dropouts', async () => {
  const b = new nn.TransformerBlock(16, 4, { seed: 1 });
  assert.equal([...b.namedChildren()].map(([n]) => n), ['self_attn', 'linear1', 'linear2', 'norm1', 'norm2']);
  assert.equal(Object.keys(b.stateDict()), [
    'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
    'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias', 'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
  ]);
  assert.is(b.ffnDim, 64);
  assert.is(b.causal, true);
  const x = tensor(r.array(2 * 5 * 16), [2, 5, 16]);
  // Default dropout 0.1 (PyTorch's): two training forwards differ, two eval forwards agree.
  const [t1, t2] = [await b.forward(x).data(), await b.forward(x).data()];
  assert.ok(relErr(t1, t2) > 1e-3, 'training forwards drop different elements');
  b.eval();
  assert.equal(await b.forward(x).data(), await b.forward(x).data());
  b.train();
  assert.ok(relErr(await b.forward(x).data(), await b.forward(x).data()) > 1e-3, 'train() turns dropout back on');
});

test('MultiHeadAttention.forwardWithWeights: weights with keyLengths, an additive mask and a KV cache in chunks match float64', async () => {
  const B = 2, S = 7, E = 12, H = 3, Hkv = 1, D = E / H;
  for (const device of devices) {
    const m = new nn.MultiHeadAttention(E, H, { numKVHeads: Hkv, causal: true, seed: 2, device });
    const w = { wIn: await m.in_proj_weight.data(), bIn: await m.in_proj_bias!.data(), wOut: await m.out_proj.weight.data(), bOut: await m.out_proj.bias!.data() };
    const xData = r.array(B * S * E, -1, 1), maskData = r.array(S * S, -2, 2);
    const ref = mhaForward(xData, w, { B, S, E, H, Hkv, causal: true });
    const attn = { B, H, Hkv, Lq: S, Lk: S, D, scale: 1 / Math.sqrt(D), causal: true, lens: [5, 7], mask: { data: maskData, strides: [0, 0, S, 1] } };
    const { P } = probabilities(ref.q, ref.k, attn);
    const x = tensor(xData, [B, S, E], { device }), mask = tensor(maskData, [S, S], { device });
    const [, weights] = m.forwardWithWeights(x, { keyLengths: [5, 7], mask });
    await check('MHA weights (mask, keyLengths)', weights, P, device, TOL);
    // In chunks of 4 and 3 through a cache: each chunk's rows of the causal weights, keys so far.
    const plain = probabilities(ref.q, ref.k, { ...attn, lens: null, mask: null }).P;
    const cache = m.createCache();
    let at = 0;
    for (const n of [4, 3]) {
      const chunk = new Float32Array(B * n * E);
      for (let b = 0; b < B; b++) chunk.set(xData.subarray((b * S + at) * E, (b * S + at + n) * E), b * n * E);
      const [y, wc] = noGrad(() => m.forwardWithWeights(tensor(chunk, [B, n, E], { device }), { cache }));
      assert.equal(wc.shape, [B, H, n, at + n]);
      const expect: number[] = [];
      for (let bh = 0; bh < B * H; bh++) for (let i = at; i < at + n; i++) for (let j = 0; j < at + n; j++) expect.push(plain[(bh * S + i) * S + j]);
      await check('MHA weights (cached chunks)', wc, expect, `${device} chunk at ${at}`, TOL);
      for (const t of [y, wc]) t.dispose();
      at += n;
    }
    cache.dispose();
    for (const t of [x, mask, weights]) t.dispose();
    m.dispose();
  }
});

const LMS: (LMConfig & { name: string; maxSeqLen: number })[] = [
  { name: 'two layers', V: 11, layers: 2, B: 2, S: 6, E: 16, H: 4, Hkv: 4, F: 32, rms: false, eps: 1e-5, bias: true, maxSeqLen: 9 },
  { name: 'rms, grouped-query, full length', V: 7, layers: 1, B: 1, S: 8, E: 12, H: 3, Hkv: 1, F: 20, rms: true, eps: 2 ** -23, bias: false, maxSeqLen: 8 },
];

const makeLM = (c: LMConfig & { maxSeqLen: number }, device: nn.TransformerLMOptions['device']) => new nn.TransformerLM(c.V, {
  dModel: c.E, numLayers: c.layers, numHeads: c.H, numKVHeads: c.Hkv, ffnDim: c.F, maxSeqLen: c.maxSeqLen,
  norm: c.rms ? 'rms' : 'layer', bias: c.bias, dropout: 0, seed: 9, device,
});

const randomIds = (c: { B: number; S: number; V: number }) => Array.from({ length: c.B }, () => Array.from({ length: c.S }, () => r.int(0, c.V - 1)));

test('TransformerLM: logits and every layer\'s attention weights match float64, every device', async () => {
  for (const c of LMS) {
    for (const device of devices) {
      const where = `${c.name} · ${device}`;
      const lm = makeLM(c, device);
      const p = randomize(lm);
      const ids = randomIds(c);
      const ref = lmForward(ids.flat(), p, c);
      const logits = lm.forward(ids);
      assert.equal(logits.shape, [c.B, c.S, c.V]);
      await check('LM logits', logits, ref.logits, where, TOL);
      const ws = lm.attentionWeights(ids);
      assert.is(ws.length, c.layers);
      for (let l = 0; l < c.layers; l++) {
        assert.equal(ws[l].shape, [c.B, c.H, c.S, c.S]);
        await check('LM attention weights', ws[l], ref.P[l], `${where} layer ${l}`, TOL);
      }
      // A Tensor of ids (WASM reads it synchronously) gives the same logits.
      if (device === 'wasm') await check('LM logits (Tensor ids)', lm.forward(tensor(ids.flat(), [c.B, c.S])), ref.logits, where, TOL);
      for (const t of [logits, ...ws]) t.dispose();
      lm.dispose();
    }
  }
});

test('TransformerLM: gradients of every parameter match finite differences of the float64 reference, every device', async () => {
  const c = { ...LMS[0], B: 2, S: 3, E: 8, H: 2, Hkv: 2, F: 8, V: 5, maxSeqLen: 4 };
  const ids = randomIds(c), g = r.array(c.B * c.S * c.V, -1, 1);
  for (const device of devices) {
    const lm = makeLM(c, device);
    const p = randomize(lm);
    const names = [...lm.namedParameters()].map(([n]) => n);
    const fd = paramGradients(p, names, g, (q) => lmForward(ids.flat(), q, c).logits);
    lm.forward(ids).backward(tensor(g, [c.B, c.S, c.V], { device }));
    for (const [name, t] of lm.namedParameters()) await check(`LM d${name}`, t.grad, fd.get(name)!, device, GRAD_TOL);
    lm.dispose();
  }
});

test('TransformerLM: embeddings start at N(0, 0.02) (GPT-2\'s), reproducibly from a seed; PyTorch-style names', async () => {
  const a = new nn.TransformerLM(50, { dModel: 64, maxSeqLen: 40, seed: 3 }), b = new nn.TransformerLM(50, { dModel: 64, maxSeqLen: 40, seed: 3 });
  for (const name of ['token_embedding', 'position_embedding'] as const) {
    const w = await a[name].weight.data();
    const m = w.reduce((s, v) => s + v, 0) / w.length, sd = Math.sqrt(w.reduce((s, v) => s + (v - m) ** 2, 0) / w.length);
    assert.ok(Math.abs(sd - 0.02) < 0.002 && Math.abs(m) < 0.002, `${name}: mean ${m}, std ${sd}`);
  }
  const [sa, sb] = [a.stateDict(), b.stateDict()];
  for (const k of Object.keys(sa)) assert.equal(await sa[k].data(), await sb[k].data(), `${k} from the same seed`);
  assert.equal(Object.keys(sa).filter((k) => !k.startsWith('layers.')), ['token_embedding.weight', 'position_embedding.weight', 'norm.weight', 'norm.bias', 'lm_head.weight']);
  assert.equal([a.numLayers, a.numHeads, a.dModel, a.maxSeqLen, a.layers[0].ffnDim], [2, 4, 64, 40, 256]);
  a.dispose();
  b.dispose();
});

test.run();
