// The Digits tab's data and CNN in Node: the packed asset against the mnist
// package's JSON, the fixed split, the net's forward on every backend against
// a float64 reference built from test/reference/conv.ts, predictions that are
// probabilities, identical runs from identical seeds, WebGPU and WASM in step,
// and a short training run that learns the held-out digits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeDigits, digitSet, HELD_OUT_COUNT, loadDigits, PIXELS, pixelStats, splitIndices, TRAIN_COUNT, type Digits } from '../../playground/src/digits-data.js';
import {
  argmaxRows, DigitsTrainer, flatFeatures, initWeights, logitsOf, makeNet, predict, rowLoss, snapshot,
} from '../../playground/src/digits-model.js';
import { loadMnist } from '../../examples/mnist-data.js';
import { ensureDigitsAsset } from '../../tools/pack-digits.mjs';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import * as ref from '../reference/conv.js';

const r = testRng('digits-model');
const digits: Digits = decodeDigits(new Uint8Array(gunzipSync(readFileSync(ensureDigitsAsset()))));
const split = splitIndices(digits.count);
const norm = pixelStats(digits, split.train);

test('the packed asset holds the mnist package’s 10,000 digits: labels in order, pixels round(255·v)', () => {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src/digits');
  assert.is(digits.count, 10000);
  let at = 0;
  for (let d = 0; d < 10; d++) {
    const n = digits.labels.subarray(at).findIndex((l) => l !== d);
    const count = n < 0 ? digits.count - at : n;
    // Two classes' JSON compared pixel by pixel (each file is ~4 MB); every class's count.
    if (d === 1 || d === r.int(2, 9)) {
      const data = JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')).data as number[];
      assert.is(count, data.length / PIXELS, `digit ${d}: image count`);
      let worst = 0;
      for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(digits.pixels[at * PIXELS + i] / 255 - data[i]));
      assert.ok(worst <= 0.5 / 255 + 1e-9, `digit ${d}: worst pixel error ${worst}`);
    }
    assert.ok(count >= 800 && count <= 1200, `digit ${d}: ${count} images`);
    at += count;
  }
  assert.is(at, digits.count, 'labels are grouped 0, 1, … 9 as in the package');
});

test('loadDigits: the asset over HTTP, as a gzip file or with Content-Encoding: gzip (then already decoded), and a 404', async () => {
  const gz = readFileSync(ensureDigitsAsset());
  const server = createServer((req, res) => {
    if (req.url === '/plain.gz') res.writeHead(200, { 'Content-Type': 'application/gzip' }).end(gz);
    else if (req.url === '/encoded') res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' }).end(gz);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    for (const path of ['/plain.gz', '/encoded']) {
      const d = await loadDigits(base + path);
      assert.is(d.count, digits.count);
      assert.equal(d.labels, digits.labels);
      assert.ok(d.pixels.every((v, i) => v === digits.pixels[i]), `${path}: the same pixels`);
    }
    let message = '';
    await loadDigits(`${base}/missing`).catch((e: Error) => { message = e.message; });
    assert.match(message, /HTTP 404/);
  } finally {
    server.close();
  }
});

test('decodeDigits refuses what is not the packed layout', () => {
  const bytes = new Uint8Array(gunzipSync(readFileSync(ensureDigitsAsset())));
  assert.throws(() => decodeDigits(bytes.subarray(0, bytes.length - 1)), /expected 7850016 for 10000 images/);
  const bad = bytes.slice(0, 64);
  bad[0] = 0x50;
  assert.throws(() => decodeDigits(bad), /not an LDG1 file/);
});

test('the split: 8,000 and 2,000 distinct indices, the same every time, every class in both', () => {
  assert.is(split.train.length, TRAIN_COUNT);
  assert.is(split.heldOut.length, HELD_OUT_COUNT);
  const all = new Set([...split.train, ...split.heldOut]);
  assert.is(all.size, TRAIN_COUNT + HELD_OUT_COUNT);
  for (const i of all) assert.ok(i >= 0 && i < digits.count);
  assert.equal(splitIndices(digits.count), split);
  for (const part of [split.train, split.heldOut]) {
    const per = new Array(10).fill(0);
    for (const i of part) per[digits.labels[i]]++;
    assert.ok(per.every((n) => n > part.length / 20), `class counts ${per}`);
  }
});

test('normalisation by the training pixels: the training set has mean 0 and standard deviation 1', () => {
  assert.ok(Math.abs(norm.mean - 0.13) < 0.01 && Math.abs(norm.std - 0.31) < 0.01, `MNIST-like statistics: ${JSON.stringify(norm)}`);
  const x = digitSet(digits, split.train, norm).x;
  let s = 0, s2 = 0;
  for (const v of x) { s += v; s2 += v * v; }
  const mean = s / x.length, sd = Math.sqrt(s2 / x.length - mean * mean);
  assert.ok(Math.abs(mean) < 1e-5 && Math.abs(sd - 1) < 1e-5, `normalised: mean ${mean}, sd ${sd}`);
});

test('the same split and normalisation as the MNIST demo (examples/mnist-data.ts), up to the asset’s uint8 pixels', () => {
  const demo = loadMnist();
  assert.equal(Array.from(split.train, (i) => digits.labels[i]), Array.from(demo.train.y), 'training labels, in the same order');
  assert.equal(Array.from(split.heldOut, (i) => digits.labels[i]), Array.from(demo.heldOut.y), 'held-out labels, in the same order');
  assert.ok(Math.abs(norm.mean - demo.mean) < 1e-3 && Math.abs(norm.std - demo.std) < 1e-3, `page ${JSON.stringify(norm)}, demo ${demo.mean} ${demo.std}`);
  const held = digitSet(digits, split.heldOut, norm);
  let worst = 0;
  for (let i = 0; i < held.x.length; i++) worst = Math.max(worst, Math.abs(held.x[i] - demo.heldOut.x[i]));
  // The package's 3-decimal pixels vs round(255·v)/255: at most 0.5/255 + 5e-4 before dividing by the std.
  assert.ok(worst < (0.5 / 255 + 5e-4) / norm.std + 1e-3, `worst normalised pixel difference ${worst}`);
});

/** The net in float64 from the definitions: conv 'same' + bias + ReLU, 2×2 max-pool, twice, then flatten (NHWC order) and dense. */
function reference(x: Float32Array, N: number, w: Record<string, Float32Array>, F: number): Float64Array {
  const stage = (inp: ArrayLike<number>, S: number, C: number, O: number, wk: string, bk: string) => {
    const g: ref.ConvGeom = { N, H: S, W: S, C, Ho: S, Wo: S, O, Kh: 5, Kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 2, padLeft: 2, groups: 1 };
    const y = ref.conv2d(inp, w[wk], w[bk], g, 'relu');
    return ref.maxPool(y, { N, H: S, W: S, C: O, Ho: S / 2, Wo: S / 2, Kh: 2, Kw: 2, sh: 2, sw: 2, padTop: 0, padLeft: 0 }).y;
  };
  const h = stage(stage(x, 28, 1, F, '0.weight', '0.bias'), 14, F, 2 * F, '2.weight', '2.bias');
  const K = flatFeatures(F), out = new Float64Array(N * 10);
  for (let n = 0; n < N; n++) for (let o = 0; o < 10; o++) {
    let s = w['5.bias'][o];
    for (let k = 0; k < K; k++) s += h[n * K + k] * w['5.weight'][k * 10 + o];
    out[n * 10 + o] = s;
  }
  return out;
}

for (const device of devices) {
  test(`${device}: the CNN's logits and probabilities match the float64 reference`, async () => {
    const F = r.int(2, 4), N = r.int(1, 3);
    const w = initWeights(F, r.int(0, 1000));
    for (const k of Object.keys(w)) if (k.endsWith('bias')) w[k] = r.array(w[k].length, -0.1, 0.1);
    const set = digitSet(digits, Int32Array.from({ length: N }, () => r.int(0, digits.count - 1)), norm);
    const net = makeNet(F, device, w);
    try {
      const want = reference(set.x, N, w, F);
      const got = await logitsOf(net, set, 0, N);
      const err = relErr(got, want);
      assert.ok(err < 1e-5, `F=${F} N=${N}: rel. error ${err}`);
      const p = await predict(net, set.x.subarray(0, PIXELS));
      const sum = p.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`);
      assert.ok(relErr(p, rowLoss(Float32Array.from(want.subarray(0, 10)), 0, 0).probs) < 1e-5, 'softmax of the logits');
    } finally {
      net.dispose();
    }
  });
}

test('the same seed gives the same steps; WebGPU and WASM train in step from the same weights', async () => {
  const F = 4, data = digitSet(digits, split.train.subarray(0, 512), norm);
  const losses = async (device: (typeof devices)[number]) => {
    const net = makeNet(F, device, initWeights(F, 7));
    const t = new DigitsTrainer(net, data, { lr: 0.002, batch: 16 }, 7);
    try {
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push((await t.run(1)).loss);
      return { out, w: await snapshot(net) };
    } finally {
      t.dispose();
      net.dispose();
    }
  };
  const a = await losses('wasm'), b = await losses('wasm');
  assert.equal(a.out, b.out, 'identical losses from identical seeds');
  for (const device of devices.filter((d) => d !== 'wasm')) {
    const c = await losses(device);
    assert.ok(relErr(c.out, a.out) < 1e-4, `${device} losses ${c.out} vs wasm ${a.out}`);
    assert.ok(relErr(c.w['0.weight'], a.w['0.weight']) < 1e-3, `${device}: first-layer filters after 3 Adam steps`);
  }
});

test('wasm: 150 steps of batch 32 read most held-out digits right', async () => {
  const F = 8, net = makeNet(F, 'wasm', initWeights(F, 1));
  const train = digitSet(digits, split.train, norm), held = digitSet(digits, split.heldOut, norm);
  const t = new DigitsTrainer(net, train, { lr: 0.002, batch: 32 }, 1);
  try {
    const t0 = performance.now();
    const first = await t.run(1);
    for (let i = 0; i < 149; i += 10) await t.run(Math.min(10, 149 - i));
    const ms = performance.now() - t0;
    let right = 0;
    for (let i = 0; i < held.n; i += 500) {
      const pred = argmaxRows(await logitsOf(net, held, i, Math.min(held.n, i + 500)), 10);
      pred.forEach((p, j) => { if (p === held.labels[i + j]) right++; });
    }
    const acc = right / held.n;
    console.log(`  digits CNN (8 + 16 filters), wasm: 150 steps in ${(ms / 1000).toFixed(1)} s, first loss ${first.loss.toFixed(2)}, held-out accuracy ${(100 * acc).toFixed(1)}%`);
    assert.ok(acc > 0.85, `held-out accuracy ${acc}`);
  } finally {
    t.dispose();
    net.dispose();
  }
});

test.run();
