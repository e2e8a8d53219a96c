import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/seq.js';
import type { Backend } from '../../src/backends/backend.js';

const r = testRng('xent');

/** Forward then backward on one backend: per-row loss and dx. */
async function run(be: Backend, x: Float32Array, t: number[], g: Float32Array, rows: number, cols: number, gStride: number, scale: number) {
  const hx = upload(be, x), ht = upload(be, t), hg = upload(be, g);
  const loss = poisoned(be, rows), lse = poisoned(be, 2 * rows), dx = poisoned(be, rows * cols);
  be.xentForward(hx, ht, loss, lse, rows, cols);
  be.xentBackward(hx, ht, lse, hg, dx, rows, cols, gStride, scale);
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
    const outs: Float32Array[] = [];
    for (const be of backends) {
      if (be.name === 'webgpu' && rows * cols > 200_000) continue;
      const got = await run(be, x, t, g, rows, cols, perRow ? 1 : 0, scale);
      const errs = { loss: relErr(got.loss, eLoss), dx: relErr(got.dx, eDx, sDx) };
      for (const [k, err] of Object.entries(errs)) {
        record(`xent ${k} · ${label(be)}`, err, at);
        assert.ok(err < 1e-5, `${label(be)} ${at}: ${k} relative error ${err}`);
      }
      outs.push(Float32Array.from([...got.loss, ...got.dx]));
    }
    agree(outs, at, 2e-5);
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

// The many sizes read here leave pooled readback buffers; later files in the same process
// (memory.test.ts) count what the pools hold.
test.after(() => { for (const be of backends) be.trim(); });

test.run();
