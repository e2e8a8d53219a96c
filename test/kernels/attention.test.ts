import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AttentionParams, Backend } from '../../src/backends/backend.js';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng, type Rng } from '../helpers/random.js';
import { attentionForward, attentionVjp, type AttnConfig } from '../reference/attention.js';

const r = testRng('attention');
// Errors are measured against the scale of the terms each result sums (P·|V| for the output,
// the absolute-value VJP for the gradients): float32 gets those right, not a cancelled sum.
// Measured worst ~1e-6; a wrong tile, mask or index gives errors of order 1.
const TOL = 1e-5;
// 1, primes, and neighbours of the tile sizes (64 on WASM, 16..64 on WebGPU).
const LENS = [1, 2, 3, 5, 7, 13, 17, 31, 59, 63, 64, 65, 67, 97, 121, 127, 128, 129];
const DIMS = [1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129, 200, 255, 256];

interface Case extends AttnConfig { maskShape: number[] | null; withLens: boolean; dbias: boolean }

/** Strides of a mask of `shape` (rank 1..4) broadcast to [B, H, Lq, Lk]. */
function maskStrides(shape: number[]): number[] {
  const full = [...Array(4 - shape.length).fill(1), ...shape];
  const st = [0, 0, 0, 0];
  let acc = 1;
  for (let a = 3; a >= 0; a--) { st[a] = full[a] === 1 ? 0 : acc; acc *= full[a]; }
  return st;
}

function makeCase(i: number, rr: Rng, dims = DIMS): Case {
  // The first cases pin the corners: one query and key, headDim 1 and 256, seq 1 with causal.
  const fixed: Partial<Case>[] = [
    { B: 1, H: 1, Hkv: 1, Lq: 1, Lk: 1, D: 1 }, { B: 1, H: 2, Hkv: 1, Lq: 1, Lk: 5, D: 256, causal: true },
    { B: 2, H: 2, Hkv: 2, Lq: 61, Lk: 61, D: 64, causal: true }, { B: 1, H: 4, Hkv: 2, Lq: 7, Lk: 130, D: 128 },
    { B: 1, H: 1, Hkv: 1, Lq: 130, Lk: 3, D: 3, causal: true },
  ];
  const f = fixed[i] ?? {};
  const H = f.H ?? rr.pick([1, 2, 3, 4, 6]);
  const divisors = [1, 2, 3, 4, 6].filter((d) => H % d === 0);
  const D = f.D ?? rr.pick(dims);
  // Keep each case small enough for SwiftShader: B·H·Lq·Lk·D under ~1.5M multiply-adds.
  let Lq = f.Lq ?? rr.pick(LENS), Lk = f.Lk ?? (rr.next() < 0.5 ? Lq : rr.pick(LENS));
  const B = f.B ?? rr.pick([1, 1, 2, 3]);
  while (B * H * Lq * Lk * D > 1.5e6) { if (Lq >= Lk) Lq = Math.ceil(Lq / 2); else Lk = Math.ceil(Lk / 2); }
  const Hkv = f.Hkv ?? rr.pick(divisors);
  const causal = f.causal ?? rr.next() < 0.4;
  const shapes: (number[] | null)[] = [null, null, [Lq, Lk], [B, 1, Lq, Lk], [1, H, Lq, Lk], [B, H, Lq, Lk], [B, 1, 1, Lk], [Lk], [Lq, 1]];
  const maskShape = i < fixed.length ? null : rr.pick(shapes);
  let mask: AttnConfig['mask'] = null;
  if (maskShape) {
    const n = maskShape.reduce((a, b) => a * b, 1);
    // Some -inf entries (masked out), as a user's padding mask has.
    const data = Float32Array.from(rr.array(n, -2, 2), (x) => (rr.next() < 0.1 ? -Infinity : x));
    mask = { data, strides: maskStrides(maskShape) };
  }
  const withLens = i >= fixed.length && rr.next() < 0.35;
  const lens = withLens ? Array.from({ length: B }, () => rr.pick([0, Lk, rr.int(0, Lk), rr.int(1, Lk)])) : null;
  const scale = rr.next() < 0.7 ? 1 / Math.sqrt(D) : Math.fround(rr.uniform(0.05, 0.5));
  return { B, H, Hkv, Lq, Lk, D, scale, causal, mask, lens, maskShape, withLens, dbias: !!maskShape && rr.next() < 0.5 };
}

function describe(c: Case): string {
  return `B${c.B} H${c.H}/${c.Hkv} Lq${c.Lq} Lk${c.Lk} D${c.D}${c.causal ? ' causal' : ''}`
    + `${c.maskShape ? ` mask[${c.maskShape}]` : ''}${c.lens ? ` lens[${Array.from(c.lens)}]` : ''}${c.dbias ? ' dbias' : ''}`;
}

interface Run { out: Float32Array; lse: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array; dbias: Float32Array | null }

async function run(be: Backend, c: Case, q: Float32Array, k: Float32Array, v: Float32Array, g: Float32Array): Promise<Run> {
  const nq = c.B * c.H * c.Lq, nk = c.B * c.Hkv * c.Lk;
  const hq = upload(be, q), hk = upload(be, k), hv = upload(be, v), hg = upload(be, g);
  const hm = c.mask ? upload(be, c.mask.data) : null, hl = c.lens ? upload(be, c.lens) : null;
  const p: AttentionParams = {
    batch: c.B, heads: c.H, kvHeads: c.Hkv, Lq: c.Lq, Lk: c.Lk, D: c.D, scale: c.scale, causal: c.causal,
    mask: hm ? { h: hm, strides: c.mask!.strides as [number, number, number, number], size: c.mask!.data.length } : null,
    keyLengths: hl,
  };
  const out = poisoned(be, nq * c.D), lse = poisoned(be, nq);
  be.attention(hq, hk, hv, out, lse, p);
  const dq = poisoned(be, nq * c.D), dk = poisoned(be, nk * c.D), dv = poisoned(be, nk * c.D);
  const db = c.dbias ? upload(be, new Float32Array(nq * c.Lk)) : null;
  be.attentionBackward(hq, hk, hv, out, lse, hg, dq, dk, dv, p, db);
  const res: Run = {
    out: await be.read(out, nq * c.D), lse: await be.read(lse, nq), dq: await be.read(dq, nq * c.D),
    dk: await be.read(dk, nk * c.D), dv: await be.read(dv, nk * c.D), dbias: db ? await be.read(db, nq * c.Lk) : null,
  };
  for (const h of [hq, hk, hv, hg, hm, hl, out, lse, dq, dk, dv, db]) if (h) be.free(h);
  return res;
}

/** The lse of rows with a visible key, within TOL of max(|lse|, 1); +inf for rows without one. */
function lseErr(got: Float32Array, want: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    if (want[i] === Infinity) { if (got[i] !== Infinity) return Infinity; continue; }
    const e = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

test('attention forward and backward match float64 on 56 random configurations, every backend', async () => {
  for (let i = 0; i < 56; i++) {
    const c = makeCase(i, r);
    const where = describe(c);
    const nq = c.B * c.H * c.Lq, nk = c.B * c.Hkv * c.Lk;
    const q = r.array(nq * c.D), k = r.array(nk * c.D), v = r.array(nk * c.D), g = r.array(nq * c.D);
    const ref = attentionForward(q, k, v, c), outScale = attentionForward(q, k, v, c, true).out;
    const vjp = attentionVjp(q, k, v, c, g), gs = attentionVjp(q, k, v, c, g, true);
    const runs: Run[] = [];
    for (const be of backends) {
      const got = await run(be, c, q, k, v, g);
      const errs: [string, number][] = [
        ['forward', relErr(got.out, ref.out, outScale)], ['lse', lseErr(got.lse, ref.lse)],
        ['dq', relErr(got.dq, vjp.dq, gs.dq)], ['dk', relErr(got.dk, vjp.dk, gs.dk)], ['dv', relErr(got.dv, vjp.dv, gs.dv)],
      ];
      if (got.dbias) errs.push(['dbias', relErr(got.dbias, vjp.dbias, gs.dbias)]);
      for (const [what, err] of errs) {
        record(`attention ${what} · ${label(be)}`, err, where);
        assert.ok(err < TOL, `${label(be)} ${where}: ${what} relative error ${err}`);
      }
      runs.push(got);
    }
    for (const key of ['out', 'dq', 'dk', 'dv'] as const) agree(runs.map((x) => x[key]), `${where} ${key}`, TOL, key === 'out' ? outScale : gs[key]);
  }
});

test('the WebGPU workgroup-tile kernels (the GPU path) match float64 too', async () => {
  const gpu = backends.find((be) => be.name === 'webgpu') as (Backend & { attentionVariant: string }) | undefined;
  if (!gpu) return;
  gpu.attentionVariant = 'tiled';
  try {
    for (let i = 0; i < 8; i++) {
      // Ragged lengths around the tile sizes (16 rows and tiles here), every mask kind. Head
      // dimensions up to 4: one pipeline class (SwiftShader compiles tiled kernels slowly, more so
      // for wider rows); the row arithmetic is the direct kernels', tested above on every width.
      const c = makeCase(100 + i, r, [1, 2, 3, 4]);
      const where = `tiled ${describe(c)}`;
      const nq = c.B * c.H * c.Lq, nk = c.B * c.Hkv * c.Lk;
      const q = r.array(nq * c.D), k = r.array(nk * c.D), v = r.array(nk * c.D), g = r.array(nq * c.D);
      const ref = attentionForward(q, k, v, c), outScale = attentionForward(q, k, v, c, true).out;
      const vjp = attentionVjp(q, k, v, c, g), gs = attentionVjp(q, k, v, c, g, true);
      const got = await run(gpu, c, q, k, v, g);
      const errs: [string, number][] = [
        ['forward', relErr(got.out, ref.out, outScale)], ['lse', lseErr(got.lse, ref.lse)],
        ['dq', relErr(got.dq, vjp.dq, gs.dq)], ['dk', relErr(got.dk, vjp.dk, gs.dk)], ['dv', relErr(got.dv, vjp.dv, gs.dv)],
      ];
      if (got.dbias) errs.push(['dbias', relErr(got.dbias, vjp.dbias, gs.dbias)]);
      for (const [what, err] of errs) {
        record(`attention ${what} · webgpu-tiled`, err, where);
        assert.ok(err < TOL, `${where}: ${what} relative error ${err}`);
      }
    }
  } finally {
    gpu.attentionVariant = 'auto';
  }
});

test('a row with every key masked gives output 0 and zero gradients, no NaN', async () => {
  // Key lengths 0 for one batch entry, a mask row of -inf, and causal with Lq > Lk all leave rows empty.
  const c: Case = {
    B: 2, H: 2, Hkv: 1, Lq: 5, Lk: 4, D: 8, scale: 0.3, causal: false,
    mask: { data: Float32Array.from({ length: 20 }, (_, x) => (x < 4 ? -Infinity : 0)), strides: [0, 0, 4, 1] },
    lens: [0, 3], maskShape: [5, 4], withLens: true, dbias: true,
  };
  const nq = c.B * c.H * c.Lq, nk = c.B * c.Hkv * c.Lk;
  const q = r.array(nq * c.D), k = r.array(nk * c.D), v = r.array(nk * c.D), g = r.array(nq * c.D);
  for (const be of backends) {
    const got = await run(be, c, q, k, v, g);
    for (const [name, xs] of Object.entries(got)) if (xs) assert.ok(xs.every((x: number) => !Number.isNaN(x)), `${label(be)}: NaN in ${name}`);
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 2; h++) {
        for (let i = 0; i < 5; i++) {
          const rowId = (b * 2 + h) * 5 + i;
          if (b === 0 || i === 0) {
            assert.is(got.lse[rowId], Infinity, `${label(be)}: lse of empty row ${rowId}`);
            for (let d = 0; d < 8; d++) {
              assert.ok(got.out[rowId * 8 + d] === 0, `${label(be)}: out of empty row ${rowId}`);
              assert.ok(got.dq[rowId * 8 + d] === 0, `${label(be)}: dq of empty row ${rowId}`);
            }
          }
        }
      }
    }
    // Batch 0 sees no key at all: its dk and dv are 0; batch 1's key 3 is past its length.
    for (let x = 0; x < 4 * 8; x++) assert.ok(got.dk[x] === 0 && got.dv[x] === 0, `${label(be)}: dk/dv of batch 0`);
    for (let d = 0; d < 8; d++) assert.ok(got.dk[(4 + 3) * 8 + d] === 0 && got.dv[(4 + 3) * 8 + d] === 0, `${label(be)}: dk/dv past the key length`);
  }
});

test.run();
