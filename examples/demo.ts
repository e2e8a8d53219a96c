// npm run demo: trains an MLP on the 3-class spiral in Node on the best
// available backend, with a progress bar per epoch.
//   npm run demo -- --backend wasm|webgpu --epochs 40
//   npm run demo -- --save spiral.safetensors --onnx spiral.onnx   (keep the trained model)
import { data, init, describeDevice, exportOnnx, metrics, nn, optim, saveSafetensors, scope, tensor, noGrad, type DeviceName } from 'lepton';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const backend = (opt('backend') ?? 'auto') as DeviceName | 'auto';
const epochs = Number(opt('epochs') ?? 40);
const batch = Number(opt('batch') ?? 64);
const save = opt('save'), onnx = opt('onnx');
if (!['auto', 'wasm', 'webgpu'].includes(backend) || !(Number.isInteger(epochs) && epochs > 0) || !(Number.isInteger(batch) && batch > 0)
  || (args.includes('--save') && !save) || (args.includes('--onnx') && !onnx)) {
  console.error('usage: npm run demo -- [--backend auto|wasm|webgpu] [--epochs N] [--batch N] [--save model.safetensors] [--onnx model.onnx]');
  process.exit(1);
}

let device: DeviceName;
try {
  device = await init({ backend });
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
console.log(`lepton demo: MLP [2, 64, 64, 3] (ReLU) on a 3-class spiral, Adam lr 1e-2, batch ${batch}`);
console.log(`backend: ${device} (${describeDevice()})${backend === 'auto' ? '  [--backend wasm|webgpu to choose]' : ''}\n`);

const train = data.spiral(300, { seed: 1 }), test = data.spiral(100, { seed: 2 });
const model = new nn.MLP([2, 64, 64, 3], { activation: 'relu', seed: 1 });
const adam = new optim.Adam(model.parameters(), { lr: 1e-2 });
await model.prepare(batch); // compiles the WebGPU pipelines of a step up front (nothing to do on WASM)

// Shuffled batches of the training points (a new order every epoch, seeded), uploaded to the backend.
const loader = new data.DataLoader(new data.TensorDataset({ data: train.x, shape: [train.n, 2] }, train.y), { batchSize: batch, shuffle: true, seed: 1 });

/** Share of `set` classified right, computed on the device (argmax of the logits against the labels). */
async function accuracy(set: data.Dataset2D) {
  const logits = noGrad(() => scope(() => model.forward(tensor(set.x, [set.n, 2]))));
  try {
    return await metrics.accuracy(logits, set.y);
  } finally {
    logits.dispose();
  }
}

const bar = (done: number, total: number, width = 28) => {
  const full = Math.round((done / total) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
};

const stepsPerEpoch = loader.length;
// The epoch's loss is averaged on the device and read once at the end: a
// readback per step would stall the WebGPU queue and time the sync.
const epochLoss = new metrics.MeanMetric();
let totalMs = 0, steps = 0, loss = NaN;

for (let epoch = 1; epoch <= epochs; epoch++) {
  let s = 0;
  // A step's time includes drawing its batch (gathered on the host, uploaded by the loader).
  let t0 = performance.now();
  for (const [x, y] of loader) {
    const l = scope(() => {
      const out = nn.crossEntropy(model.forward(x), y);
      adam.zeroGrad();
      out.backward();
      adam.step();
      return out;
    });
    epochLoss.update(l);
    l.dispose();
    totalMs += performance.now() - t0;
    steps++;
    s++;
    if (process.stdout.isTTY) process.stdout.write(`\repoch ${String(epoch).padStart(3)}/${epochs} ${bar(s, stepsPerEpoch)} ${s}/${stepsPerEpoch}`);
    t0 = performance.now();
  }
  t0 = performance.now();
  loss = await epochLoss.compute(); // the readback ends the timed region
  totalMs += performance.now() - t0;
  epochLoss.reset();
  const line = `epoch ${String(epoch).padStart(3)}/${epochs} ${bar(1, 1)} loss ${loss.toFixed(4)}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}\n`);
  else console.log(line);
}

const [trainAcc, testAcc] = [await accuracy(train), await accuracy(test)];
console.log(`\nfinal loss      ${loss.toFixed(4)}`);
console.log(`accuracy        train ${(trainAcc * 100).toFixed(1)}%  held-out ${(testAcc * 100).toFixed(1)}%`);
console.log(`backend         ${device} (${describeDevice()})`);
console.log(`time per step   ${(totalMs / steps).toFixed(2)} ms (${steps} steps, forward + backward + Adam; the epoch loss is read back once)`);

// The trained model leaves the process: its weights as safetensors (PyTorch's
// names and layouts: torch.nn.Linear modules load them), the network as ONNX.
if (save) {
  await saveSafetensors(model, save, { metadata: { model: 'MLP [2, 64, 64, 3] relu', data: 'spiral, 3 classes' } });
  console.log(`saved           ${save} (safetensors; load with loadSafetensors(model, …) or in PyTorch)`);
}
if (onnx) {
  await exportOnnx(model.eval(), { inputShape: [1, 2], path: onnx });
  console.log(`exported        ${onnx} (ONNX opset 17, dynamic batch)`);
}
