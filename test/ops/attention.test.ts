import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { LeptonError } from '../../src/errors.js';
import { attention, type AttentionOptions } from '../../src/ops/attention.js';
import { add, mul } from '../../src/ops/elementwise.js';
import { matmul } from '../../src/ops/matmul.js';
import { broadcastTo, reshape, transpose } from '../../src/ops/shape.js';
import { softmax } from '../../src/ops/softmax.js';
import type { Tensor } from '../../src/tensor.js';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import { attentionForward, attentionVjp, type AttnConfig } from '../reference/attention.js';
import { absNd, nd, sumTo, type Nd } from '../reference/ops.js';

const r = testRng('ops-attention');

interface AttnCfgLite { causal: boolean; lens: number[]; mask: number[] }
interface OpCfg { B: number; H: number; Hkv: number; Lq: number; Lk: number; D: number; causal?: boolean; scale?: number; mask?: number[]; maskGrad?: boolean; lens?: number[] }

function config(c: OpCfg, mask: Nd | null): AttnConfig {
  const full = [c.B, c.H, c.Lq, c.Lk];
  let strides = [0, 0, 0, 0];
  if (mask) {
    const shape = [...Array(4 - mask.shape.length).fill(1), ...mask.shape];
    let acc = 1;
    for (let a = 3; a >= 0; a--) { strides[a] = shape[a] === 1 && full[a] !== 1 ? 0 : acc; acc *= shape[a]; }
  }
  return {
    B: c.B, H: c.H, Hkv: c.Hkv, Lq: c.Lq, Lk: c.Lk, D: c.D, scale: c.scale ?? 1 / Math.sqrt(c.D), causal: !!c.causal,
    mask: mask ? { data: mask.data, strides } : null, lens: c.lens ?? null,
  };
}

// Small enough for finite differences (every input <= 400 values): seq 1, primes, cross-attention,
// grouped-query heads, causal with Lq < Lk and Lq > Lk, masks (some with a gradient), key lengths.
const CASES: OpCfg[] = [
  { B: 1, H: 1, Hkv: 1, Lq: 1, Lk: 1, D: 1 },
  { B: 1, H: 2, Hkv: 2, Lq: 5, Lk: 5, D: 4, causal: true },
  { B: 2, H: 2, Hkv: 1, Lq: 3, Lk: 7, D: 5 },
  { B: 1, H: 4, Hkv: 2, Lq: 7, Lk: 3, D: 3, causal: true },
  { B: 2, H: 1, Hkv: 1, Lq: 4, Lk: 6, D: 6, mask: [4, 6] },
  { B: 2, H: 2, Hkv: 2, Lq: 3, Lk: 5, D: 2, mask: [2, 1, 3, 5], maskGrad: true },
  { B: 2, H: 3, Hkv: 1, Lq: 2, Lk: 5, D: 3, mask: [2, 1, 1, 5], maskGrad: true, causal: true },
  { B: 3, H: 1, Hkv: 1, Lq: 3, Lk: 6, D: 4, lens: [6, 1, 4] },
  { B: 2, H: 2, Hkv: 2, Lq: 5, Lk: 5, D: 3, lens: [5, 2], causal: true, mask: [5, 5], maskGrad: true },
  { B: 1, H: 2, Hkv: 2, Lq: 6, Lk: 6, D: 7, scale: 0.7 },
  { B: 1, H: 1, Hkv: 1, Lq: 3, Lk: 4, D: 2, mask: [4], maskGrad: true },
];

test('attention: forward, gradients of q, k, v and mask, finite differences, on every device', async () => {
  for (const c of CASES) {
    const q = rnd(r, [c.B, c.H, c.Lq, c.D], -2, 2), k = rnd(r, [c.B, c.Hkv, c.Lk, c.D], -2, 2), v = rnd(r, [c.B, c.Hkv, c.Lk, c.D]);
    const mask = c.mask ? rnd(r, c.mask, -1, 1) : null;
    const cfg = (m: Nd | null) => config(c, m);
    const fullShape = [c.B, c.H, c.Lq, c.Lk];
    const inputs = mask ? [q, k, v, mask] : [q, k, v];
    const opts = (xs: Tensor[]): AttentionOptions => ({ causal: c.causal, scale: c.scale, keyLengths: c.lens, mask: xs[3] ?? null });
    await checkOp({
      name: `attention ${JSON.stringify(c)}`, inputs, grads: mask ? [true, true, true, !!c.maskGrad] : undefined,
      lib: (xs) => attention(xs[0], xs[1], xs[2], opts(xs)),
      ref: (xs) => nd(attentionForward(xs[0].data, xs[1].data, xs[2].data, cfg(xs[3] ?? null)).out, q.shape),
      vjp: (xs, g) => {
        const d = attentionVjp(xs[0].data, xs[1].data, xs[2].data, cfg(xs[3] ?? null), g.data);
        const out = [nd(d.dq, q.shape), nd(d.dk, k.shape), nd(d.dv, v.shape)];
        if (xs[3]) out.push(sumTo(nd(d.dbias, fullShape), xs[3].shape));
        return out;
      },
      scale: (xs) => nd(attentionForward(xs[0].data, xs[1].data, xs[2].data, cfg(xs[3] ?? null), true).out, q.shape),
      gradScale: (xs, g) => {
        const d = attentionVjp(xs[0].data, xs[1].data, xs[2].data, cfg(xs[3] ?? null), g.data, true);
        const out = [nd(d.dq, q.shape), nd(d.dk, k.shape), nd(d.dv, v.shape)];
        if (xs[3]) out.push(sumTo(absNd(nd(d.dbias, fullShape)), xs[3].shape));
        return out;
      },
    }, r, 'attention');
  }
});

/** Attention composed from lepton's own matmul and softmax (the unfused path), with masks as -inf. */
function composite(q: Tensor, k: Tensor, v: Tensor, causal: boolean, lens: number[] | null): Tensor {
  const [B, H, Lq, D] = q.shape, [, Hkv, Lk] = k.shape;
  const expand = (t: Tensor) => reshape(broadcastTo(reshape(t, [B, Hkv, 1, Lk, D]), [B, Hkv, H / Hkv, Lk, D]), [B, H, Lk, D]);
  const bias = new Float32Array(B * Lq * Lk);
  for (let b = 0; b < B; b++) for (let i = 0; i < Lq; i++) for (let j = 0; j < Lk; j++) {
    if ((causal && j > i) || (lens && j >= lens[b])) bias[(b * Lq + i) * Lk + j] = -Infinity;
  }
  const s = mul(matmul(q, transpose(expand(k), [0, 1, 3, 2])), 1 / Math.sqrt(D));
  return matmul(softmax(add(s, tensor(bias, [B, 1, Lq, Lk], { device: q.device }))), expand(v));
}

test('the fused op agrees with attention composed from matmul and softmax (a second oracle), forward and backward', async () => {
  const cases: [number, number, number, number, number, number, boolean, number[] | null][] = [
    [1, 4, 4, 33, 33, 16, true, null], [2, 4, 2, 17, 40, 8, false, [40, 9]], [1, 2, 1, 70, 70, 64, true, null],
  ];
  for (const device of devices) {
    for (const [B, H, Hkv, Lq, Lk, D, causal, lens] of cases) {
      const mk = (shape: number[]) => tensor(r.array(shape.reduce((a, b) => a * b, 1)), shape, { device, requiresGrad: true });
      const q = mk([B, H, Lq, D]), k = mk([B, Hkv, Lk, D]), v = mk([B, Hkv, Lk, D]);
      const g = tensor(r.array(B * H * Lq * D), [B, H, Lq, D], { device });
      const run = async (f: () => Tensor) => {
        const y = f();
        y.backward(g);
        const res = [await y.data(), await q.grad!.data(), await k.grad!.data(), await v.grad!.data()];
        for (const t of [y, q.grad, k.grad, v.grad]) t!.dispose();
        q.grad = k.grad = v.grad = null;
        return res;
      };
      const fused = await run(() => attention(q, k, v, { causal, keyLengths: lens }));
      const comp = await run(() => composite(q, k, v, causal, lens));
      ['out', 'dq', 'dk', 'dv'].forEach((what, i) => {
        const e = relErr(fused[i], comp[i]);
        assert.ok(e < 2e-5, `${device} B${B} H${H}/${Hkv} Lq${Lq} Lk${Lk} D${D}: ${what} fused vs composite ${e}`);
      });
      for (const t of [q, k, v, g]) t.dispose();
    }
  }
});

test('attention rejects bad arguments with a LeptonError before running anything', async () => {
  for (const device of devices) {
    const t = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, { device });
    const q = t([2, 4, 5, 8]), k = t([2, 2, 7, 8]), v = t([2, 2, 7, 8]);
    const bad: [() => unknown, RegExp][] = [
      [() => attention(t([4, 5, 8]), k, v), /argument 'q' must have rank 4 \[batch, heads, seq, headDim\], got shape \[4, 5, 8\]/],
      [() => attention(q, t([2, 2, 7, 4]), v), /head dimensions differ: q has 8, k has 4/],
      [() => attention(q, k, t([2, 2, 7, 6])), /v's head dimension 6 must equal q's and k's 8/],
      [() => attention(q, k, t([2, 2, 6, 8])), /key and value lengths differ: k has 7, v has 6/],
      [() => attention(q, t([2, 3, 7, 8]), t([2, 3, 7, 8])), /q's 4 heads must be a multiple of k's and v's 3 heads/],
      [() => attention(q, k, t([2, 1, 7, 8])), /k and v have different head counts: 2 and 1/],
      [() => attention(q, t([1, 2, 7, 8]), v), /batch sizes differ/],
      [() => attention(q, k, v, { mask: t([5, 6]) }), /mask of shape \[5, 6\] does not broadcast to \[batch, heads, Lq, Lk\] = \[2, 4, 5, 7\]/],
      [() => attention(q, k, v, { mask: t([3, 1, 5, 7]) }), /mask of shape \[3, 1, 5, 7\] does not broadcast/],
      [() => attention(q, k, v, { mask: t([1, 2, 4, 5, 7]) }), /mask of shape \[1, 2, 4, 5, 7\] does not broadcast/],
      [() => attention(q, k, v, { keyLengths: [7] }), /keyLengths has 1 entries; needs 2/],
      [() => attention(q, k, v, { keyLengths: [7, 8] }), /keyLengths\[1\] = 8; needs an integer in \[0, 7\]/],
      [() => attention(q, k, v, { keyLengths: [-1, 2] }), /keyLengths\[0\] = -1/],
      [() => attention(q, k, v, { keyLengths: [1.5, 2] }), /keyLengths\[0\] = 1.5/],
      [() => attention(q, k, v, { scale: NaN }), /option 'scale' must be a finite number/],
      [() => attention(q, k, v, { causal: 1 as unknown as boolean }), /option 'causal' must be a boolean/],
      [() => attention(q, k, v, { isCausal: true } as AttentionOptions), /unknown option 'isCausal' \(did you mean 'causal'\?\)/],
      [() => attention(q, k, v, { keyLengths: 3 as unknown as number[] }), /option 'keyLengths' must be an array or typed array of integers/],
      [() => attention(q, k, v, { mask: [[0]] as unknown as Tensor }), /option 'mask' must be a Tensor or null, got an array/],
      [() => attention(q, k, v, 'causal' as unknown as AttentionOptions), /argument 'options' must be an object/],
      [() => attention(q, [1] as unknown as Tensor, v), /argument 'k' must be a Tensor/],
    ];
    for (const [f, re] of bad) {
      try {
        f();
        assert.unreachable(`no error for ${re}`);
      } catch (e) {
        assert.ok(e instanceof LeptonError, `${device}: ${re}: got ${(e as Error).message}`);
        assert.match((e as Error).message, re, `${device}`);
        assert.match((e as Error).message, /^attention: /);
      }
    }
    for (const x of [q, k, v]) x.dispose();
  }
});

test('special values: NaN and inf reach the rows that see them, as the float64 reference (and PyTorch); hidden keys do not', async () => {
  // [1, 1, 3, 4] queries against 3 keys. Cases: a NaN query (its row is NaN); +inf in key 2 (rows that
  // see it: inf − inf in the softmax, NaN); under causal only row 2 sees key 2; key 2 past keyLengths
  // is never read (a NaN there changes nothing); a -inf mask entry gives its key weight exactly 0.
  const base = () => ({ q: r.array(12), k: r.array(12), v: r.array(12) });
  const cases: [string, (x: ReturnType<typeof base>) => void, Partial<AttnCfgLite>][] = [
    ['NaN query', (x) => { x.q[1] = NaN; }, {}],
    ['+inf key', (x) => { x.q.fill(0.5); x.k[8] = Infinity; }, {}],
    ['+inf key, causal', (x) => { x.q.fill(0.5); x.k[8] = Infinity; }, { causal: true }],
    ['NaN key past keyLengths', (x) => { x.k[9] = NaN; x.v[10] = NaN; }, { lens: [2] }],
    ['-inf mask entries', () => {}, { mask: [0, -Infinity, 0, -Infinity, -Infinity, 0, 0, 0, -Infinity] }],
  ];
  for (const [name, poke, o] of cases) {
    const x = base();
    poke(x);
    const cfg: AttnConfig = { B: 1, H: 1, Hkv: 1, Lq: 3, Lk: 3, D: 4, scale: 0.5, causal: !!o.causal, lens: o.lens ?? null,
      mask: o.mask ? { data: o.mask, strides: [0, 0, 3, 1] } : null };
    const want = attentionForward(x.q, x.k, x.v, cfg).out;
    for (const device of devices) {
      const T = (d: Float32Array) => tensor(d, [1, 1, 3, 4], { device });
      const m = o.mask ? tensor(Float32Array.from(o.mask), [3, 3], { device }) : null;
      const y = attention(T(x.q), T(x.k), T(x.v), { causal: o.causal, keyLengths: o.lens, scale: 0.5, mask: m });
      const got = await y.data();
      for (let i = 0; i < 12; i++) {
        const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Math.abs(got[i] - want[i]) <= 1e-6 * (1 + Math.abs(want[i]));
        assert.ok(ok, `${device} ${name}: out[${i}] = ${got[i]}, float64 reference ${want[i]}`);
      }
      y.dispose();
      m?.dispose();
    }
  }
});

test('a query row that sees no key: output 0 and zero gradients, no NaN (PyTorch 2.5+ scaled_dot_product_attention)', async () => {
  for (const device of devices) {
    const q = tensor(r.array(2 * 3 * 4), [2, 1, 3, 4], { device, requiresGrad: true });
    const k = tensor(r.array(2 * 5 * 4), [2, 1, 5, 4], { device, requiresGrad: true });
    const v = tensor(r.array(2 * 5 * 4), [2, 1, 5, 4], { device, requiresGrad: true });
    const mask = tensor(Float32Array.from({ length: 15 }, (_, x) => (x < 5 ? -Infinity : 0)), [3, 5], { device, requiresGrad: true });
    const y = attention(q, k, v, { keyLengths: [0, 5], mask });
    y.sum().backward();
    const [out, dq, dk, dv, dm] = await Promise.all([y, q.grad!, k.grad!, v.grad!, mask.grad!].map((t) => t.data()));
    for (const xs of [out, dq, dk, dv, dm]) assert.ok(xs.every((x) => Number.isFinite(x)), `${device}: a NaN or inf`);
    // Batch 0 sees no key; batch 1's row 0 is all -inf: zero outputs and zero query gradients there.
    for (let x = 0; x < 12; x++) assert.ok(out[x] === 0 && dq[x] === 0, `${device}: batch 0 row ${x >> 2}`);
    for (let d = 0; d < 4; d++) assert.ok(out[12 + d] === 0 && dq[12 + d] === 0, `${device}: batch 1 row 0`);
    for (let x = 0; x < 20; x++) assert.ok(dk[x] === 0 && dv[x] === 0, `${device}: batch 0 keys`);
    for (const t of [q, k, v, mask, y, q.grad, k.grad, v.grad, mask.grad]) t!.dispose();
  }
});

test.run();
