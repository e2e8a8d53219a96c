// The MNIST CNN of `npm run demo:mnist` learns real digits on every backend:
// a shorter run (a subset of the 8,000 training digits, few epochs) must
// reach a held-out accuracy no model that has not learned reaches (chance is
// 10%; the full demo reaches 98%+). WebGPU runs on SwiftShader (the CPU)
// here, so it trains a narrower CNN of the same architecture on fewer digits.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import type { DeviceName } from '../../src/index.js';
import { batches, head, loadMnist, PIXELS, SIDE, type DigitSet } from '../../examples/mnist-data.js';
import { mnistCnn } from '../../examples/mnist-model.js';
import { devices } from '../helpers/backends.js';

const { nn, optim, scope, noGrad, tensor, metrics } = lp;
const mnist = loadMnist();

/** Per device: training digits, epochs, held-out digits, and the accuracy the run must reach. */
// The narrow WebGPU model learns fastest without dropout and with a larger step (measured on WASM: 86–89% over seeds).
const RUNS: Record<DeviceName, { train: number; epochs: number; heldOut: number; target: number; lr: number; widths?: [number, number, number]; dropout?: number }> = {
  wasm: { train: 2000, epochs: 2, heldOut: 1000, target: 0.93, lr: 2e-3 },
  webgpu: { train: 480, epochs: 2, heldOut: 300, target: 0.8, lr: 5e-3, widths: [8, 16, 64], dropout: 0 },
};

async function accuracy(model: lp.nn.Module, set: DigitSet, device: DeviceName): Promise<number> {
  model.eval();
  const logits = noGrad(() => scope(() => model.forward(tensor(set.x, [set.n, SIDE, SIDE, 1], { device }))));
  const acc = await metrics.accuracy(logits, set.y);
  logits.dispose();
  model.train();
  return acc;
}

for (const device of devices) {
  test(`the demo's CNN learns MNIST on ${device}: held-out accuracy after a short run`, async () => {
    const run = RUNS[device];
    const model = mnistCnn({ seed: 3, device, widths: run.widths, dropout: run.dropout });
    const adam = new optim.Adam(model.parameters(), { lr: run.lr });
    const loader = batches(head(mnist.train, run.train), 32, 5, undefined, device);
    const t0 = performance.now();
    let steps = 0;
    for (let e = 0; e < run.epochs; e++) {
      for (const [x, y] of loader) {
        scope(() => {
          const loss = nn.crossEntropy(model.forward(x), y);
          adam.zeroGrad();
          loss.backward();
          adam.step();
        });
        steps++;
      }
    }
    const held = head(mnist.heldOut, run.heldOut);
    const acc = await accuracy(model, held, device);
    const s = (performance.now() - t0) / 1000;
    console.log(`  ${device}: CNN widths ${run.widths ?? 'as the demo'}, ${run.train} digits × ${run.epochs} epochs (${steps} steps of 32) in ${s.toFixed(1)} s → held-out ${(acc * 100).toFixed(1)}% of ${held.n} (needs ${run.target * 100}%)`);
    assert.ok(acc >= run.target, `${device}: held-out accuracy ${acc}, needs ${run.target}`);
    assert.ok(held.x.length === held.n * PIXELS);
    model.dispose();
  });
}

test.run();
