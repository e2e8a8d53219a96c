// The addition transformer of `npm run demo:transformer` learns on every
// backend. WASM: the demo's model on a shorter schedule must answer held-out
// problems exactly (greedy generation through the KV cache) far above what a
// model that has not learned gets (a random 5-digit answer is right 1 time in
// 10^5; the full demo reaches 100%). WebGPU runs on SwiftShader (the CPU) here,
// so a narrow model takes a few steps: its loss must fall and follow, step by
// step, the loss of the same run (same weights, same batches) on WASM.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { heldOutProblems } from '../../examples/addition/data.js';
import { additionModel, DEMO, heldOutAccuracy, Trainer, type AdditionConfig } from '../../examples/transformer/model.js';
import { devices } from '../helpers/backends.js';

async function losses(config: AdditionConfig): Promise<{ losses: number[]; trainer: Trainer; seconds: number }> {
  const model = additionModel(config), trainer = new Trainer(model, config), out: number[] = [];
  const t0 = performance.now();
  for (let s = 0; s < config.steps; s++) {
    const l = trainer.train();
    out.push((await l.data())[0]);
    l.dispose();
  }
  return { losses: out, trainer, seconds: (performance.now() - t0) / 1000 };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

if (devices.includes('wasm')) {
  test('wasm: the demo\'s transformer, 250 steps, answers held-out problems exactly by greedy KV-cached generation', async () => {
    const config = { ...DEMO, steps: 250, seed: 3, device: 'wasm' as const };
    const run = await losses(config);
    const problems = heldOutProblems(500, 777);
    const acc = await heldOutAccuracy(run.trainer.model, problems);
    console.log(`  wasm: ${config.steps} steps of ${config.batchSize} in ${run.seconds.toFixed(1)} s, loss ${run.losses[0].toFixed(3)} → ${run.losses.at(-1)!.toFixed(4)}, held-out exact answers ${(acc * 100).toFixed(1)}% of ${problems.length} (needs 90%)`);
    assert.ok(acc >= 0.9, `held-out accuracy ${acc}`);
    assert.ok(mean(run.losses.slice(-10)) < 0.05 * mean(run.losses.slice(0, 10)), 'the loss falls by more than 20×');
    run.trainer.model.dispose();
  });
}

if (devices.includes('webgpu')) {
  test('webgpu: a narrow model of the demo\'s kind learns, step for step as on wasm', async () => {
    const small = { ...DEMO, dModel: 32, ffnDim: 64, batchSize: 16, steps: 18, warmup: 4, lr: 1e-2, seed: 5 };
    const gpu = await losses({ ...small, device: 'webgpu' });
    const cpu = await losses({ ...small, device: 'wasm' });
    console.log(`  webgpu: ${small.steps} steps of ${small.batchSize} in ${gpu.seconds.toFixed(1)} s, loss ${gpu.losses.map((l) => l.toFixed(3)).join(' ')}`);
    gpu.losses.forEach((l, i) => assert.ok(Math.abs(l - cpu.losses[i]) < 1e-2 * cpu.losses[i], `step ${i}: webgpu loss ${l}, wasm ${cpu.losses[i]}`));
    assert.ok(mean(gpu.losses.slice(-3)) < 0.8 * mean(gpu.losses.slice(0, 3)), `the loss falls: ${gpu.losses.join(', ')}`);
    for (const r of [gpu, cpu]) r.trainer.model.dispose();
  });
}

test.run();
