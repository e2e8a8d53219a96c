// TransformerLM generation: greedy generation through the key/value cache
// gives exactly the tokens of greedy generation by full recompute (and the
// cached logits match the recomputed ones); sampling is reproducible from a
// seeded Generator and follows softmax(z / T) over the top-k; stopToken ends
// a row; bad input is a LeptonError before any kernel runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, LeptonError, memory, nn, noGrad, scope } from '../../src/index.js';
import { argmaxRow, sampleRow } from '../../src/nn/transformer-generate.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { settledTensors } from '../helpers/settle.js';

const V = 13;
const lm = (device: nn.TransformerLMOptions['device'], seed = 4) =>
  new nn.TransformerLM(V, { dModel: 32, numLayers: 2, numHeads: 4, numKVHeads: 2, maxSeqLen: 20, dropout: 0.2, seed, device });
// Fixed prompts and seeded weights: the token sequences are deterministic per backend.
const PROMPTS = [[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]];

/** Greedy decoding by running the whole sequence again for every token (no cache); also each step's last logits. */
async function fullRecompute(m: nn.TransformerLM, prompts: number[][], n: number) {
  const seqs = prompts.map((p) => [...p]), logits: Float32Array[] = [];
  m.eval();
  for (let i = 0; i < n; i++) {
    const z = noGrad(() => m.forward(seqs));
    const S = seqs[0].length, data = await z.data();
    z.dispose();
    seqs.forEach((s, b) => {
      const row = data.subarray((b * S + S - 1) * V, (b * S + S) * V);
      logits.push(row.slice());
      s.push(argmaxRow(row));
    });
  }
  m.train();
  return { seqs, logits };
}

test('greedy generation through the KV cache equals greedy full recompute, every device; the cached logits match', async () => {
  for (const device of devices) {
    const m = lm(device);
    const before = await settledTensors(device);
    const n = 20 - PROMPTS[0].length + 1;  // fills maxSeqLen: the last token is never fed back
    const seen: number[][] = [];
    const got = await m.generate(PROMPTS, { maxNewTokens: n, temperature: 0, onToken: (t) => seen.push(t) });
    assert.is(memory(device).numTensors, before, 'generate frees its cache and every intermediate');
    assert.ok(m.training, 'generate restores training mode');
    const ref = await fullRecompute(m, PROMPTS, n);
    assert.equal(got, ref.seqs, `${device}: cached and recomputed greedy tokens`);
    assert.equal(seen, Array.from({ length: n }, (_, i) => ref.seqs.map((s) => s[PROMPTS[0].length + i])), 'onToken sees each step');
    // The same logits, step by step: feed the cache by hand.
    const cache = m.createCache();
    m.eval();
    let err = 0;
    for (let i = 0; i < n; i++) {
      const ids = i === 0 ? PROMPTS : got.map((s) => [s[PROMPTS[0].length + i - 1]]);
      const z = noGrad(() => scope(() => m.forward(ids, { cache })));
      const S = z.shape[1], data = await z.data();
      z.dispose();
      for (let b = 0; b < 2; b++) err = Math.max(err, relErr(data.subarray((b * S + S - 1) * V, (b * S + S) * V), ref.logits[i * 2 + b]));
    }
    assert.is(cache.length, 20);
    cache.dispose();
    m.train();
    record(`TransformerLM cached vs recomputed logits · ${device}`, err, `${n} steps`);
    assert.ok(err < 1e-5, `${device}: cached logits differ from recomputed ones by ${err}`);
    // One prompt in, one sequence out.
    assert.equal(await m.generate(PROMPTS[1], { maxNewTokens: 4, temperature: 0 }), ref.seqs[1].slice(0, 9));
    m.dispose();
  }
});

test('sampling: a seeded generator reproduces the tokens (and the model\'s dropout does not leak in); topK 1 is greedy', async () => {
  for (const device of devices) {
    const m = lm(device);
    const run = (seed: number, o: Partial<nn.GenerateOptions> = {}) => m.generate(PROMPTS, { maxNewTokens: 10, temperature: 1.5, generator: new Generator(seed), ...o });
    const a = await run(1), b = await run(1), c = await run(2);
    assert.equal(a, b, `${device}: same seed, same tokens`);
    assert.equal(await m.generate(PROMPTS, { maxNewTokens: 10, temperature: 1.5, seed: 1 }), a, 'seed: N is Generator(N)');
    assert.not.equal(a, c, `${device}: another seed, other tokens`);
    assert.equal(await run(3, { topK: 1 }), await m.generate(PROMPTS, { maxNewTokens: 10, temperature: 0 }));
    m.dispose();
  }
});

test('sampleRow follows softmax(z / T) over the top k; argmaxRow takes the first of ties', () => {
  const z = [1, 3, 0.5, 3, -2, 2];
  assert.is(argmaxRow(z), 1);
  assert.is(argmaxRow([NaN, 1, 0]), 1);
  const g = new Generator(11), n = 40000;
  for (const [T, k] of [[1, null], [0.7, 3], [2, 2]] as const) {
    const keep = k === null ? z.map(() => true) : z.map((v) => v >= [...z].sort((x, y) => y - x)[k - 1]);
    const w = z.map((v, i) => (keep[i] ? Math.exp(v / T) : 0)), total = w.reduce((s, v) => s + v, 0);
    const counts = new Array(z.length).fill(0);
    for (let i = 0; i < n; i++) counts[sampleRow(z, T, k, g)]++;
    counts.forEach((cnt, i) => {
      const p = w[i] / total, sd = Math.sqrt(n * p * (1 - p));
      if (p === 0) assert.is(cnt, 0, `T ${T} k ${k}: token ${i} is outside the top k`);
      else assert.ok(Math.abs(cnt - n * p) < 5 * sd + 1, `T ${T} k ${k}: token ${i} drawn ${cnt} times, expected ${(n * p).toFixed(0)}`);
    });
  }
});

test('stopToken ends a row (the token included) while the others go on', async () => {
  const m = lm('wasm');
  const greedy = await m.generate(PROMPTS, { maxNewTokens: 6, temperature: 0 });
  const stop = greedy[0][5];
  const got = await m.generate(PROMPTS, { maxNewTokens: 6, temperature: 0, stopToken: stop });
  assert.equal(got[0], greedy[0].slice(0, 6));
  const at = greedy[1].indexOf(stop, 5);
  assert.equal(got[1], at < 0 ? greedy[1] : greedy[1].slice(0, at + 1));
  assert.equal(await m.generate([1, 2], { maxNewTokens: 0 }), [1, 2]);
  m.dispose();
});

test('bad input: LeptonErrors naming the op, the argument, got and needed; nothing runs', () => {
  const m = lm('wasm');
  const expectError = (f: () => unknown, re: RegExp) => {
    try {
      f();
      assert.unreachable(`no error for ${re}`);
    } catch (e) {
      assert.ok(e instanceof LeptonError, (e as Error).message);
      assert.match((e as Error).message, re);
    }
  };
  expectError(() => m.forward([[1, 2, 13]]), /^nn.TransformerLM: argument 'ids' has token 13 at \[0\]\[2\]; needs an integer in \[0, 12\] \(vocabSize 13\)/);
  expectError(() => m.forward([[1, 2], [3]]), /argument 'ids' is ragged: row 1 has length 1, row 0 has length 2/);
  expectError(() => m.forward([1, 2, 3] as never), /argument 'ids' must be \[batch, seq\]: an array of rows of token ids \(e.g. \[\[1, 2, 3\]\] for one sequence\), got \[1, 2, 3\]/);
  expectError(() => m.forward([Array(21).fill(0)]), /^nn.TransformerLM: 21 positions exceed maxSeqLen 20/);
  const cache = m.createCache();
  noGrad(() => m.forward([Array(15).fill(0)], { cache })).dispose();
  expectError(() => m.forward([Array(6).fill(0)], { cache }), /15 cached \+ 6 positions exceed maxSeqLen 20/);
  assert.is(cache.length, 15, 'a refused call leaves the cache as it was');
  expectError(() => lm('wasm').forward([[1]], { cache }), /the cache belongs to another model/);
  cache.dispose();
  expectError(() => new nn.TransformerLM(10, { dModel: 30, numHeads: 4 }), /^nn.TransformerLM: dModel 30 must be divisible by numHeads 4/);
  expectError(() => new nn.TransformerLM(0), /argument 'vocabSize' must be a positive integer, got 0/);
  expectError(() => new nn.TransformerLM(10, { numLayer: 2 } as never), /unknown option 'numLayer' \(did you mean 'numLayers'\?\)/);
  expectError(() => new nn.TransformerLM(10, { dropout: 1 }), /option 'dropout'/);
  expectError(() => new nn.TransformerBlock(10, 3), /^nn.TransformerBlock: dModel 10 must be divisible by numHeads 3/);
  expectError(() => new nn.TransformerBlock(8, 2, { norm: 'batch' } as never), /option 'norm' must be one of 'layer', 'rms'/);
  expectError(() => new nn.TransformerBlock(8, 2).forward(null as never), /argument 'x' must be a Tensor \[batch, seq, 8\]/);
  m.dispose();
});

test('generate: bad prompts and options are rejected with LeptonErrors', async () => {
  const m = lm('wasm');
  const rejects = async (p: Promise<unknown>, re: RegExp) => {
    try {
      await p;
      assert.unreachable(`no error for ${re}`);
    } catch (e) {
      assert.ok(e instanceof LeptonError, (e as Error).message);
      assert.match((e as Error).message, re);
    }
  };
  await rejects(m.generate(Array(16).fill(1), { maxNewTokens: 6 }), /^nn.TransformerLM.generate: a prompt of 16 tokens \+ maxNewTokens 6 needs 21 positions; the model has maxSeqLen 20/);
  await rejects(m.generate([1, 99], { maxNewTokens: 2 }), /argument 'ids' has token 99 at \[0\]\[1\]/);
  await rejects(m.generate([], { maxNewTokens: 2 }), /argument 'prompt' must be a non-empty array of token ids/);
  await rejects(m.generate([1], { maxNewTokens: -1 }), /option 'maxNewTokens' must be a non-negative integer, got -1/);
  await rejects(m.generate([1], {} as never), /option 'maxNewTokens' is required/);
  await rejects(m.generate([1], { maxNewTokens: 2, temperature: -1 }), /option 'temperature'/);
  await rejects(m.generate([1], { maxNewTokens: 2, topK: 0 }), /option 'topK'/);
  await rejects(m.generate([1], { maxNewTokens: 2, stopToken: 13 }), /option 'stopToken' is 13; needs an integer in \[0, 12\]/);
  await rejects(m.generate([1], { maxNewTokens: 2, seed: 1, generator: new Generator(1) }), /give 'seed' or 'generator', not both/);
  await rejects(m.generate([1], { maxNewTokens: 2, temprature: 1 } as never), /unknown option 'temprature' \(did you mean 'temperature'\?\)/);
  m.dispose();
});

test.run();
