import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ACTIVATIONS, type Activation, type ActGradOp, type Backend } from '../../src/backends/backend.js';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { describeGeom, KINDS, randomGeom } from '../helpers/conv-cases.js';
import { record, relErr } from '../helpers/error.js';
import { testRng, type Rng } from '../helpers/random.js';
import { filterSplit } from '../../src/backends/webgpu/kernels/conv.js';
import * as ref from '../reference/conv.js';
import type { ConvGeom } from '../reference/conv.js';

const r = testRng('conv');
// Errors against |x|·|w| + |b| through the activation (ref.conv2dScale), as the matmul tests:
// a product of Kh·Kw·Cg (or, for the filter gradient, N·Ho·Wo) terms is accurate to that.
const TOL = 2e-6;
const ACTS = Object.keys(ACTIVATIONS) as Activation[];
const OPS: ActGradOp[] = ['relu_bwd', 'gelu_bwd', 'tanh_bwd', 'sigmoid_bwd'];
/** Every kernel runs on 56 fresh geometries (7 of each kind), all backends, plus larger ones on WASM. */
const CASES = 56;

const sizes = (g: ConvGeom) => ({ x: g.N * g.H * g.W * g.C, w: g.Kh * g.Kw * (g.C / g.groups) * g.O, y: g.N * g.Ho * g.Wo * g.O });

function geometries(): { g: ConvGeom; wasmOnly: boolean }[] {
  const out = Array.from({ length: CASES }, (_, i) => ({ g: randomGeom(r, KINDS[i % KINDS.length], true), wasmOnly: false }));
  // Larger ones: several tiles, panels and chunks per part, every path split over threads.
  const big: ConvGeom[] = [
    { N: 2, H: 17, W: 19, C: 16, Ho: 17, Wo: 19, O: 24, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 1 },
    { N: 3, H: 14, W: 14, C: 1, Ho: 14, Wo: 14, O: 13, Kh: 5, Kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 2, padLeft: 2, groups: 1 },
    { N: 2, H: 13, W: 23, C: 1, Ho: 13, Wo: 21, O: 9, Kh: 3, Kw: 4, sh: 1, sw: 1, dh: 1, dw: 3, padTop: 1, padLeft: 3, groups: 1 },
    // A left padding far wider than the window: whole tiles see only padding (their output is the bias).
    { N: 2, H: 5, W: 3, C: 1, Ho: 5, Wo: 40, O: 6, Kh: 3, Kw: 2, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 30, groups: 1 },
    { N: 2, H: 15, W: 13, C: 24, Ho: 8, Wo: 7, O: 20, Kh: 3, Kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 1 },
    { N: 2, H: 12, W: 12, C: 40, Ho: 12, Wo: 12, O: 40, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 40 },
    // Tiles inside a row on their row's segments, offset per tile (64 and 128 channels, strides across 1 and 2):
    // merged filter rows, one record per tap at dilation 3, and grouped (each group at its channel offset).
    { N: 1, H: 6, W: 11, C: 64, Ho: 6, Wo: 11, O: 12, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 1 },
    { N: 1, H: 5, W: 13, C: 64, Ho: 4, Wo: 7, O: 9, Kh: 2, Kw: 3, sh: 1, sw: 2, dh: 1, dw: 1, padTop: 0, padLeft: 1, groups: 1 },
    { N: 1, H: 5, W: 12, C: 32, Ho: 5, Wo: 6, O: 8, Kh: 3, Kw: 3, sh: 1, sw: 2, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 1 },
    { N: 1, H: 4, W: 10, C: 128, Ho: 4, Wo: 10, O: 8, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 1 },
    { N: 2, H: 7, W: 14, C: 16, Ho: 7, Wo: 15, O: 8, Kh: 3, Kw: 2, sh: 1, sw: 1, dh: 1, dw: 3, padTop: 1, padLeft: 2, groups: 1 },
    { N: 1, H: 6, W: 13, C: 16, Ho: 6, Wo: 13, O: 10, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 2 },
    // 32 channels with rows 2 apart in height and dilated, 16 at stride 2 across.
    { N: 1, H: 9, W: 12, C: 32, Ho: 4, Wo: 12, O: 11, Kh: 3, Kw: 3, sh: 2, sw: 1, dh: 2, dw: 1, padTop: 1, padLeft: 1, groups: 1 },
    { N: 2, H: 5, W: 17, C: 16, Ho: 5, Wo: 9, O: 8, Kh: 3, Kw: 3, sh: 1, sw: 2, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 1 },
    // Depthwise four-pixel blocks at stride 2 in height with a channel tail of 3.
    { N: 1, H: 11, W: 14, C: 11, Ho: 6, Wo: 14, O: 11, Kh: 3, Kw: 3, sh: 2, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 11 },
    // Depthwise 3 across, stride 1: four-pixel blocks inside the row, single pixels at its edges, 13 channels (a tail of 1).
    { N: 2, H: 9, W: 23, C: 13, Ho: 7, Wo: 23, O: 13, Kh: 2, Kw: 3, sh: 1, sw: 1, dh: 2, dw: 1, padTop: 0, padLeft: 2, groups: 13 },
    { N: 1, H: 16, W: 16, C: 33, Ho: 16, Wo: 16, O: 9, Kh: 1, Kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 0, padLeft: 0, groups: 1 },
    { N: 2, H: 11, W: 10, C: 12, Ho: 9, Wo: 8, O: 18, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 2, dw: 2, padTop: 1, padLeft: 1, groups: 3 },
  ];
  for (const g of big) out.push({ g, wasmOnly: true });
  return out;
}

/** A t for the prologue op: a layer output for relu/tanh/sigmoid, a pre-activation for gelu (as the matmul tests). */
function tFor(rr: Rng, op: ActGradOp, n: number): Float32Array {
  return op === 'sigmoid_bwd' ? rr.array(n, 0.01, 0.99) : op === 'tanh_bwd' ? rr.array(n, -0.99, 0.99) : rr.array(n, -3, 3);
}

const on = (wasmOnly: boolean) => backends.filter((be) => !wasmOnly || be.name === 'wasm');

async function check(what: string, where: string, be: Backend, got: Float32Array, expect: Float64Array, scale: Float64Array) {
  const err = relErr(got, expect, scale);
  record(`${what} · ${label(be)}`, err, where);
  assert.ok(err < TOL, `${what} ${label(be)} ${where}: relative error ${err}`);
}

/**
 * Runs the forward of `g` (fresh random x, w and, with `withBias`, bias) on each backend of `bes` and
 * checks it against float64; returns the outputs (for agree()).
 */
async function forwardCase(what: string, g: ConvGeom, act: Activation, withBias: boolean, bes: Backend[]): Promise<Float32Array[]> {
  const s = sizes(g);
  const x = r.array(s.x), w = r.array(s.w), bias = withBias ? r.array(g.O) : null;
  const expect = ref.conv2d(x, w, bias, g, act), scale = ref.conv2dScale(x, w, bias, g, act);
  const where = `${describeGeom(g)}${withBias ? ' +bias' : ''} ${act}`;
  const outs: Float32Array[] = [];
  for (const be of bes) {
    const hx = upload(be, x), hw = upload(be, w), hb = bias ? upload(be, bias) : null, out = poisoned(be, s.y);
    be.conv2d(hx, hw, hb, out, { ...g, act });
    const got = await be.read(out, s.y);
    for (const h of [hx, hw, hb, out]) if (h) be.free(h);
    await check(what, where, be, got, expect, scale);
    outs.push(got);
  }
  agree(outs, where, TOL, scale);
  return outs;
}

/** As forwardCase, for the input gradient (fresh dy, w and, with `op`, the prologue's t). */
async function dataCase(what: string, g: ConvGeom, op: ActGradOp | null, bes: Backend[]): Promise<void> {
  const s = sizes(g);
  const dy = r.array(s.y), w = r.array(s.w), t = op ? tFor(r, op, s.y) : null;
  const pro = op ? { op, t: t! } : null;
  const expect = ref.conv2dBackwardData(ref.prologued(dy, pro), w, g);
  const scale = ref.conv2dBackwardData(ref.prologued(dy, pro, true), w, g, true);
  const where = `${describeGeom(g)}${op ? ` ${op}` : ''}`;
  const outs: Float32Array[] = [];
  for (const be of bes) {
    const hy = upload(be, dy), hw = upload(be, w), ht = t ? upload(be, t) : null, dx = poisoned(be, s.x);
    be.conv2dBackwardData(hy, hw, dx, { ...g, prologue: op ? { op, t: ht! } : null });
    const got = await be.read(dx, s.x);
    for (const h of [hy, hw, ht, dx]) if (h) be.free(h);
    await check(what, where, be, got, expect, scale);
    outs.push(got);
  }
  agree(outs, where, TOL, scale);
}

test('conv2d forward (fused bias + activation) matches float64 on 63 geometries', async () => {
  let i = 0;
  for (const { g, wasmOnly } of geometries()) await forwardCase('conv2d forward', g, ACTS[i++ % ACTS.length], r.next() < 0.6, on(wasmOnly));
});

test('depthwise 3×3 forward at the channel counts with compile-time pixel strides (and their neighbours), with and without bias, every WASM build', async () => {
  // The WASM forward adds one filter row at a time to four pixels, with constant pixel strides for 16-256
  // channels; 34 channels (a whole-vector part of 32, a tail of 2) and 36 (whole, no constant stride) must not take them.
  const wasm = backends.filter((be) => be.name === 'wasm');
  assert.ok(wasm.length > 0, 'no WASM backend');
  let i = 0;
  for (const C of [16, 32, 34, 36, 64, 128, 256]) {
    for (const withBias of [true, false]) {
      const dh = C === 64 ? 2 : 1, sh = C === 256 ? 2 : 1, H = 7, W = 11;
      const Ho = Math.floor((H - 1) / sh) + 1; // padding dh each side, window 2·dh + 1
      const g: ConvGeom = { N: 2, H, W, C, Ho, Wo: W, O: C, Kh: 3, Kw: 3, sh, sw: 1, dh, dw: 1, padTop: dh, padLeft: 1, groups: C };
      await forwardCase('conv2d forward', g, ACTS[i++ % ACTS.length], withBias, wasm);
    }
  }
});

test('depthwise forward: channel tails, strides, dilations, wide paddings, with and without bias, every backend', async () => {
  // WebGPU's conv_depthwise holds 4 channels × 4 pixels of a row: 5 and 13 channels end in a partial vec4;
  // 13+ columns give blocks inside the row (the sliding window at stride 1, dilation 1 across; plain loads
  // otherwise) and blocks at its edges (checked taps); paddings wider than the window give rows and
  // blocks that see only padding (their output is the bias).
  const dwGeom = (N: number, H: number, W: number, C: number, Kh: number, Kw: number, sh: number, sw: number,
    dh: number, dw: number, pads: [number, number, number, number]): ConvGeom => {
    const Ho = Math.floor((H + pads[0] + pads[1] - (Kh - 1) * dh - 1) / sh) + 1;
    const Wo = Math.floor((W + pads[2] + pads[3] - (Kw - 1) * dw - 1) / sw) + 1;
    return { N, H, W, C, Ho, Wo, O: C, Kh, Kw, sh, sw, dh, dw, padTop: pads[0], padLeft: pads[2], groups: C };
  };
  const geoms = [
    dwGeom(2, 7, 13, 5, 3, 3, 1, 1, 1, 1, [1, 1, 1, 1]),
    dwGeom(1, 9, 17, 13, 3, 3, 2, 2, 1, 1, [1, 1, 1, 1]),
    dwGeom(2, 8, 14, 8, 3, 3, 1, 1, 2, 2, [2, 2, 2, 2]),
    dwGeom(1, 6, 15, 32, 5, 5, 1, 1, 1, 1, [2, 2, 2, 2]),
    dwGeom(2, 9, 11, 13, 3, 5, 2, 1, 2, 1, [4, 3, 5, 6]),
    dwGeom(1, 5, 9, 8, 3, 3, 1, 2, 1, 2, [3, 4, 7, 5]),
    dwGeom(1, 11, 19, 5, 7, 4, 2, 1, 1, 1, [3, 3, 2, 1]),
    dwGeom(2, 4, 6, 32, 1, 1, 1, 1, 1, 1, [0, 0, 0, 0]),
  ];
  let i = 0;
  for (const g of geoms) {
    for (const withBias of [true, false]) {
      await forwardCase('conv2d forward depthwise', g, ACTS[i++ % ACTS.length], withBias, backends);
    }
  }
});

test('3×3 stride-1 forward and input gradient on the Winograd path (WASM: F(2×2, 3×3)) match float64 on 30 geometries, every backend', async () => {
  // Odd and even output sizes (partial 2×2 tiles), paddings 0-2 on each side (tiles over the border),
  // channels not a multiple of 4, output channels with a tail past 8, tile counts not a multiple of 4.
  // The input gradient runs as a forward over dy with the filter turned and transposed (O ≥ 8 channels in).
  for (let i = 0; i < 30; i++) {
    const N = r.int(1, 3), C = r.pick([8, 9, 12, 16, 23, 32, 40]), O = i % 2 ? r.int(1, 21) : r.int(8, 30);
    const padTop = r.int(0, 2), padLeft = r.int(0, 2), H = r.int(2, 11), W = r.int(2, 11);
    const Ho = H + padTop + r.int(0, 2) - 2, Wo = W + padLeft + r.int(0, 2) - 2;
    if (Ho < 2 || Wo < 2) { i--; continue; }
    const g: ConvGeom = { N, H, W, C, Ho, Wo, O, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop, padLeft, groups: 1 };
    await forwardCase('conv2d forward 3×3 s1', g, ACTS[i % ACTS.length], i % 3 !== 0, backends);
    // Even i draw O ≥ 8 (the input gradient's Winograd path): half of them with a prologue.
    await dataCase('conv2d backward-data 3×3 s1', g, i % 4 === 0 ? OPS[(i / 4) % OPS.length] : null, backends);
  }
  // Many channels: the transforms' rounding summed over a long product stays within the tolerance.
  const g: ConvGeom = { N: 1, H: 6, W: 7, C: 512, Ho: 6, Wo: 7, O: 9, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 1 };
  await forwardCase('conv2d forward 3×3 s1', g, 'none', false, backends.filter((b) => b.name === 'wasm'));
});

test('3×3 stride-1 forward and input gradient with ±inf, NaN and values near f32\'s range give the direct product\'s answers on WASM (the Winograd transforms must not turn inf into inf − inf)', async () => {
  const wasm = backends.filter((be) => be.name === 'wasm');
  assert.ok(wasm.length > 0, 'no WASM backend');
  const g: ConvGeom = { N: 1, H: 6, W: 6, C: 8, Ho: 6, Wo: 6, O: 8, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1, groups: 1 };
  const s = sizes(g);
  const cases: { name: string; x: Float32Array; w: Float32Array }[] = [];
  const base = () => ({ x: r.array(s.x, 0.5, 1), w: r.array(s.w, 0.5, 1) });
  { const c = base(); c.x[(2 * 6 + 2) * 8] = Infinity; cases.push({ name: '+inf in x', ...c }); }
  { const c = base(); c.x[(3 * 6 + 4) * 8 + 5] = -Infinity; cases.push({ name: '-inf in x', ...c }); }
  { const c = base(); c.w[(1 * 3 + 1) * 64 + 3 * 8 + 2] = Infinity; cases.push({ name: '+inf in the centre tap of w', ...c }); }
  { const c = base(); c.x[(4 * 6 + 1) * 8 + 7] = NaN; cases.push({ name: 'NaN in x', ...c }); }
  // Rows of ±2e38: the transforms' d0 − d2 would overflow; the direct sums stay finite.
  { const c = base(); for (let i = 0; i < s.x; i++) c.x[i] = (Math.floor(i / 48) % 2 ? -2e38 : 2e38); c.w.fill(1e-3); cases.push({ name: '±2e38 rows', ...c }); }
  for (const { name, x, w } of cases) {
    // The input gradient reads x as dy (here O = C, so the sizes agree).
    for (const data of [false, true]) {
      const expect = data ? ref.conv2dBackwardData(x, w, g) : ref.conv2d(x, w, null, g, 'none');
      const scale = data ? ref.conv2dBackwardData(x, w, g, true) : ref.conv2dScale(x, w, null, g, 'none');
      for (const be of wasm) {
        const hx = upload(be, x), hw = upload(be, w), out = poisoned(be, expect.length);
        if (data) be.conv2dBackwardData(hx, hw, out, { ...g, prologue: null });
        else be.conv2d(hx, hw, null, out, { ...g, act: 'none' });
        const got = await be.read(out, expect.length);
        for (const h of [hx, hw, out]) be.free(h);
        for (let i = 0; i < expect.length; i++) {
          const e = expect[i], v = got[i], where = `${name}, ${data ? 'input gradient' : 'forward'}, ${label(be)}, element ${i}`;
          if (Number.isFinite(e)) assert.ok(Math.abs(v - e) <= 1e-5 * scale[i], `${where}: ${v} vs ${e}`);
          else assert.ok(Object.is(v, e) || (Number.isNaN(v) && Number.isNaN(e)), `${where}: ${v} vs ${e}`);
        }
      }
    }
  }
});

test('conv2d forward, one input channel, left padding far wider than the window: bias-only tiles are right, every backend', async () => {
  // The grey-layer path copies each tile's padded span; a span wholly in the padding once overran its scratch.
  for (const padLeft of [9, 80, 250]) {
    const g: ConvGeom = { N: 2, H: 3, W: 2, C: 1, Ho: 3, Wo: padLeft + 4, O: 5, Kh: 3, Kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft, groups: 1 };
    await forwardCase('conv2d forward', g, 'none', true, backends);
  }
});

test('conv2d backward-data (with and without the activation prologue) matches float64 on 63 geometries', async () => {
  let i = 0;
  for (const { g, wasmOnly } of geometries()) {
    const op = i++ % 3 === 0 ? OPS[(i >> 2) % OPS.length] : null;
    await dataCase('conv2d backward-data', g, op, on(wasmOnly));
  }
});

test('conv2d backward-filter (prologue, bias gradient, dZ out) matches float64 on 63 geometries', async () => {
  let i = 0;
  for (const { g, wasmOnly } of geometries()) {
    const s = sizes(g);
    const op = i++ % 2 === 0 ? OPS[(i >> 1) % OPS.length] : null;
    const withSum = r.next() < 0.7, withDz = op !== null && r.next() < 0.6;
    const x = r.array(s.x), dy = r.array(s.y), t = op ? tFor(r, op, s.y) : null;
    const pro = op ? { op, t: t! } : null;
    const dz = ref.prologued(dy, pro), dzScale = ref.prologued(dy, pro, true);
    const expect = ref.conv2dBackwardFilter(x, dz, g), scale = ref.conv2dBackwardFilter(x, dzScale, g, true);
    const expectSum = ref.biasGrad(dz, g.O), sumScale = ref.biasGrad(dzScale, g.O, true);
    const where = `${describeGeom(g)}${op ? ` ${op}` : ''}${withSum ? ' +Σ' : ''}${withDz ? ' +dZ' : ''}`;
    const outs: Float32Array[] = [];
    for (const be of on(wasmOnly)) {
      const hx = upload(be, x), hy = upload(be, dy), ht = t ? upload(be, t) : null, dw = poisoned(be, s.w);
      const hs = withSum ? poisoned(be, g.O) : null, hz = withDz ? poisoned(be, s.y) : null;
      be.conv2dBackwardFilter(hx, hy, dw, { ...g, prologue: op ? { op, t: ht! } : null, sumB: hs, dzOut: hz });
      const got = await be.read(dw, s.w);
      const sums = hs ? await be.read(hs, g.O) : null, dzGot = hz ? await be.read(hz, s.y) : null;
      for (const h of [hx, hy, ht, dw, hs, hz]) if (h) be.free(h);
      await check('conv2d backward-filter', where, be, got, expect, scale);
      if (sums) await check('conv2d backward-filter Σ dZ', where, be, sums, expectSum, sumScale);
      if (dzGot) await check('conv2d backward-filter dZ', where, be, dzGot, dz, dzScale);
      outs.push(got);
    }
    agree(outs, where, TOL, scale);
  }
});

test('WebGPU filter gradient with its pixel sum split into chunks (partials, then their sum)', async () => {
  const gpu = backends.find((be) => be.name === 'webgpu');
  if (!gpu) return; // no adapter: reported loudly by the helper, a failure under CI
  const saved = { ...filterSplit };
  filterSplit.minChunk = 3;
  filterSplit.target = { gpu: 1e6, cpu: 1e6 };
  try {
    for (let i = 0; i < 8; i++) {
      const g = randomGeom(r, KINDS[i % KINDS.length], true), s = sizes(g);
      const op = i % 2 ? OPS[i % OPS.length] : null;
      const x = r.array(s.x), dy = r.array(s.y), t = op ? tFor(r, op, s.y) : null;
      const dz = ref.prologued(dy, op ? { op, t: t! } : null), dzScale = ref.prologued(dy, op ? { op, t: t! } : null, true);
      const hx = upload(gpu, x), hy = upload(gpu, dy), ht = t ? upload(gpu, t) : null;
      const dw = poisoned(gpu, s.w), hs = poisoned(gpu, g.O), hz = poisoned(gpu, s.y);
      gpu.conv2dBackwardFilter(hx, hy, dw, { ...g, prologue: op ? { op, t: ht! } : null, sumB: hs, dzOut: hz });
      const where = `${describeGeom(g)} ${op ?? ''} in chunks of 3 pixels`;
      await check('conv2d backward-filter', where, gpu, await gpu.read(dw, s.w), ref.conv2dBackwardFilter(x, dz, g), ref.conv2dBackwardFilter(x, dzScale, g, true));
      await check('conv2d backward-filter Σ dZ', where, gpu, await gpu.read(hs, g.O), ref.biasGrad(dz, g.O), ref.biasGrad(dzScale, g.O, true));
      await check('conv2d backward-filter dZ', where, gpu, await gpu.read(hz, s.y), dz, dzScale);
      for (const h of [hx, hy, ht, dw, hs, hz]) if (h) gpu.free(h);
    }
  } finally {
    Object.assign(filterSplit, saved);
  }
});

test.run();
