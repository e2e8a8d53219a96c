// One SGD training step of the MNIST demo's CNN (examples/mnist-model.ts) at
// batch 64: conv 5×5×32 relu → maxpool 2 → conv 5×5×64 relu → maxpool 2 →
// flatten (H, W, C order) → dense 128 relu → dense 10, cross-entropy, SGD
// lr 0.01 (dropout left out: its masks would differ between libraries). The
// same inputs and starting weights for every library; jax-js gets the NCHW /
// OIHW transposes and flattens in lepton's order, so the losses agree.
import { toOIHW } from './conv-problems.js';
import { data } from './problems.js';

export interface CnnProblem { kind: 'cnn'; id: string; name: string; batch: number; flops: number }

/** Forward product FLOPs per layer, for one image. */
const CONV1 = 2 * 24 * 24 * 32 * 25, CONV2 = 2 * 8 * 8 * 64 * 32 * 25, DENSE1 = 2 * 1024 * 128, DENSE2 = 2 * 128 * 10;

/**
 * The products of a step: each layer's forward and weight gradient, the input
 * gradient of every layer but the first (the images need none): 2·N·Ho·Wo·Cout·Cin·Kh·Kw per convolution pass.
 */
export const cnnStepFlops = (batch: number) => batch * (2 * CONV1 + 3 * (CONV2 + DENSE1 + DENSE2));

export const cnnProblem = (batch = 64): CnnProblem =>
  ({ kind: 'cnn', id: `cnn-mnist-b${batch}`, name: `CNN step (MNIST demo) b${batch} SGD`, batch, flops: cnnStepFlops(batch) });

/** Images [B, 28, 28, 1] in [0, 1), labels, and He-uniform weights: conv HWIO (and OIHW for jax), dense [in, out]. */
export function cnnInputs(p: CnnProblem) {
  const he = (n: number, fanIn: number, seed: number) => data(n, seed).map((v) => v * Math.sqrt(6 / fanIn));
  const w1 = he(5 * 5 * 1 * 32, 25, 31), w2 = he(5 * 5 * 32 * 64, 800, 32), w3 = he(1024 * 128, 1024, 33), w4 = he(128 * 10, 128, 34);
  return {
    x: data(p.batch * 28 * 28, 30).map((v) => (v + 1) / 2),
    labels: Int32Array.from({ length: p.batch }, (_, i) => (i * 7) % 10),
    w1, w2, w3, w4, b1: new Float32Array(32), b2: new Float32Array(64), b3: new Float32Array(128), b4: new Float32Array(10),
    w1oihw: toOIHW(w1, 5, 1, 32), w2oihw: toOIHW(w2, 5, 32, 64),
  };
}
