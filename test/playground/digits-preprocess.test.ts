// The drawing pad's preprocessing (playground/src/digits-preprocess.ts):
// area resampling against a direct 2-D overlap integral in float64, the
// bounding box, MNIST's 20-pixel box and centre-of-mass placement, and an
// MNIST digit drawn large coming back as itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { decodeDigits, PIXELS, SIDE } from '../../playground/src/digits-data.js';
import { BOX, centreOfMass, inkBox, resample, toMnist } from '../../playground/src/digits-preprocess.js';
import { ensureDigitsAsset } from '../../tools/pack-digits.mjs';
import { relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { areaResample } from '../reference/image.js';

const r = testRng('digits-preprocess');

test('resample: area averages equal the 2-D overlap integral, shrinking and enlarging, odd sizes', () => {
  for (let c = 0; c < 60; c++) {
    const W = r.int(1, 40), H = r.int(1, 40), w = r.int(1, W), h = r.int(1, H), x0 = r.int(0, W - w), y0 = r.int(0, H - h);
    const tw = r.int(1, 30), th = r.int(1, 30);
    const src = r.array(W * H, 0, 1);
    const out = resample(src, W, x0, y0, w, h, tw, th), ref = areaResample(src, W, x0, y0, w, h, tw, th);
    const err = relErr(out, ref);
    assert.ok(err < 1e-12, `${w}×${h} at (${x0}, ${y0}) of ${W}×${H} → ${tw}×${th}: rel. error ${err}`);
  }
});

test('inkBox: the smallest box holding the ink; a blank drawing has none and gives null', () => {
  const ink = new Float32Array(30 * 20);
  assert.is(inkBox(ink, 30, 20), null);
  assert.is(toMnist(ink, 30, 20), null);
  ink[3 * 30 + 7] = 0.5;
  ink[11 * 30 + 22] = 1;
  ink[15 * 30 + 2] = 0.001; // below the ink threshold (a canvas's alpha steps are 1/255): background
  assert.equal(inkBox(ink, 30, 20), { x0: 7, y0: 3, x1: 23, y1: 12 });
  assert.throws(() => toMnist(ink, 30, 21), /600 ink values for a 30×21 drawing/);
});

test('toMnist: the longer side becomes 20 pixels, the aspect ratio stays, the mass centre lands at pixel (14, 14) as in MNIST', () => {
  for (let c = 0; c < 30; c++) {
    const W = 120, H = 100, w = r.int(4, 80), h = r.int(4, 80), x0 = r.int(0, W - w), y0 = r.int(0, H - h);
    const ink = new Float32Array(W * H);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) ink[(y0 + y) * W + x0 + x] = r.uniform(0.2, 1);
    const out = toMnist(ink, W, H)!;
    const box = inkBox(out, SIDE, SIDE)!;
    const bw = box.x1 - box.x0, bh = box.y1 - box.y0;
    assert.is(Math.max(bw, bh), BOX, `${w}×${h}: box ${bw}×${bh}`);
    assert.ok(Math.abs(Math.min(bw, bh) - (BOX * Math.min(w, h)) / Math.max(w, h)) <= 1, `${w}×${h}: aspect ratio kept (${bw}×${bh})`);
    // Area averaging keeps the mass, scaled by the area ratio.
    let inkSum = 0, outSum = 0;
    for (const v of ink) inkSum += v;
    for (const v of out) outSum += v;
    const s = (bw * bh) / (w * h);
    assert.ok(Math.abs(outSum - inkSum * s) <= 1e-4 * inkSum * s, `mass ${outSum} vs ${inkSum * s}`);
    const com = centreOfMass(out, SIDE, SIDE)!;
    assert.ok(Math.abs(com.x - 14) <= 0.5 && Math.abs(com.y - 14) <= 0.5, `centre of mass (${com.x}, ${com.y})`);
  }
});

test('toMnist: the same stroke anywhere on the pad gives the same image', () => {
  const W = 200, stroke = (dx: number, dy: number) => {
    const ink = new Float32Array(W * W);
    for (let t = 0; t < 90; t++) for (let k = 0; k < 12; k++) ink[(30 + dy + t) * W + 40 + dx + k + (t >> 2)] = 1;
    return toMnist(ink, W, W)!;
  };
  const a = stroke(0, 0), b = stroke(63, 71);
  assert.equal(Array.from(a), Array.from(b));
});

test('an MNIST digit drawn ten times larger on the pad comes back as itself', async () => {
  const d = decodeDigits(new Uint8Array(gunzipSync(readFileSync(ensureDigitsAsset()))));
  const errs: number[] = [];
  const tie = (v: number) => Math.abs(Math.abs(v - 14) - 0.5) < 0.02;
  for (let c = 0; c < 100; c++) {
    const k = r.int(0, d.count - 1), img = Float32Array.from(d.pixels.subarray(k * PIXELS, (k + 1) * PIXELS), (v) => v / 255);
    // A centre of mass half way between two pixels may go either way (8% of them within 0.02),
    // and 2 of the 10,000 digits touch the field's edge, cropped to a 19-pixel box.
    const com = centreOfMass(img, SIDE, SIDE)!, box = inkBox(img, SIDE, SIDE)!;
    if (tie(com.x) || tie(com.y) || Math.max(box.x1 - box.x0, box.y1 - box.y0) !== BOX) { c--; continue; }
    const Z = 10, big = new Float32Array(PIXELS * Z * Z);
    for (let y = 0; y < SIDE * Z; y++) for (let x = 0; x < SIDE * Z; x++) big[y * SIDE * Z + x] = img[Math.floor(y / Z) * SIDE + Math.floor(x / Z)];
    const back = toMnist(big, SIDE * Z, SIDE * Z)!;
    errs.push(relErr(back, img));
  }
  // MNIST's own boxes are 20 pixels long and centred by mass at (14, 14), so they come back within rounding.
  const worst = Math.max(...errs);
  assert.ok(worst < 0.02, `worst rel. error ${worst}`);
});

test.run();
