// nn.MultiHeadAttention on every device against a float64 composition
// (test/reference/mha.ts): forward and the gradients of the input and every
// parameter; grouped-query heads; the key/value cache (generation in chunks
// equals the whole causal sequence); PyTorch's parameter names; errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LeptonError, nn, noGrad, tensor, type Tensor } from '../../src/index.js';
import { layoutsOf } from '../../src/io/layouts.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { mhaForward, mhaVjp, type MhaConfig } from '../reference/mha.js';

const r = testRng('nn-attention');
// Norm-wise relative error against float64; float32 gives ~1e-6 here, a wrong head split or
// projection order gives O(1).
const TOL = 2e-5;

async function weights(m: nn.MultiHeadAttention) {
  return {
    wIn: await m.in_proj_weight.data(), bIn: m.in_proj_bias ? await m.in_proj_bias.data() : null,
    wOut: await m.out_proj.weight.data(), bOut: m.out_proj.bias ? await m.out_proj.bias.data() : null,
  };
}

const CASES: (MhaConfig & { bias: boolean })[] = [
  { B: 2, S: 7, E: 16, H: 4, Hkv: 4, causal: false, bias: true },
  { B: 1, S: 13, E: 24, H: 6, Hkv: 2, causal: true, bias: true },
  { B: 3, S: 1, E: 8, H: 1, Hkv: 1, causal: true, bias: true },
  { B: 2, S: 5, E: 12, H: 4, Hkv: 1, causal: false, bias: false },
  { B: 1, S: 17, E: 64, H: 8, Hkv: 4, causal: true, bias: true },
];

test('forward and the gradients of x and every parameter match float64, every device (MHA, GQA, bias off)', async () => {
  for (const c of CASES) {
    const where = JSON.stringify(c);
    for (const device of devices) {
      const m = new nn.MultiHeadAttention(c.E, c.H, { numKVHeads: c.Hkv, causal: c.causal, bias: c.bias, seed: 7, device });
      // Non-zero biases so their paths are checked too (they start at 0, as PyTorch's).
      if (c.bias) m.loadStateDict({ in_proj_bias: r.array(m.in_proj_bias!.size), 'out_proj.bias': r.array(c.E) }, { strict: false });
      const w = await weights(m);
      const xData = r.array(c.B * c.S * c.E, -1, 1), g = r.array(c.B * c.S * c.E);
      const x = tensor(xData, [c.B, c.S, c.E], { device, requiresGrad: true });
      const y = m.forward(x);
      assert.equal(y.shape, [c.B, c.S, c.E]);
      y.backward(tensor(g, [c.B, c.S, c.E], { device }));
      const ref = mhaForward(xData, w, c), vjp = mhaVjp(xData, w, c, g);
      const errs: [string, number][] = [
        ['forward', relErr(await y.data(), ref.y)], ['dx', relErr(await x.grad!.data(), vjp.dx)],
        ['d in_proj_weight', relErr(await m.in_proj_weight.grad!.data(), vjp.dWin)],
        ['d out_proj.weight', relErr(await m.out_proj.weight.grad!.data(), vjp.dWout)],
      ];
      if (c.bias) {
        errs.push(['d in_proj_bias', relErr(await m.in_proj_bias!.grad!.data(), vjp.dbIn)], ['d out_proj.bias', relErr(await m.out_proj.bias!.grad!.data(), vjp.dbOut)]);
      }
      for (const [what, e] of errs) {
        record(`nn.MultiHeadAttention ${what} · ${device}`, e, where);
        assert.ok(e < TOL, `${device} ${where}: ${what} relative error ${e}`);
      }
      for (const t of [x, y, x.grad]) t!.dispose();
      m.dispose();
    }
  }
});

test('key/value cache: generating in chunks (3, 1, 1, 4 tokens) equals the whole causal sequence, every device', async () => {
  for (const [E, H, Hkv] of [[16, 4, 2], [8, 2, 2]]) {
    const c: MhaConfig = { B: 2, S: 9, E, H, Hkv, causal: true };
    const xData = r.array(c.B * c.S * E, -1, 1);
    for (const device of devices) {
      const m = new nn.MultiHeadAttention(E, H, { numKVHeads: Hkv, causal: true, seed: 3, device });
      const ref = mhaForward(xData, await weights(m), c).y;
      const x = tensor(xData, [c.B, c.S, E], { device });
      const whole = await m.forward(x).data();
      const cache = m.createCache();
      const got = new Float32Array(whole.length);
      let at = 0;
      for (const n of [3, 1, 1, 4]) {
        const chunk = new Float32Array(c.B * n * E);
        for (let b = 0; b < c.B; b++) chunk.set(xData.subarray((b * c.S + at) * E, (b * c.S + at + n) * E), b * n * E);
        const y = noGrad(() => m.forward(tensor(chunk, [c.B, n, E], { device }), { cache }));
        const yd = await y.data();
        for (let b = 0; b < c.B; b++) got.set(yd.subarray(b * n * E, (b + 1) * n * E), (b * c.S + at) * E);
        at += n;
        assert.is(cache.length, at, 'the cache grows by each call\'s tokens');
        assert.equal(cache.k!.shape, [c.B, Hkv, at, E / H]);
        y.dispose();
      }
      const e = relErr(got, ref), eWhole = relErr(whole, ref);
      record(`nn.MultiHeadAttention cached generation · ${device}`, e, `E${E} H${H}/${Hkv}`);
      assert.ok(e < TOL && eWhole < TOL, `${device}: cached ${e}, whole ${eWhole}`);
      cache.dispose();
      assert.is(cache.length, 0);
      x.dispose();
      m.dispose();
    }
  }
});

test('PyTorch parameter names and shapes; grouped-query widths', () => {
  const m = new nn.MultiHeadAttention(32, 8, { numKVHeads: 2 });
  assert.equal([...m.namedParameters()].map(([n, t]) => `${n} ${t.shape.join('x')}`),
    ['in_proj_weight 32x48', 'in_proj_bias 48', 'out_proj.weight 32x32', 'out_proj.bias 32']);
  assert.equal([...new nn.MultiHeadAttention(8, 2, { bias: false }).namedParameters()].map(([n]) => n), ['in_proj_weight', 'out_proj.weight']);
  assert.is(m.headDim, 4);
  // Saved for PyTorch as [3·embed, embed] (x·Wᵀ), as nn.MultiheadAttention keeps it (here [48, 32]: grouped-query).
  assert.equal(layoutsOf(m).get('in_proj_weight')?.perm, [1, 0]);
  assert.equal(layoutsOf(m).get('out_proj.weight')?.perm, [1, 0]);
});

test('bad arguments are LeptonErrors, and a refused call leaves the cache as it was', async () => {
  const expectError = (f: () => unknown, re: RegExp) => {
    try {
      f();
      assert.unreachable(`no error for ${re}`);
    } catch (e) {
      assert.ok(e instanceof LeptonError, (e as Error).message);
      assert.match((e as Error).message, re);
    }
  };
  expectError(() => new nn.MultiHeadAttention(10, 4), /^nn.MultiHeadAttention: embedDim 10 must be divisible by numHeads 4/);
  expectError(() => new nn.MultiHeadAttention(12, 6, { numKVHeads: 4 }), /numHeads 6 must be a multiple of numKVHeads 4/);
  expectError(() => new nn.MultiHeadAttention(0, 1), /argument 'embedDim' must be a positive integer, got 0/);
  expectError(() => new nn.MultiHeadAttention(8, 2, { numKVHead: 1 } as never), /unknown option 'numKVHead' \(did you mean 'numKVHeads'\?\)/);
  for (const device of devices) {
    const m = new nn.MultiHeadAttention(8, 2, { causal: true, device }), other = new nn.MultiHeadAttention(8, 2, { device });
    const x = tensor(r.array(2 * 3 * 8), [2, 3, 8], { device });
    expectError(() => m.forward(tensor(r.array(24), [3, 8], { device })), /argument 'x' must have shape \[batch, seq, 8\] \(batch first\), got \[3, 8\]/);
    expectError(() => m.forward(tensor(r.array(18), [1, 3, 6], { device })), /got \[1, 3, 6\]/);
    expectError(() => m.forward(x, { cache: {} as nn.KVCache }), /option 'cache' must be a KVCache/);
    const cache = m.createCache();
    noGrad(() => m.forward(x, { cache })).dispose();
    const before = await cache.k!.data();
    expectError(() => m.forward(x, { cache, mask: tensor(new Float32Array(4), [2, 2], { device }) }), /^nn.MultiHeadAttention: mask of shape \[2, 2\] does not broadcast to \[batch, heads, seq, keys\] = \[2, 2, 3, 6\]/);
    assert.is(cache.length, 3, 'a refused call does not append');
    assert.equal(await cache.k!.data(), before);
    expectError(() => m.forward(tensor(r.array(8), [1, 1, 8], { device }), { cache }), /the cache holds batch 2, x has batch 1/);
    expectError(() => other.forward(x, { cache }), /the cache belongs to another layer/);
    for (const t of [x] as Tensor[]) t.dispose();
    cache.dispose();
    m.dispose();
    other.dispose();
  }
});

test.run();
