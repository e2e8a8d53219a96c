// A short PPO run on CartPole-v1 on every backend: the policy must improve by
// a clear margin. Measured on fresh evaluation episodes (seeded), before and
// after, so the result is not the training episodes' lagging average.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PPO } from '../../examples/rl/ppo.js';
import { trainReinforce } from '../../examples/rl/reinforce.js';
import { devices } from '../helpers/backends.js';

test('PPO on CartPole-v1 improves the return by a clear margin on every backend', async () => {
  for (const device of devices) {
    const t0 = performance.now();
    // A quick-start configuration (CleanRL's shape: few epochs, large steps; 16 environments
    // so that WebGPU on SwiftShader reads back fewer, larger batches of actions).
    const ppo = new PPO({ env: 'CartPole-v1', seed: 2, totalSteps: 100_000, numEnvs: 16, numSteps: 64, epochs: 4, minibatchSize: 256, lr: 3e-3, entropyCoef: 0.01, gamma: 0.99, lambda: 0.95 }, device);
    const before = await ppo.evaluate(16, false);
    for (let u = 0; u < 7; u++) await ppo.update();
    const after = await ppo.evaluate(16, false);
    console.log(`  PPO CartPole on ${device}: evaluation return ${before.toFixed(1)} → ${after.toFixed(1)} after ${ppo.steps} steps (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    // A random policy lasts ~22 steps; 7 updates (7,168 steps) reached 120–210 (sampled) over seeds 1–8 on WASM.
    assert.ok(before < 35, `${device}: the untrained (uniform) policy already scores ${before}`);
    assert.ok(after > 80 && after > 3 * before, `${device}: return ${before} → ${after}`);
    if (device === 'wasm') {
      // Watching one episode: a callback per step, the return is CartPole's episode length.
      let steps = 0;
      const ret = await ppo.playEpisode((env, s) => { steps++; assert.ok(s.observation.length === 4 && (env as unknown as { state: number[] }).state.length === 4); }, { seed: 1 });
      assert.ok(ret === steps && steps > 0);
    }
  }
});

test('REINFORCE with a baseline improves on CartPole-v1 (WASM)', async () => {
  const curve = await trainReinforce({ device: 'wasm', updates: 25 });
  assert.ok(curve[curve.length - 1] > 2 * curve[0] && curve[curve.length - 1] > 50, `mean return ${curve[0]} → ${curve[curve.length - 1]}`);
});

test.run();
