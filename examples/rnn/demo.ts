// npm run demo:rnn: an LSTM learns multi-digit addition (up to 4 + 4 digits,
// answer least-significant digit first; examples/addition/data.ts) by
// backprop through time, and is scored by greedy decoding on held-out
// problems it never trained on.
//   npm run demo:rnn -- --backend wasm|webgpu|auto --seed 1 --steps 3000
//   npm run demo:rnn -- --save lstm.safetensors --onnx lstm.onnx   (keep the trained model)
import { init, describeDevice, exportOnnx, optim, saveSafetensors, type DeviceName } from 'lepton';
import { VOCAB_SIZE, heldOutProblems, trainBatch, rng } from '../addition/data.js';
import { AdditionLSTM, evaluate, solve, trainStep } from './model.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const backend = (opt('backend') ?? 'wasm') as DeviceName | 'auto';
const seed = Number(opt('seed') ?? 1);
const steps = Number(opt('steps') ?? 3000);
const hidden = Number(opt('hidden') ?? 256);
const batch = Number(opt('batch') ?? 128);
const lr = Number(opt('lr') ?? 1e-2);
const evalEvery = Number(opt('eval-every') ?? 250);
const heldOutCount = Number(opt('held-out') ?? 2000);
const save = opt('save'), onnx = opt('onnx');
const positive = (v: number) => Number.isInteger(v) && v > 0;
if (!['auto', 'wasm', 'webgpu'].includes(backend) || !Number.isInteger(seed) || ![steps, hidden, batch, evalEvery, heldOutCount].every(positive) || !(lr > 0) || (args.includes('--save') && !save) || (args.includes('--onnx') && !onnx)) {
  console.error('usage: npm run demo:rnn -- [--backend wasm|webgpu|auto] [--seed N] [--steps N] [--hidden N] [--batch N] [--lr X] [--eval-every N] [--held-out N] [--save model.safetensors] [--onnx model.onnx]');
  process.exit(1);
}
const target = 0.95;

const device = await init({ backend });
const model = new AdditionLSTM({ hidden, seed, device });
const adam = new optim.Adam(model.parameters(), { lr });
const sched = new optim.lrScheduler.CosineAnnealingLR(adam, { tMax: steps, etaMin: lr / 20 });
const rand = rng(seed);
const heldOut = heldOutProblems(heldOutCount);
console.log(`lepton demo:rnn: LSTM(12 → ${hidden}) + Linear(${hidden} → 12) learns a + b (up to 4 digits each), batches of ${batch}, Adam lr ${lr} (cosine), ${steps} steps at most`);
console.log(`backend: ${device} (${describeDevice()}); goal: ≥ ${target * 100}% exact answers by greedy decoding on ${heldOut.length} held-out problems\n`);

const bar = (v: number, width = 30) => { const f = Math.max(0, Math.min(width, Math.round(v * width))); return '█'.repeat(f) + '░'.repeat(width - f); };
const t0 = performance.now();
let acc = 0, lossAvg = NaN, solved: { step: number; seconds: number } | null = null, lastLine = 0;
for (let step = 1; step <= steps; step++) {
  const loss = trainStep(model, adam, trainBatch(rand, batch).problems);
  sched.step();
  // Reading the loss every 10 steps keeps the queue short without a readback per step.
  if (step % 10 === 0 || step === steps) {
    const l = (await loss.data())[0];
    lossAvg = Number.isNaN(lossAvg) ? l : 0.9 * lossAvg + 0.1 * l;
  }
  loss.dispose();
  const evalNow = step % evalEvery === 0 || step === steps;
  if (evalNow) acc = (await evaluate(model, heldOut)).exact;
  const sec = (performance.now() - t0) / 1000;
  const done = evalNow && acc >= target;
  const line = `held-out accuracy ${bar(acc)} ${(acc * 100).toFixed(1).padStart(5)}%  loss ${lossAvg.toFixed(4)}  step ${String(step).padStart(5)}/${steps}  ${sec.toFixed(1)} s`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
  else if (evalNow || sec - lastLine >= 10) { console.log(line); lastLine = sec; }
  if (done) { solved = { step, seconds: sec }; break; }
}
if (process.stdout.isTTY) process.stdout.write('\n');
const sec = (performance.now() - t0) / 1000;
const examples = heldOut.slice(0, 4);
const sums = await solve(model, examples);
console.log(`\nexamples (held out): ${examples.map(([a, b], i) => `${a}+${b}=${sums[i]}${sums[i] === a + b ? ' ✓' : ' ✗'}`).join('  ')}`);
console.log(`time              ${sec.toFixed(1)} s (training and evaluation)`);
if (save) {
  await saveSafetensors(model, save, { metadata: { model: `AdditionLSTM(hidden ${hidden})`, data: 'addition, examples/addition/data.ts' } });
  console.log(`saved             ${save} (safetensors; load with loadSafetensors(model, …) or in PyTorch)`);
}
if (onnx) {
  // Time-major one-hot in, logits out; sequence length and batch both dynamic (no attention fixes them).
  await exportOnnx(model.eval().exportable(), { inputShape: ['seq', 'batch', VOCAB_SIZE], path: onnx });
  console.log(`exported          ${onnx} (ONNX opset 17: one-hot [seq, batch, ${VOCAB_SIZE}] → logits [seq, batch, ${VOCAB_SIZE}], zero initial state)`);
}
if (solved) console.log(`solved            ${(acc * 100).toFixed(1)}% held-out exact answers after ${solved.step} steps, ${solved.seconds.toFixed(1)} s`);
else { console.log(`not solved        ${(acc * 100).toFixed(1)}% after ${steps} steps (try another --seed or more --steps)`); process.exitCode = 2; }

