import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/seq.js';
import type { Backend } from '../../src/backends/backend.js';

const r = testRng('norm');
const COLS = [1, 2, 3, 4, 5, 7, 8, 16, 31, 64, 65, 127, 256, 257, 1000, 1024, 4096, 4099];
const ROWS = [1, 2, 3, 5, 7, 13, 16, 17, 31, 33, 64, 97];

interface Case { rows: number; cols: number; rms: boolean; eps: number; w: Float32Array | null; b: Float32Array | null; x: Float32Array; g: Float32Array }

function makeCase(i: number): Case {
  const cols = i === 0 ? 1 : i === 1 ? 4096 : r.pick(COLS);
  const rows = i === 0 ? 1 : Math.max(1, Math.min(r.pick(ROWS), Math.floor(40000 / cols)));
  const rms = (i & 1) === 1;
  // A large mean (offset 100, spread 1): Σx² − (Σx)²/n would lose ~1e-3 to cancellation in f32.
  const shift = i % 4 === 2 ? 100 : 0;
  const x = Float32Array.from(r.array(rows * cols, -2, 2), (v) => v + shift);
  const w = r.next() < 0.7 ? r.array(cols, -2, 2) : null;
  const b = !rms && r.next() < 0.7 ? r.array(cols, -1, 1) : null;
  return { rows, cols, rms, eps: r.pick([1e-5, 1e-6, 1e-3]), w, b, x, g: r.array(rows * cols, -1, 1) };
}

const where = (c: Case) => `${c.rms ? 'rms' : 'layer'}Norm [${c.rows}, ${c.cols}]${c.w ? ' w' : ''}${c.b ? ' b' : ''}${c.x[0] > 50 ? ' +100' : ''}`;

/** Runs forward and backward of one case on one backend. */
async function run(be: Backend, c: Case, params: boolean) {
  const { rows, cols } = c;
  const p = { rows, cols, eps: c.eps, rms: c.rms };
  const hx = upload(be, c.x), hw = c.w ? upload(be, c.w) : null, hb = c.b ? upload(be, c.b) : null, hg = upload(be, c.g);
  const out = poisoned(be, rows * cols), stats = poisoned(be, 2 * rows), dx = poisoned(be, rows * cols);
  const dw = params ? poisoned(be, cols) : null, db = params ? poisoned(be, cols) : null;
  be.normForward(hx, hw, hb, out, stats, p);
  be.normBackward(hx, hw, hg, stats, dx, dw, db, p);
  const res = {
    y: await be.read(out, rows * cols), stats: await be.read(stats, 2 * rows), dx: await be.read(dx, rows * cols),
    dw: dw ? await be.read(dw, cols) : null, db: db ? await be.read(db, cols) : null,
  };
  for (const h of [hx, hw, hb, hg, out, stats, dx, dw, db]) if (h) be.free(h);
  return res;
}

test('layerNorm / rmsNorm forward and backward match float64 on 60 configurations', async () => {
  for (let i = 0; i < 60; i++) {
    const c = makeCase(i);
    const { rows, cols } = c;
    const at = where(c);
    const e = ref.norm(c.x, c.w, c.b, rows, cols, c.eps, c.rms);
    const v = ref.normVjp(c.x, c.w, c.g, rows, cols, c.eps, c.rms);
    // y and dx are accurate relative to the terms they subtract: (|x| + |mean|)·rstd (the f32 mean
    // itself is rounded to ulp(mean)); dx also cancels u − mean u − x̂·mean(u·x̂). The statistics
    // are checked on their own: a cancelling variance would be 1e-3 off at offset 100.
    const yScale = new Float64Array(rows * cols);
    const dxScale = new Float64Array(rows * cols), dwScale = new Float64Array(cols), dbScale = new Float64Array(cols);
    for (let rr = 0; rr < rows; rr++) {
      const s = e.rstd[rr];
      for (let k = 0; k < cols; k++) {
        const u = c.g[rr * cols + k] * (c.w ? c.w[k] : 1);
        const terms = (Math.abs(c.x[rr * cols + k]) + Math.abs(e.mean[rr])) * s;
        yScale[rr * cols + k] = terms * (c.w ? Math.abs(c.w[k]) : 1) + (c.b ? Math.abs(c.b[k]) : 0);
        dxScale[rr * cols + k] = s * (Math.abs(u) + terms + 1);
        dwScale[k] += Math.abs(c.g[rr * cols + k]) * terms;
        dbScale[k] += Math.abs(c.g[rr * cols + k]);
      }
    }
    const outs: Float32Array[] = [];
    for (const be of backends) {
      const got = await run(be, c, true);
      const rstd = got.stats.filter((_, k) => k % 2 === 1), mean = got.stats.filter((_, k) => k % 2 === 0);
      const errs = {
        rstd: relErr(rstd, e.rstd), mean: relErr(mean, e.mean, Float64Array.from(e.mean, (m, k) => Math.abs(m) + 1 / e.rstd[k])),
        y: relErr(got.y, e.y, yScale), dx: relErr(got.dx, v.dx, dxScale), dw: relErr(got.dw!, v.dw, dwScale), db: relErr(got.db!, v.db, dbScale),
      };
      for (const [k, err] of Object.entries(errs)) {
        record(`norm ${k} · ${label(be)}`, err, at);
        assert.ok(err < 2e-5, `${label(be)} ${at}: ${k} relative error ${err}`);
      }
      outs.push(Float32Array.from([...got.y, ...got.dx, ...got.dw!, ...got.db!]));
    }
    agree(outs, at, 5e-5);
  }
});

test('normBackward without parameter gradients writes dx alone, equal to the run with them', async () => {
  for (let i = 0; i < 8; i++) {
    const c = makeCase(i + 3);
    for (const be of backends) {
      const a = await run(be, c, false), b = await run(be, c, true);
      assert.equal(Array.from(a.dx), Array.from(b.dx), `${label(be)} ${where(c)}`);
    }
  }
});

test('parameter gradients are the same bits on every thread count and every run', async () => {
  const c = makeCase(5);
  c.rows = 97; c.cols = 129;
  c.x = r.array(97 * 129, -3, 3); c.g = r.array(97 * 129, -1, 1); c.w = r.array(129); c.b = null; c.rms = false;
  const wasm = backends.filter((be) => be.name === 'wasm' && (be as { flavour?: string }).flavour === (backends[0] as { flavour?: string }).flavour);
  assert.ok(wasm.length >= 2, 'needs one- and multi-threaded WASM backends of one flavour');
  const first = await run(wasm[0], c, true);
  for (const be of wasm) {
    for (let rep = 0; rep < 2; rep++) {
      const got = await run(be, c, true);
      assert.equal(Array.from(got.dw!), Array.from(first.dw!), `${label(be)} dw`);
      assert.equal(Array.from(got.db!), Array.from(first.db!), `${label(be)} db`);
    }
  }
});

test('WASM: a spread of 1e30 does not overflow the variance (squares are taken in f64)', async () => {
  const rows = 3, cols = 37;
  const x = Float32Array.from(r.array(rows * cols, -1, 1), (v) => v * 1e30);
  const e = ref.norm(x, null, null, rows, cols, 1e-5, false);
  for (const be of backends.filter((b) => b.name === 'wasm')) {
    const hx = upload(be, x), out = poisoned(be, rows * cols), stats = poisoned(be, 2 * rows);
    be.normForward(hx, null, null, out, stats, { rows, cols, eps: 1e-5, rms: false });
    const y = await be.read(out, rows * cols);
    be.free(hx); be.free(out); be.free(stats);
    const err = relErr(y, e.y);
    assert.ok(err < 1e-5, `${label(be)}: relative error ${err}`);
  }
});

test('special values: a NaN or inf in a row makes that row NaN and leaves the others alone', async () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const rows = 3, cols = 37;
    const x = r.array(rows * cols, -1, 1);
    x[cols + 5] = bad;
    const e = ref.norm(x, null, null, rows, cols, 1e-5, false);
    for (const be of backends) {
      for (const rms of [false, true]) {
        const hx = upload(be, x), out = poisoned(be, rows * cols), stats = poisoned(be, 2 * rows);
        be.normForward(hx, null, null, out, stats, { rows, cols, eps: 1e-5, rms });
        const y = await be.read(out, rows * cols);
        be.free(hx); be.free(out); be.free(stats);
        // As PyTorch: LayerNorm's statistics of the row are NaN, so is the row. RMSNorm of a row with
        // ±inf has rstd 0: inf·0 = NaN at the inf, 0 elsewhere; with a NaN, NaN throughout.
        const row1 = Array.from(y.subarray(cols, 2 * cols));
        if (!rms || Number.isNaN(bad)) assert.ok(row1.every((v) => Number.isNaN(v)), `${label(be)} ${rms ? 'rms' : 'layer'} ${bad}: row 1 ${row1.slice(0, 4)}`);
        else assert.ok(row1.every((v, k) => (k === 5 ? Number.isNaN(v) : v === 0)), `${label(be)} rms ${bad}: row 1 ${row1.slice(0, 8)}`);
        if (!rms) {
          const other = [...y.subarray(0, cols), ...y.subarray(2 * cols)], want = [...e.y.subarray(0, cols), ...e.y.subarray(2 * cols)];
          assert.ok(relErr(other, want) < 1e-5, `${label(be)} ${bad}: other rows`);
        }
      }
    }
  }
});

// The many sizes read here leave pooled readback buffers; later files in the same process
// (memory.test.ts) count what the pools hold.
test.after(() => { for (const be of backends) be.trim(); });

test.run();
