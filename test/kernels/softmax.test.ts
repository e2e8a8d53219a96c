import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agree, backends, label, poisoned, upload } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/kernels.js';

const r = testRng('softmax');
const D = [1, 2, 3, 4, 5, 7, 10, 16, 17, 31, 64, 65, 100, 127, 256, 257, 1000, 1025, 4099];

test('softmax and log-softmax over the last axis match float64 on 60 shapes', async () => {
  for (let i = 0; i < 60; i++) {
    const rows = i === 0 ? 1 : r.pick([1, 2, 3, 8, 13, 64, 128, 129]);
    const cols = i === 1 ? 1 : i === 2 ? 20000 : r.pick(D);
    const log = (i & 1) === 1;
    // Large offsets check that the row max is subtracted (exp would overflow otherwise).
    const shift = i % 5 === 0 ? 80 : 0;
    const x = Float32Array.from(r.array(rows * cols, -8, 8), (v) => v + shift);
    const expect = ref.softmax(x, rows, cols, log);
    const where = `${log ? 'log' : ''}softmax [${rows}, ${cols}]${shift ? ' +80' : ''}`;
    const outs: Float32Array[] = [];
    for (const be of backends) {
      const hx = upload(be, x), out = poisoned(be, rows * cols);
      be.softmax(hx, out, rows, cols, log);
      const got = await be.read(out, rows * cols);
      be.free(hx); be.free(out);
      const err = relErr(got, expect);
      record(`softmax · ${label(be)}`, err, where);
      assert.ok(err < 1e-5, `${label(be)} ${where}: relative error ${err}`);
      outs.push(got);
    }
    agree(outs, where);
  }
});

test('log-softmax of confident rows keeps the winning entry accurate (the loss of a trained classifier)', async () => {
  for (let i = 0; i < 50; i++) {
    const cols = r.pick([2, 3, 10, 100, 1000]);
    const x = r.array(cols, -3, 3);
    const win = r.int(0, cols - 1);
    x[win] = Math.fround(3 + r.uniform(2, 14)); // ahead of every other logit by 2..14
    const expect = ref.softmax(x, 1, cols, true);
    for (const be of backends) {
      const hx = upload(be, x), out = poisoned(be, cols);
      be.softmax(hx, out, 1, cols, true);
      const got = await be.read(out, cols);
      be.free(hx); be.free(out);
      // log p(win) = -log(1 + tiny): its own relative error, not the row's, is what matters.
      const err = Math.abs(got[win] - expect[win]) / Math.abs(expect[win]);
      record(`softmax confident · ${label(be)}`, err, `cols ${cols}, margin ${(x[win] - 3).toFixed(1)}`);
      assert.ok(err < 1e-5, `${label(be)} log-softmax winner, ${cols} cols: relative error ${err} (got ${got[win]}, want ${expect[win]})`);
    }
  }
});

test.run();
