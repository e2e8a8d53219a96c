import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/seq.js';
import type { Backend } from '../../src/backends/backend.js';

const r = testRng('embedding');

/** The positions grouped by id (ascending within an id) and where each id's group starts: what the op uploads. */
function groups(ids: number[], num: number) {
  const offsets = new Float32Array(num + 1);
  for (const id of ids) offsets[id + 1]++;
  for (let v = 0; v < num; v++) offsets[v + 1] += offsets[v];
  const next = offsets.slice(0, num), order = new Float32Array(ids.length);
  ids.forEach((id, i) => { order[next[id]++] = i; });
  return { order, offsets };
}

async function gradOn(be: Backend, g: Float32Array, ids: number[], num: number, dim: number) {
  const { order, offsets } = groups(ids, num);
  const hg = upload(be, g), ho = upload(be, order.length ? order : [0]), hoff = upload(be, offsets), out = poisoned(be, num * dim);
  be.embeddingGrad(hg, ho, hoff, out, num, dim);
  const got = await be.read(out, num * dim);
  for (const h of [hg, ho, hoff, out]) be.free(h);
  return got;
}

test('embedding gather and scatter-add gradient match float64 on 60 configurations', async () => {
  for (let i = 0; i < 60; i++) {
    const gpuOk = (be: Backend) => be.name !== 'webgpu' || num * dim <= 200_000;
    // Big vocabularies (50,000 rows) on WASM; WebGPU (SwiftShader) takes the smaller ones.
    const num = i === 0 ? 1 : i % 10 === 3 ? 50_000 : r.pick([2, 3, 7, 10, 64, 100, 257, 1000]);
    const dim = i === 1 ? 1 : r.pick([1, 2, 3, 4, 5, 8, 16, 31, 64, 100, 128]);
    const n = i === 2 ? 1 : r.pick([1, 2, 5, 13, 64, 100, 300]);
    // Many repeats of few ids in some cases: the scatter-add must sum them.
    const pool = r.next() < 0.3 ? Math.min(num, 3) : num;
    const ids = Array.from({ length: n }, () => r.int(0, pool - 1));
    const w = r.array(num * dim, -1, 1), g = r.array(n * dim, -1, 1);
    const eOut = ref.gather(w, ids, dim), eGrad = ref.scatterAdd(g, ids, num, dim);
    const gradScale = ref.scatterAdd(g.map(Math.abs), ids, num, dim);
    const at = `num ${num}, dim ${dim}, n ${n}`;
    for (const be of backends.filter(gpuOk)) {
      const hw = upload(be, w), hi = upload(be, ids), out = poisoned(be, n * dim);
      be.embeddingGather(hw, hi, out, n, dim);
      const got = await be.read(out, n * dim);
      for (const h of [hw, hi, out]) be.free(h);
      assert.equal(Array.from(got), Array.from(Float32Array.from(eOut)), `${label(be)} gather ${at}`);
      const grad = await gradOn(be, g, ids, num, dim);
      const err = relErr(grad, eGrad, gradScale);
      record(`embeddingGrad · ${label(be)}`, err, at);
      assert.ok(err < 1e-6, `${label(be)} grad ${at}: relative error ${err}`);
    }
  }
});

test('the embedding gradient is the same bits on every backend configuration, thread count and run', async () => {
  const num = 50, dim = 67, n = 5000;
  const ids = Array.from({ length: n }, () => r.int(0, num - 1));
  const g = r.array(n * dim, -1, 1);
  const first = await gradOn(backends[0], g, ids, num, dim);
  for (const be of backends) {
    for (let rep = 0; rep < 2; rep++) {
      const got = await gradOn(be, g, ids, num, dim);
      assert.equal(Array.from(got), Array.from(first), `${label(be)} run ${rep}`);
    }
  }
});

// The many sizes read here leave pooled readback buffers; later files in the same process
// (memory.test.ts) count what the pools hold.
test.after(() => { for (const be of backends) be.trim(); });

test.run();
