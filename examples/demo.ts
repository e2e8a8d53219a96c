// npm run demo: trains an MLP on the 3-class spiral in Node on the best
// available backend, with a progress bar per epoch.
//   npm run demo -- --backend wasm|webgpu --epochs 40
import { data, init, describeDevice, nn, optim, scope, tensor, noGrad, type DeviceName, type Tensor } from 'lepton';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const backend = (opt('backend') ?? 'auto') as DeviceName | 'auto';
const epochs = Number(opt('epochs') ?? 40);
const batch = Number(opt('batch') ?? 64);
if (!['auto', 'wasm', 'webgpu'].includes(backend) || !(Number.isInteger(epochs) && epochs > 0) || !(Number.isInteger(batch) && batch > 0)) {
  console.error('usage: npm run demo -- [--backend auto|wasm|webgpu] [--epochs N] [--batch N]');
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

function batchOf(idx: number[]) {
  const x = new Float32Array(idx.length * 2), y = new Int32Array(idx.length);
  idx.forEach((k, i) => { x[2 * i] = train.x[2 * k]; x[2 * i + 1] = train.x[2 * k + 1]; y[i] = train.y[k]; });
  return { x, y };
}

async function accuracy(set: data.Dataset2D) {
  const logits = noGrad(() => scope(() => model.forward(tensor(set.x, [set.n, 2]))));
  const v = await logits.data();
  logits.dispose();
  let right = 0;
  for (let i = 0; i < set.n; i++) {
    const row = v.subarray(i * 3, i * 3 + 3);
    if (row.indexOf(Math.max(...row)) === set.y[i]) right++;
  }
  return right / set.n;
}

const bar = (done: number, total: number, width = 28) => {
  const full = Math.round((done / total) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
};

const order = Array.from({ length: train.n }, (_, i) => i);
const stepsPerEpoch = Math.ceil(train.n / batch);
let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
let totalMs = 0, steps = 0, loss = NaN;

for (let epoch = 1; epoch <= epochs; epoch++) {
  for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
  // The epoch's loss is summed on the device and read once at the end: a
  // readback per step would stall the WebGPU queue and time the sync.
  let sum: Tensor | null = null;
  for (let s = 0; s < stepsPerEpoch; s++) {
    const { x, y } = batchOf(order.slice(s * batch, (s + 1) * batch));
    const t0 = performance.now();
    const l = scope(() => {
      const out = nn.crossEntropy(model.forward(tensor(x, [y.length, 2])), y);
      adam.zeroGrad();
      out.backward();
      adam.step();
      return out;
    });
    if (sum) { const prev: Tensor = sum; sum = noGrad(() => prev.add(l)); prev.dispose(); l.dispose(); } else sum = l;
    totalMs += performance.now() - t0;
    steps++;
    if (process.stdout.isTTY) process.stdout.write(`\repoch ${String(epoch).padStart(3)}/${epochs} ${bar(s + 1, stepsPerEpoch)} ${s + 1}/${stepsPerEpoch}`);
  }
  const t0 = performance.now();
  loss = (await sum!.item()) / stepsPerEpoch; // the readback ends the timed region
  totalMs += performance.now() - t0;
  sum!.dispose();
  const line = `epoch ${String(epoch).padStart(3)}/${epochs} ${bar(1, 1)} loss ${loss.toFixed(4)}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}\n`);
  else console.log(line);
}

const [trainAcc, testAcc] = [await accuracy(train), await accuracy(test)];
console.log(`\nfinal loss      ${loss.toFixed(4)}`);
console.log(`accuracy        train ${(trainAcc * 100).toFixed(1)}%  held-out ${(testAcc * 100).toFixed(1)}%`);
console.log(`backend         ${device} (${describeDevice()})`);
console.log(`time per step   ${(totalMs / steps).toFixed(2)} ms (${steps} steps, forward + backward + Adam; the epoch loss is read back once)`);
