import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { describePool, randomPoolGeom } from '../helpers/conv-cases.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/conv.js';
import type { PoolGeom } from '../reference/conv.js';

const r = testRng('pool');
const TOL = 2e-6;
const CASES = 54;

const geoms = (dilated = false) => Array.from({ length: CASES }, () => randomPoolGeom(r, true, dilated));
const nx = (g: PoolGeom) => g.N * g.H * g.W * g.C, ny = (g: PoolGeom) => g.N * g.Ho * g.Wo * g.C;

test('maxPool2d forward: window maxima and argmax (first max, NaN propagates) on 54 geometries (half dilated)', async () => {
  let i = 0;
  for (const g of geoms(true)) {
    const x = r.array(nx(g), -2, 2);
    // Ties: values on a coarse grid; NaN: a few, in every third case.
    if (i % 2 === 1) for (let k = 0; k < x.length; k++) x[k] = Math.round(x[k] * 2) / 2;
    if (i++ % 3 === 0) for (let k = 0; k < Math.max(1, x.length >> 6); k++) x[r.int(0, x.length - 1)] = NaN;
    const expect = ref.maxPool(x, g);
    const where = describePool(g);
    for (const be of backends) {
      const hx = upload(be, x), out = poisoned(be, ny(g)), at = poisoned(be, ny(g));
      be.maxPool2d(hx, out, at, g);
      const got = await be.read(out, ny(g)), pos = await be.read(at, ny(g));
      for (const h of [hx, out, at]) be.free(h);
      // Exact: a maximum is one of the inputs, NaN where the reference has NaN.
      const bad = [...got].findIndex((v, k) => !(Object.is(v, Math.fround(expect.y[k])) || (Number.isNaN(v) && Number.isNaN(expect.y[k]))));
      const badPos = [...pos].findIndex((v, k) => v !== expect.pos[k]);
      record(`maxPool2d forward · ${label(be)}`, bad < 0 && badPos < 0 ? 0 : 1, where);
      assert.ok(bad < 0, `${label(be)} ${where}: max at ${bad} is ${got[bad]}, expected ${expect.y[bad]}`);
      assert.ok(badPos < 0, `${label(be)} ${where}: argmax at ${badPos} is ${pos[badPos]}, expected ${expect.pos[badPos]}`);
    }
  }
});

test('maxPool2d backward: each gradient to its window argmax on 54 geometries (half dilated)', async () => {
  for (const g of geoms(true)) {
    const x = r.array(nx(g), -2, 2), dy = r.array(ny(g));
    const { pos } = ref.maxPool(x, g);
    const expect = ref.maxPoolBackward(x, dy, g);
    const scale = ref.maxPoolBackward(x, Float64Array.from(dy, Math.abs), g);
    const where = describePool(g);
    const outs: Float32Array[] = [];
    for (const be of backends) {
      const hy = upload(be, dy), ha = upload(be, pos), dx = poisoned(be, nx(g));
      be.maxPool2dBackward(hy, ha, dx, g);
      const got = await be.read(dx, nx(g));
      for (const h of [hy, ha, dx]) be.free(h);
      const err = relErr(got, expect, scale);
      record(`maxPool2d backward · ${label(be)}`, err, where);
      assert.ok(err < TOL, `${label(be)} ${where}: relative error ${err}`);
      outs.push(got);
    }
    agree(outs, where, TOL, scale);
  }
});

test('avgPool2d forward and backward (count_include_pad true and false) on 54 geometries', async () => {
  let i = 0;
  for (const g of geoms()) {
    const includePad = i++ % 2 === 0;
    const x = r.array(nx(g)), dy = r.array(ny(g));
    const fwd = ref.avgPool(x, g, includePad), fwdScale = ref.avgPool(x, g, includePad, true);
    const bwd = ref.avgPoolBackward(dy, g, includePad), bwdScale = ref.avgPoolBackward(dy, g, includePad, true);
    const where = `${describePool(g)} includePad ${includePad}`;
    const outs: Float32Array[] = [];
    for (const be of backends) {
      const p = { ...g, countIncludePad: includePad };
      const hx = upload(be, x), hy = upload(be, dy), out = poisoned(be, ny(g)), dx = poisoned(be, nx(g));
      be.avgPool2d(hx, out, p);
      be.avgPool2dBackward(hy, dx, p);
      const got = await be.read(out, ny(g)), gotDx = await be.read(dx, nx(g));
      for (const h of [hx, hy, out, dx]) be.free(h);
      const e1 = relErr(got, fwd, fwdScale), e2 = relErr(gotDx, bwd, bwdScale);
      record(`avgPool2d forward · ${label(be)}`, e1, where);
      record(`avgPool2d backward · ${label(be)}`, e2, where);
      assert.ok(e1 < TOL && e2 < TOL, `${label(be)} ${where}: relative errors ${e1} (forward), ${e2} (backward)`);
      outs.push(gotDx);
    }
    agree(outs, where, TOL, bwdScale);
  }
});

test.run();
