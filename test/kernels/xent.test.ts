import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/seq.js';
import type { Backend } from '../../src/backends/backend.js';
import type { XentOptions } from '../../src/backends/primitives/xent.js';

const r = testRng('xent');

/** Forward then backward on one backend: per-row loss and dx. */
async function run(be: Backend, x: Float32Array, t: number[], g: Float32Array, rows: number, cols: number, gStride: number, scale: number, o?: XentOptions) {
  const hx = upload(be, x), ht = upload(be, t), hg = upload(be, g);
  const loss = poisoned(be, rows), lse = poisoned(be, 2 * rows), dx = poisoned(be, rows * cols);
  be.xentForward(hx, ht, loss, lse, rows, cols, o);
  be.xentBackward(hx, ht, lse, hg, dx, rows, cols, gStride, scale, o);
  const res = { loss: await be.read(loss, rows), dx: await be.read(dx, rows * cols) };
  for (const h of [hx, ht, hg, loss, lse, dx]) be.free(h);
  return res;
}

/** dx is accurate relative to its two terms, g·p and g·[c = t] (p − 1 cancels for a confident row). */
function dxScale(x: Float32Array, t: number[], gRow: ArrayLike<number>, rows: number, cols: number) {
  const p = ref.xentVjp(x, t, Array(rows).fill(1), rows, cols);
  return p.map((v, i) => Math.abs(gRow[Math.floor(i / cols)]) * (Math.abs(v) + (i % cols === t[Math.floor(i / cols)] ? 2 : 0)));
}

test('fused cross-entropy forward and backward match float64 on 60 configurations', async () => {
  for (let i = 0; i < 60; i++) {
    // A 50,000-class vocabulary on WASM; WebGPU (SwiftShader) takes up to 200k logits.
    const cols = i === 0 ? 1 : i % 6 === 1 ? r.pick([32000, 50000]) : r.pick([2, 3, 5, 10, 17, 64, 65, 100, 257, 1000, 4099]);
    const rows = i === 2 ? 1 : Math.max(1, Math.min(r.pick([1, 2, 3, 7, 13, 31, 64]), Math.floor(300_000 / cols)));
    const shift = i % 5 === 0 ? 80 : 0;
    const x = Float32Array.from(r.array(rows * cols, -8, 8), (v) => v + shift);
    const t = Array.from({ length: rows }, () => r.int(0, cols - 1));
    // Every other case takes one gradient for all rows (a mean/sum reduction) with a scale.
    const perRow = (i & 1) === 0;
    const g = perRow ? r.array(rows, -2, 2) : r.array(1, 0.5, 2);
    const scale = perRow ? 1 : 1 / rows;
    const gRow = Array.from({ length: rows }, (_, k) => (perRow ? g[k] : g[0] * scale));
    const eLoss = ref.xentForward(x, t, rows, cols), eDx = ref.xentVjp(x, t, gRow, rows, cols);
    const sDx = dxScale(x, t, gRow, rows, cols);
    const at = `[${rows}, ${cols}]${shift ? ' +80' : ''}${perRow ? '' : ' reduced'}`;
    const losses: Float32Array[] = [], dxs: Float32Array[] = [];
    for (const be of backends) {
      if (be.name === 'webgpu' && rows * cols > 200_000) continue;
      const got = await run(be, x, t, g, rows, cols, perRow ? 1 : 0, scale);
      const errs = { loss: relErr(got.loss, eLoss), dx: relErr(got.dx, eDx, sDx) };
      for (const [k, err] of Object.entries(errs)) {
        record(`xent ${k} · ${label(be)}`, err, at);
        assert.ok(err < 1e-5, `${label(be)} ${at}: ${k} relative error ${err}`);
      }
      losses.push(got.loss);
      dxs.push(got.dx);
    }
    // Backends agree under the same criteria as each meets against float64 (dx relative to its terms).
    agree(losses, `${at} loss`, 2e-5);
    agree(dxs, `${at} dx`, 2e-5, sDx);
  }
});

test('a confident row keeps its tiny loss accurate (the loss of a trained classifier)', async () => {
  for (let i = 0; i < 50; i++) {
    const cols = r.pick([2, 3, 10, 100, 1000]);
    const x = r.array(cols, -3, 3);
    const t = r.int(0, cols - 1);
    x[t] = Math.fround(3 + r.uniform(2, 14));
    const e = ref.xentForward(x, [t], 1, cols)[0];
    for (const be of backends) {
      const got = (await run(be, x, [t], new Float32Array([1]), 1, cols, 1, 1)).loss[0];
      const err = Math.abs(got - e) / e;
      record(`xent confident · ${label(be)}`, err, `cols ${cols}`);
      assert.ok(err < 1e-5, `${label(be)} ${cols} cols: loss ${got}, want ${e}`);
    }
  }
});

test('special values: −inf logits are masked classes; a NaN, +inf or all −inf row is NaN; a −inf target is an infinite loss', async () => {
  const cols = 7;
  const rows = [
    [-Infinity, 1, 2, -Infinity, 0.5, 3, -1], // target 1: finite loss, 0 gradient at the −inf classes
    [0, 1, NaN, 2, 3, 4, 5], // NaN
    [0, 1, Infinity, 2, 3, 4, 5], // +inf
    Array(cols).fill(-Infinity), // only −inf
    [0, -Infinity, 2, 3, 4, 5, 6], // target 1 is −inf: loss +inf
  ];
  const t = [1, 0, 0, 0, 1];
  const x = Float32Array.from(rows.flat());
  const n = rows.length;
  const finiteRef = ref.xentForward(x.subarray(0, cols), [1], 1, cols)[0];
  const finiteDx = ref.xentVjp(x.subarray(0, cols), [1], [1], 1, cols);
  for (const be of backends) {
    const got = await run(be, x, t, new Float32Array(n).fill(1), n, cols, 1, 1);
    const L = label(be);
    assert.ok(Math.abs(got.loss[0] - finiteRef) < 1e-5 * finiteRef, `${L} masked row loss ${got.loss[0]} want ${finiteRef}`);
    assert.ok(relErr(got.dx.subarray(0, cols), finiteDx) < 1e-5, `${L} masked row dx ${got.dx.subarray(0, cols)}`);
    assert.equal(got.dx[0], 0, `${L} −inf class gets gradient 0`);
    for (const k of [1, 2, 3]) {
      assert.ok(Number.isNaN(got.loss[k]), `${L} row ${k} loss ${got.loss[k]}`);
      assert.ok(got.dx.subarray(k * cols, (k + 1) * cols).every(Number.isNaN), `${L} row ${k} dx`);
    }
    assert.equal(got.loss[4], Infinity, `${L} −inf target`);
  }
});

test('ignore index and label smoothing (PyTorch\'s ignore_index, label_smoothing) match float64 on 40 configurations', async () => {
  for (let i = 0; i < 40; i++) {
    const cols = i % 8 === 1 ? r.pick([32000, 50000]) : r.pick([1, 2, 3, 5, 17, 64, 65, 257, 1000, 4099]);
    const rows = Math.max(1, Math.min(r.pick([1, 2, 3, 7, 13, 31]), Math.floor(300_000 / cols)));
    const shift = i % 5 === 0 ? 80 : 0;
    const x = Float32Array.from(r.array(rows * cols, -8, 8), (v) => v + shift);
    // The ignored id: PyTorch's default −100, or a class id (then rows of that class are ignored).
    const ignore = i % 3 === 0 ? r.int(0, cols - 1) : -100;
    const eps = i % 4 === 0 ? 0 : r.pick([0.05, 0.1, 0.3, 1]);
    // Now and then no ignored id at all (then every id is a class: the op checks them first).
    const o = { ignore: i % 7 === 6 ? null : ignore, smoothing: eps };
    const t = Array.from({ length: rows }, () => (o.ignore !== null && r.next() < 0.3 ? ignore : r.int(0, cols - 1)));
    const ign = o.ignore ?? NaN;
    const perRow = (i & 1) === 0;
    const g = perRow ? r.array(rows, -2, 2) : r.array(1, 0.5, 2);
    const scale = perRow ? 1 : 1 / rows;
    const gRow = Array.from({ length: rows }, (_, k) => (perRow ? g[k] : g[0] * scale));
    const eLoss = ref.xentOptionsForward(x, t, rows, cols, eps, ign), eDx = ref.xentOptionsVjp(x, t, gRow, rows, cols, eps, ign);
    // dx is accurate relative to |g|·(p + q): p − q cancels where the prediction matches the target.
    const p = ref.xentOptionsVjp(x, t.map(() => -1), Array(rows).fill(1), rows, cols, 0, NaN);
    const sDx = p.map((v, k) => {
      const row = Math.floor(k / cols);
      return Math.abs(gRow[row]) * (Math.abs(v) + (k % cols === t[row] ? 1 - eps : 0) + eps / cols);
    });
    // The loss is accurate relative to its terms: l, (1 − ε)(max − x_t) and ε(max − mean x) are each ≥ 0.
    const at = `[${rows}, ${cols}]${shift ? ' +80' : ''} ignore ${o.ignore} (${t.filter((v) => v === ign).length} rows) ε ${eps}${perRow ? '' : ' reduced'}`;
    const losses: Float32Array[] = [], dxs: Float32Array[] = [];
    for (const be of backends) {
      if (be.name === 'webgpu' && rows * cols > 200_000) continue;
      const got = await run(be, x, t, g, rows, cols, perRow ? 1 : 0, scale, o);
      const errs = { loss: relErr(got.loss, eLoss), dx: relErr(got.dx, eDx, sDx) };
      for (const [k, err] of Object.entries(errs)) {
        record(`xent options ${k} · ${label(be)}`, err, at);
        assert.ok(err < 1e-5, `${label(be)} ${at}: ${k} relative error ${err}`);
      }
      t.forEach((v, row) => {
        if (v !== ign) return;
        assert.ok(Object.is(got.loss[row], 0), `${label(be)} ${at}: ignored row ${row} loss ${got.loss[row]}`);
        assert.ok(got.dx.subarray(row * cols, (row + 1) * cols).every((d) => Object.is(d, 0)), `${label(be)} ${at}: ignored row ${row} has a gradient`);
      });
      losses.push(got.loss);
      dxs.push(got.dx);
    }
    // Backends agree under the same criteria as each meets against float64 (dx relative to its terms).
    agree(losses, `${at} loss`, 2e-5);
    agree(dxs, `${at} dx`, 2e-5, sDx);
  }
});

test('an ignored row is 0 even where its logits are NaN (as PyTorch\'s loss; its gradient is NaN there, as PyTorch\'s)', async () => {
  const cols = 4, x = Float32Array.of(0, NaN, 1, 2, 1, 2, 3, 4), t = [-100, 2], o = { ignore: -100, smoothing: 0.2 };
  const e = ref.xentOptionsForward(x.subarray(cols), [2], 1, cols, 0.2, -100)[0];
  for (const be of backends) {
    const got = await run(be, x, t, Float32Array.of(1, 1), 2, cols, 1, 1, o);
    assert.ok(Object.is(got.loss[0], 0) && Math.abs(got.loss[1] - e) < 1e-5 * e, `${label(be)}: losses ${got.loss}`);
    assert.ok(got.dx.subarray(0, cols).every(Number.isNaN), `${label(be)}: NaN row's gradient ${got.dx.subarray(0, cols)}`);
  }
});

// The many sizes read here leave pooled readback buffers; later files in the same process
// (memory.test.ts) count what the pools hold.
test.after(() => { for (const be of backends) be.trim(); });

test.run();
