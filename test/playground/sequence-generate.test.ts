// The Sequence tab's generation and attention maps (playground/src/
// sequence-generate.ts) on every backend, against the float64 reference
// language model (test/reference/transformer.ts) run on the whole sequence
// at every step (no cache): the digits picked one at a time through the KV
// cache are the reference's greedy digits, each handed to the page before the
// next is made; the attention maps are the reference's probabilities.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memory, type nn } from '../../src/index.js';
import { encodePrompt, PROMPT_LEN } from '../../examples/addition/data.js';
import { additionModel, DEMO, READ_LEN } from '../../examples/transformer/model.js';
import { answerStepByStep, attentionMaps, readTokens } from '../../playground/src/sequence-generate.js';
import { devices } from '../helpers/backends.js';
import { record, relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { lmForward, type LMConfig, type Params } from '../reference/transformer.js';
import { settledTensors } from '../helpers/settle.js';

const r = testRng('playground-sequence-generate');
const E = 16, H = 2, F = 32, LAYERS = 2, V = 12;
const cfg = (S: number): LMConfig => ({ B: 1, S, E, H, Hkv: H, F, V, layers: LAYERS, rms: false, eps: 1e-5, bias: true });

/** Random values for every parameter (wide enough that the digits' logits are far apart), loaded into m; returns them in float64. */
function randomize(m: nn.Module): Params {
  const values: Record<string, Float32Array> = {};
  for (const [name, t] of m.namedParameters()) values[name] = r.array(t.size, -0.6, 0.6).map((v) => (name.includes('norm') && name.endsWith('weight') ? 1 + v : v));
  m.loadStateDict(values);
  return new Map(Object.entries(values).map(([k, v]) => [k, Float64Array.from(v)]));
}

/** Greedy over the digit tokens by recomputing the whole sequence in float64; also each pick's margin over the runner-up. */
function referenceAnswer(p: Params, a: number, b: number) {
  const seq = encodePrompt(a, b), margins: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { logits } = lmForward(seq, p, cfg(seq.length));
    const row = logits.subarray((seq.length - 1) * V, seq.length * V);
    const order = [...Array(10).keys()].sort((x, y) => row[y] - row[x]);
    margins.push(row[order[0]] - row[order[1]]);
    seq.push(order[0]);
  }
  return { answer: seq.slice(PROMPT_LEN), margins };
}

test('answerStepByStep: the reference\'s greedy digits, one onToken per digit before the next; attentionMaps: the reference\'s probabilities', async () => {
  for (const device of devices) {
    const model = additionModel({ ...DEMO, dModel: E, numLayers: LAYERS, numHeads: H, ffnDim: F, device });
    const p = randomize(model);
    const before = await settledTensors(device);
    let compared = 0, worst = 0;
    for (let trial = 0; trial < 4; trial++) {
      const a = r.int(0, 9999), b = r.int(0, 9999);
      const events: string[] = [];
      let gate = Promise.resolve();
      const ans = await answerStepByStep(model, a, b, async (t, i) => {
        events.push(`token ${i}: ${t}`);
        // The next digit waits for the page: a slow onToken holds generation back.
        gate = new Promise((res) => setTimeout(res, 5));
        await gate;
        events.push(`shown ${i}`);
      });
      assert.equal(events, ans.answer.flatMap((t, i) => [`token ${i}: ${t}`, `shown ${i}`]), `${device}: onToken in order, awaited`);
      assert.equal(ans.prompt, encodePrompt(a, b));
      assert.ok(ans.answer.every((t) => t >= 0 && t <= 9), `digits only: ${ans.answer}`);
      assert.is(ans.value, Number([...ans.answer].reverse().join('')), 'the value reads the digits most significant first');
      assert.is(ans.right, ans.value === a + b);
      const ref = referenceAnswer(p, a, b);
      // float32 may break a near-tie the other way; past it the sequences differ legitimately.
      const firstTie = ref.margins.findIndex((m) => m < 1e-3);
      const n = firstTie < 0 ? 5 : firstTie;
      assert.equal(ans.answer.slice(0, n), ref.answer.slice(0, n), `${device}: ${a}+${b}: digits through the cache vs float64 recompute`);
      compared += n;

      const tokens = readTokens(ans);
      assert.is(tokens.length, READ_LEN);
      const maps = await attentionMaps(model, tokens);
      assert.equal([maps.layers, maps.heads, maps.seq], [LAYERS, H, READ_LEN]);
      const { P } = lmForward(tokens, p, cfg(READ_LEN));
      for (let l = 0; l < LAYERS; l++) worst = Math.max(worst, relErr(maps.weights[l], P[l]));
    }
    record(`playground sequence attention maps · ${device}`, worst, `${LAYERS} layers × ${H} heads, S ${READ_LEN}`);
    assert.ok(worst < 3e-5, `${device}: attention maps relative error ${worst}`);
    assert.ok(compared >= 12, `${device}: ${compared} digits compared (too many near-ties)`);
    assert.ok(model.training, 'the model is back in training mode');
    assert.is(memory(device).numTensors, before, 'the cache and every intermediate are freed');
    model.dispose();
  }
});

test('answerStepByStep: a throwing onToken stops generation and frees the cache', async () => {
  const device = devices[0];
  const model = additionModel({ ...DEMO, dModel: E, numLayers: 1, numHeads: H, ffnDim: F, device });
  const before = await settledTensors(device);
  let calls = 0;
  const err = await answerStepByStep(model, 12, 34, () => { calls++; if (calls === 2) throw new Error('newer problem'); }).catch((e: Error) => e);
  assert.instance(err, Error);
  assert.is(calls, 2, 'no digit is made after the throw');
  assert.is(memory(device).numTensors, before);
  assert.ok(model.training);
  model.dispose();
});

test.run();
