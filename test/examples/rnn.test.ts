// The LSTM of `npm run demo:rnn` learns the addition task: a short run on
// WASM must bring the held-out teacher-forced loss below what any model that
// ignores the prompt can reach (the entropy of the answer digits' marginal
// distribution, 1.77 nats averaged over the five positions; an untrained
// model is at ~2.5), and greedy decoding must run end to end. The full demo
// reaches 95% exact answers; that takes minutes, too long for a test.
// WebGPU runs on SwiftShader (the CPU) here, ~1 s a step, so it trains a few
// steps from the same weights and data and must give WASM's losses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import * as ort from 'onnxruntime-web';
import { ANSWER_LEN, PROMPT_LEN, SEQ_LEN, VOCAB_SIZE, encodeAnswer, heldOutProblems, packSequences, rng, trainBatch } from '../../examples/addition/data.js';
import { AdditionLSTM, answerLoss, evaluate, oneHot, trainStep } from '../../examples/rnn/model.js';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';

const { optim, noGrad } = lp;
const held = heldOutProblems(500);

/** Mean over answer positions of the entropy of that digit's distribution on `problems` (nats). */
function marginalEntropy(problems: ReadonlyArray<[number, number]>): number {
  let total = 0;
  for (let k = 0; k < ANSWER_LEN; k++) {
    const counts = new Array<number>(10).fill(0);
    for (const [a, b] of problems) counts[encodeAnswer(a, b)[k]]++;
    total -= counts.filter((c) => c > 0).reduce((s, c) => s + (c / problems.length) * Math.log(c / problems.length), 0);
  }
  return total / ANSWER_LEN;
}

async function heldOutLoss(model: AdditionLSTM): Promise<number> {
  const l = noGrad(() => answerLoss(model, held));
  const v = (await l.data())[0];
  l.dispose();
  return v;
}

test('the demo\'s LSTM learns addition on wasm: held-out loss below the prompt-blind bound after a short run', async () => {
  const floor = marginalEntropy(held);
  assert.ok(floor > 1.7 && floor < 1.85, `marginal entropy ${floor}`);
  const model = new AdditionLSTM({ hidden: 64, seed: 3, device: 'wasm' });
  const adam = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const before = await heldOutLoss(model);
  assert.ok(before > 2.2, `untrained held-out loss ${before}`);
  const rand = rng(3), t0 = performance.now();
  for (let s = 0; s < 400; s++) trainStep(model, adam, trainBatch(rand, 64).problems).dispose();
  const after = await heldOutLoss(model);
  const e = await evaluate(model, held.slice(0, 200));
  console.log(`  rnn demo (short, wasm): held-out loss ${before.toFixed(3)} → ${after.toFixed(3)} (prompt-blind bound ${floor.toFixed(3)}), `
    + `digit accuracy ${e.digits.map((d) => d.toFixed(2)).join(' ')}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  assert.ok(after < floor - 0.15, `held-out loss ${after} is not below the prompt-blind bound ${floor} by 0.15`);
  assert.ok(e.digits.every((d) => d >= 0 && d <= 1) && e.exact >= 0, 'greedy decoding scored');
  model.dispose();
});

if (devices.includes('webgpu')) {
  test('the demo\'s training steps on webgpu give wasm\'s losses (same weights, same batches)', async () => {
    const losses: number[][] = [];
    for (const device of ['wasm', 'webgpu'] as const) {
      const model = new AdditionLSTM({ hidden: 32, seed: 5, device });
      const adam = new optim.Adam(model.parameters(), { lr: 1e-2 });
      const rand = rng(5), mine: number[] = [];
      for (let s = 0; s < 6; s++) {
        const l = trainStep(model, adam, trainBatch(rand, 16).problems);
        mine.push((await l.data())[0]);
        l.dispose();
      }
      losses.push(mine);
      model.dispose();
    }
    for (let s = 0; s < losses[0].length; s++) {
      const d = Math.abs(losses[1][s] - losses[0][s]) / losses[0][s];
      assert.ok(d < 1e-4, `step ${s}: webgpu loss ${losses[1][s]} vs wasm ${losses[0][s]}`);
    }
    assert.ok(losses[0][5] < losses[0][0], `the loss fell over six steps: ${losses[0].join(', ')}`);
  });
}

test('the demo\'s --onnx export runs in onnxruntime-web: lepton\'s logits and teacher-forced loss at any seq and batch', async () => {
  ort.env.wasm.numThreads = 1;
  const model = new AdditionLSTM({ hidden: 20, seed: 4, device: 'wasm' });
  const adam = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const rand = rng(4);
  for (let s = 0; s < 20; s++) trainStep(model, adam, trainBatch(rand, 32).problems).dispose();
  model.eval();
  const bytes = await lp.exportOnnx(model.exportable(), { inputShape: ['seq', 'batch', VOCAB_SIZE] });
  const session = await ort.InferenceSession.create(bytes);
  let worst = 0;
  for (const [B, T] of [[37, SEQ_LEN - 1], [1, 1], [5, PROMPT_LEN]]) {
    const probs = held.slice(0, B), seqs = packSequences(probs);
    const x = oneHot(seqs, B, SEQ_LEN, 0, T, 'wasm');
    const r = await session.run({ input: new ort.Tensor('float32', await x.data(), [T, B, VOCAB_SIZE]) });
    assert.equal(r.output.dims, [T, B, VOCAB_SIZE]);
    const got = r.output.data as Float32Array;
    const mine = noGrad(() => lp.scope(() => model.head.forward(model.forward(x)[0])));
    const rel = relErr(got, await mine.data());
    worst = Math.max(worst, rel);
    assert.ok(rel < 1e-5, `B ${B}, T ${T}: onnxruntime vs lepton logits relative error ${rel}`);
    mine.dispose(); x.dispose();
    if (T !== SEQ_LEN - 1) continue;
    // The answer digits' cross-entropy from ONNX Runtime's logits, in float64, is the demo's teacher-forced loss.
    let ce = 0;
    for (let t = PROMPT_LEN - 1; t < PROMPT_LEN - 1 + ANSWER_LEN; t++) {
      for (let b = 0; b < B; b++) {
        const row = Array.from(got.subarray((t * B + b) * VOCAB_SIZE, (t * B + b + 1) * VOCAB_SIZE)), m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
        ce += lse - row[seqs[b * SEQ_LEN + t + 1]];
      }
    }
    ce /= ANSWER_LEN * B;
    const l = noGrad(() => answerLoss(model, probs)), want = (await l.data())[0];
    l.dispose();
    assert.ok(Math.abs(ce - want) < 1e-5 * want, `ONNX teacher-forced loss ${ce} vs lepton's ${want}`);
  }
  console.log(`  rnn demo --onnx: onnxruntime-web ${ort.env.versions.web} logits vs lepton, relative error at most ${worst.toExponential(2)}`);
  await session.release();
  model.dispose();
});

test.run();
