// npm run demo:transformer: a decoder-only transformer (2 layers, 4 heads,
// width 64) learns 4-digit + 4-digit addition in Node, scored by greedy
// generation through the key/value cache on held-out problems.
//   npm run demo:transformer -- --backend wasm|webgpu|auto --seed 2 --steps 2000 --eval 2000
//   npm run demo:transformer -- --save adder.safetensors   (keep the trained model)
import { describeDevice, init, saveSafetensors, type DeviceName } from 'lepton';
import { heldOutProblems, tokenText, encodePrompt, PROMPT_LEN } from '../addition/data.js';
import { additionModel, DEMO, heldOutAccuracy, Trainer } from './model.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const backend = (opt('backend') ?? 'wasm') as DeviceName | 'auto';
const seed = Number(opt('seed') ?? DEMO.seed);
const steps = Number(opt('steps') ?? DEMO.steps);
const evalCount = Number(opt('eval') ?? 2000);
const save = opt('save');
const known = new Set(['--backend', '--seed', '--steps', '--eval', '--save']);
if (!['auto', 'wasm', 'webgpu'].includes(backend) || !Number.isInteger(seed) || !(Number.isInteger(steps) && steps > 0)
  || !(Number.isInteger(evalCount) && evalCount > 0) || (args.includes('--save') && !save) || args.some((a, i) => i % 2 === 0 && !known.has(a))) {
  console.error('usage: npm run demo:transformer -- [--backend wasm|webgpu|auto] [--seed N] [--steps N] [--eval N] [--save model.safetensors]');
  process.exit(1);
}
const TARGET = 0.99;
// Accuracy checks on a small held-out sample while training; the full count at the end.
const CHECK_EVERY = 100, CHECK_COUNT = 200;

const device = await init({ backend });
const config = { ...DEMO, seed, steps, device };
const model = additionModel(config);
const trainer = new Trainer(model, config);
const params = model.parameters().reduce((n, p) => n + p.size, 0);
console.log(`lepton demo:transformer: ${config.numLayers} layers, ${config.numHeads} heads, width ${config.dModel}, MLP ${config.ffnDim} (${params.toLocaleString('en')} parameters)`);
console.log(`AdamW lr ${config.lr} (warmup ${config.warmup}, cosine), batch ${config.batchSize}, ${steps} steps; loss on the 5 answer digits`);
console.log(`backend: ${device} (${describeDevice()}); goal: ≥ ${TARGET * 100}% exact answers on ${evalCount} held-out problems (greedy, KV cache)\n`);

const held = heldOutProblems(evalCount);
const sample = held.slice(0, CHECK_COUNT);
const bar = (frac: number, width = 24) => { const f = Math.max(0, Math.min(width, Math.round(frac * width))); return '█'.repeat(f) + '░'.repeat(width - f); };
const t0 = performance.now();
let loss = NaN, acc = NaN, lastLine = -Infinity;
for (let s = 1; s <= steps; s++) {
  const l = trainer.train();
  const check = s % CHECK_EVERY === 0 || s === steps;
  if (s % 25 === 0 || check) loss = (await l.data())[0];
  l.dispose();
  if (check && s < steps) acc = await heldOutAccuracy(model, sample);
  const sec = (performance.now() - t0) / 1000;
  const line = `${bar(s / steps)} step ${String(s).padStart(5)}/${steps}  loss ${Number.isNaN(loss) ? '  —   ' : loss.toFixed(4)}  held-out ${Number.isNaN(acc) ? '  —  ' : `${(acc * 100).toFixed(1)}%`} (of ${CHECK_COUNT})  ${sec.toFixed(1)} s`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
  else if (check || sec - lastLine >= 10) { console.log(line); lastLine = sec; }
}
if (process.stdout.isTTY) process.stdout.write('\n');
const trainSec = (performance.now() - t0) / 1000;
const t1 = performance.now();
const final = await heldOutAccuracy(model, held);
const evalSec = (performance.now() - t1) / 1000;

// A few answers, generated token by token as the playground shows them.
const show = held.slice(0, 4);
const outs = await model.generate(show.map(([a, b]) => encodePrompt(a, b)), { maxNewTokens: 5, temperature: 0 });
console.log('\nexamples (answer digits come out least significant first):');
show.forEach(([a, b], i) => {
  const digits = outs[i].slice(PROMPT_LEN);
  const got = Number(digits.map(tokenText).reverse().join(''));
  console.log(`  ${outs[i].slice(0, PROMPT_LEN).map(tokenText).join('')}${digits.map(tokenText).join('')}  →  ${a} + ${b} = ${got} ${got === a + b ? '✓' : `✗ (${a + b})`}`);
});
console.log(`\ntraining         ${steps} steps in ${trainSec.toFixed(1)} s (${(steps / trainSec).toFixed(1)} steps/s, ${(steps * config.batchSize / trainSec).toFixed(0)} problems/s, with ${Math.floor((steps - 1) / CHECK_EVERY)} checks)`);
console.log(`held-out         ${(final * 100).toFixed(2)}% exact answers on ${held.length} problems never trained on (greedy generation, KV cache, ${evalSec.toFixed(1)} s)`);
console.log(`total            ${(trainSec + evalSec).toFixed(1)} s`);
if (save) {
  const c = `TransformerLM(vocab 12, dModel ${config.dModel}, ${config.numLayers} layers, ${config.numHeads} heads, ffn ${config.ffnDim})`;
  await saveSafetensors(model, save, { metadata: { model: c, data: 'addition, examples/addition/data.ts' } });
  console.log(`saved            ${save} (safetensors; load with loadSafetensors(model, …) or in PyTorch)`);
}
if (final < TARGET) { console.log(`below the goal of ${TARGET * 100}% (try more --steps or another --seed)`); process.exitCode = 2; }
