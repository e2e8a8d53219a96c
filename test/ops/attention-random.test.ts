// The public attention op (autograd included) on fresh random configurations,
// every device: forward and the gradients of q, k, v and a mask that requires
// one, against the float64 unfused reference softmax(Q·Kᵀ·scale + mask)·V
// (test/reference/attention.ts). The kernel test covers the primitives; this
// covers what the op adds: broadcast masks and their summed gradient, key
// lengths from a plain array, default scale, grouped-query shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { attention } from '../../src/ops/attention.js';
import type { Tensor } from '../../src/tensor.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng, type Rng } from '../helpers/random.js';
import { attentionForward, attentionVjp, type AttnConfig } from '../reference/attention.js';
import { absNd, nd, sumTo } from '../reference/ops.js';

const r = testRng('ops-attention-random');
const CASES = 50;
// Errors are relative to the scale of the summed terms (P·|V|, the absolute-value VJP), as in the
// kernel test: float32 is accurate to ~1e-6 of those; a wrong mask, index or tile is off by O(1).
const TOL = 1e-5;
const LENS = [1, 2, 3, 5, 7, 11, 13, 16, 17, 31, 37, 61, 64, 67];
const DIMS = [1, 2, 3, 5, 8, 16, 17, 32, 64, 65, 100, 128, 129, 256];

interface Cfg extends AttnConfig { maskShape: number[] | null; maskGrad: boolean; explicitScale: boolean }

function maskStrides(shape: number[], full: number[]): number[] {
  const s4 = [...Array(4 - shape.length).fill(1), ...shape];
  const st = [0, 0, 0, 0];
  let acc = 1;
  for (let a = 3; a >= 0; a--) { st[a] = s4[a] === 1 && full[a] !== 1 ? 0 : acc; acc *= s4[a]; }
  return st;
}

function makeCase(i: number, rr: Rng): Cfg {
  const H = rr.pick([1, 2, 3, 4, 6, 8]);
  const Hkv = rr.pick([1, 2, 3, 4, 6, 8].filter((d) => H % d === 0));
  // The first cases pin headDim 1 and 256 and a single query and key; the rest are drawn.
  const D = i === 0 ? 1 : i === 1 ? 256 : rr.pick(DIMS);
  let Lq = i === 2 ? 1 : rr.pick(LENS), Lk = i === 2 ? 1 : rr.next() < 0.5 ? Lq : rr.pick(LENS);
  const B = rr.pick([1, 1, 2, 3]);
  // Small enough for SwiftShader and the float64 reference: B·H·Lq·Lk·D under ~1M multiply-adds.
  while (B * H * Lq * Lk * D > 1e6) { if (Lq >= Lk) Lq = Math.ceil(Lq / 2); else Lk = Math.ceil(Lk / 2); }
  const full = [B, H, Lq, Lk];
  const shapes: (number[] | null)[] = [null, null, [Lq, Lk], [B, 1, Lq, Lk], [1, H, Lq, Lk], [B, H, Lq, Lk], [B, 1, 1, Lk], [Lk], [Lq, 1], [H, 1, Lk]];
  const maskShape = rr.pick(shapes);
  let mask: AttnConfig['mask'] = null;
  if (maskShape) {
    const n = maskShape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from(rr.array(n, -2, 2), (x) => (rr.next() < 0.1 ? -Infinity : x));
    mask = { data, strides: maskStrides(maskShape, full) };
  }
  const lens = rr.next() < 0.35 ? Array.from({ length: B }, () => rr.pick([0, Lk, rr.int(0, Lk), rr.int(1, Lk)])) : null;
  const explicitScale = rr.next() < 0.3;
  return {
    B, H, Hkv, Lq, Lk, D, causal: rr.next() < 0.4, mask, lens, maskShape, maskGrad: !!maskShape && rr.next() < 0.5,
    explicitScale, scale: explicitScale ? Math.fround(rr.uniform(0.05, 0.5)) : 1 / Math.sqrt(D),
  };
}

const describe = (c: Cfg) => `B${c.B} H${c.H}/${c.Hkv} Lq${c.Lq} Lk${c.Lk} D${c.D}${c.causal ? ' causal' : ''}`
  + `${c.maskShape ? ` mask[${c.maskShape}]${c.maskGrad ? '+grad' : ''}` : ''}${c.lens ? ` lens[${c.lens}]` : ''}${c.explicitScale ? ` scale ${c.scale}` : ''}`;

test(`attention op: forward and gradients on ${CASES} fresh random configurations, every device, against float64`, async () => {
  for (let i = 0; i < CASES; i++) {
    const c = makeCase(i, r);
    const where = describe(c);
    const nq = c.B * c.H * c.Lq * c.D, nk = c.B * c.Hkv * c.Lk * c.D;
    const q = r.array(nq, -2, 2), k = r.array(nk, -2, 2), v = r.array(nk), g = r.array(nq);
    const ref = attentionForward(q, k, v, c), outScale = attentionForward(q, k, v, c, true).out;
    const vjp = attentionVjp(q, k, v, c, g), gs = attentionVjp(q, k, v, c, g, true);
    const full = [c.B, c.H, c.Lq, c.Lk];
    const dmask = c.maskGrad ? sumTo(nd(vjp.dbias, full), c.maskShape!).data : null;
    const dmaskScale = c.maskGrad ? sumTo(absNd(nd(gs.dbias, full)), c.maskShape!).data : null;
    for (const device of devices) {
      const T = (data: Float32Array, shape: number[], requiresGrad = true) => tensor(data, shape, { device, requiresGrad });
      const tq = T(q, [c.B, c.H, c.Lq, c.D]), tk = T(k, [c.B, c.Hkv, c.Lk, c.D]), tv = T(v, [c.B, c.Hkv, c.Lk, c.D]);
      const tm = c.mask ? T(Float32Array.from(c.mask.data), c.maskShape!, c.maskGrad) : null;
      const y = attention(tq, tk, tv, { causal: c.causal, mask: tm, keyLengths: c.lens, scale: c.explicitScale ? c.scale : undefined });
      assert.equal(y.shape, [c.B, c.H, c.Lq, c.D]);
      y.backward(T(g, [c.B, c.H, c.Lq, c.D], false));
      const errs: [string, number][] = [
        ['forward', relErr(await y.data(), ref.out, outScale)],
        ['dq', relErr(await tq.grad!.data(), vjp.dq, gs.dq)],
        ['dk', relErr(await tk.grad!.data(), vjp.dk, gs.dk)],
        ['dv', relErr(await tv.grad!.data(), vjp.dv, gs.dv)],
      ];
      if (tm && c.maskGrad) errs.push(['dmask', relErr(await tm.grad!.data(), dmask!, dmaskScale!)]);
      else if (tm) assert.is(tm.grad, null, `${device} ${where}: a mask without requiresGrad got a gradient`);
      for (const [what, err] of errs) {
        record(`attention op ${what} · ${device}`, err, where);
        assert.ok(err < TOL, `${device} ${where}: ${what} relative error ${err}`);
      }
      for (const t of [y, tq, tk, tv, tm, tq.grad, tk.grad, tv.grad, tm?.grad] as (Tensor | null | undefined)[]) t?.dispose();
    }
  }
});

test.run();
