// The Digits tab's CNN on lepton's nn layers: conv 5×5 (F filters) → ReLU →
// max-pool 2 → conv 5×5 (2F) → ReLU → max-pool 2 → flatten → dense 10, on NHWC images
// [N, 28, 28, 1]. Its initial weights are drawn on the host from the seed, so
// every backend starts from the same numbers (loadStateDict). Training
// (Adam, seeded batches), the held-out evaluation in slices, and the one-image
// prediction of the drawing pad. No DOM here.
import { crossEntropy, Generator, nn, noGrad, optim, scope, softmax, tensor, type DeviceName, type Tensor } from 'lepton';
import { CLASSES, PIXELS, SIDE, type DigitSet } from './digits-data.js';

export const KERNEL = 5;

/**
 * The net as PyTorch would write it (nn.Sequential, so its state-dict keys
 * are PyTorch's: '0.weight', '2.weight', '5.weight'), NHWC in, logits out.
 * 'same' padding keeps 28 → 14 → 7 through the two pools.
 */
export type DigitsNet = nn.Sequential;

/** The layers of a net with `filters` first-layer filters on `device` (zero weights: loadStateDict sets them). */
function layers(filters: number, device: DeviceName): DigitsNet {
  const conv = (cin: number, cout: number) => new nn.Conv2d(cin, cout, KERNEL, { padding: 'same', activation: 'relu', init: 'zeros', device });
  return new nn.Sequential(
    conv(1, filters), new nn.MaxPool2d(2),
    conv(filters, 2 * filters), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(flatFeatures(filters), CLASSES, { init: 'zeros', device }));
}

/** The first convolution's filters [5, 5, 1, F] (HWIO). */
export const firstFilters = (net: DigitsNet): Tensor => (net.at(0) as nn.Conv2d).weight;

/** Features entering the dense layer: two 2×2 pools take 28 to 7. */
export const flatFeatures = (filters: number) => (SIDE / 4) * (SIDE / 4) * 2 * filters;

/** The weights as host arrays by state-dict key (lepton's layouts: HWIO filters, [in, out] dense). */
export type HostWeights = Record<string, Float32Array>;

/**
 * Seeded initial weights: He normal (std √(2 / fan-in)) for the ReLU
 * convolutions; for the dense output layer PyTorch's nn.Linear default,
 * uniform in ±1/√fan-in (Xavier's wider range starts the loss near 6 instead
 * of ln 10 ≈ 2.3); biases 0.
 */
export function initWeights(filters: number, seed: number): HostWeights {
  const g = new Generator(seed);
  const he = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => g.normal(0, Math.sqrt(2 / fanIn)));
  const F = filters, flat = flatFeatures(F), a = 1 / Math.sqrt(flat);
  return {
    '0.weight': he(KERNEL * KERNEL * F, KERNEL * KERNEL),
    '0.bias': new Float32Array(F),
    '2.weight': he(KERNEL * KERNEL * F * 2 * F, KERNEL * KERNEL * F),
    '2.bias': new Float32Array(2 * F),
    '5.weight': Float32Array.from({ length: flat * CLASSES }, () => g.uniform(-a, a)),
    '5.bias': new Float32Array(CLASSES),
  };
}

export function makeNet(filters: number, device: DeviceName, weights: HostWeights): DigitsNet {
  const net = layers(filters, device);
  net.loadStateDict(weights);
  return net;
}

/** The weights read back (all reads in flight together). */
export async function snapshot(net: nn.Module): Promise<HostWeights> {
  const sd = net.stateDict();
  try {
    const keys = Object.keys(sd);
    const values = await Promise.all(keys.map((k) => sd[k].data()));
    return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}

/** Multiply-add FLOPs of one training step (forward, input and weight gradients; 2 per multiply-add). */
export function stepFlops(filters: number, batch: number): number {
  const F = filters, K2 = KERNEL * KERNEL;
  const conv1 = SIDE * SIDE * F * K2; // Cin = 1
  const conv2 = (SIDE / 2) * (SIDE / 2) * 2 * F * F * K2;
  const fc = flatFeatures(F) * CLASSES;
  // Forward, weight gradient and input gradient each; conv1 has no input gradient (the images are not parameters).
  return 2 * batch * (2 * conv1 + 3 * conv2 + 3 * fc);
}

export interface DigitsConfig { lr: number; batch: number }

/** Adam on seeded batches: each epoch a new permutation of the training set from the seed. */
export class DigitsTrainer {
  private opt: optim.Adam;
  private order: Int32Array;
  private pos = 0;
  private readonly rng: Generator;
  steps = 0;
  get epochs(): number { return (this.steps * this.cfg.batch) / this.data.n; }

  constructor(public net: DigitsNet, readonly data: DigitSet, private cfg: DigitsConfig, seed: number) {
    this.opt = new optim.Adam(net.parameters(), { lr: cfg.lr });
    this.rng = new Generator(seed ^ 0x5bd1e995);
    this.order = this.rng.randperm(data.n);
  }

  get batch(): number { return this.cfg.batch; }

  configure(cfg: DigitsConfig): void {
    this.cfg = cfg;
    this.opt.lr = cfg.lr;
  }

  /** Continues on the same weights on another device; Adam's moments start afresh there. */
  rebind(net: DigitsNet): void {
    try { this.opt.dispose(); } catch { /* state on a lost device went with it */ }
    this.net = net;
    this.opt = new optim.Adam(net.parameters(), { lr: this.cfg.lr });
  }

  private nextBatch(): { x: Float32Array; y: Int32Array } {
    const B = this.cfg.batch, x = new Float32Array(B * PIXELS), y = new Int32Array(B);
    for (let i = 0; i < B; i++) {
      if (this.pos >= this.order.length) { this.rng.shuffle(this.order); this.pos = 0; }
      const k = this.order[this.pos++];
      x.set(this.data.x.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
      y[i] = this.data.labels[k];
    }
    return { x, y };
  }

  /**
   * `k` steps; resolves to the mean of their losses (summed on the device,
   * one readback: the end of the timed region) and the last batch's accuracy.
   */
  async run(k: number): Promise<{ loss: number; acc: number }> {
    const dev = this.net.device!;
    let total: Tensor | null = null, logits: Tensor | null = null, labels: Int32Array | null = null;
    for (let i = 0; i < k; i++) {
      const { x, y } = this.nextBatch();
      const kept = scope(() => {
        const out = this.net.forward(tensor(x, [y.length, SIDE, SIDE, 1], { device: dev }));
        const loss = crossEntropy(out, y);
        this.opt.zeroGrad();
        loss.backward();
        this.opt.step();
        return { sum: total ? total.add(loss.detach()) : loss.detach(), out: out.detach() };
      });
      total?.dispose();
      logits?.dispose();
      total = kept.sum;
      logits = kept.out;
      labels = y;
      this.steps++;
    }
    if (!total || !logits || !labels) return { loss: NaN, acc: NaN };
    try {
      const [sum, out] = await Promise.all([total.item(), logits.data()]);
      const pred = argmaxRows(out, CLASSES);
      return { loss: sum / k, acc: pred.reduce((n, p, i) => n + (p === labels![i] ? 1 : 0), 0) / labels.length };
    } finally {
      total.dispose();
      logits.dispose();
    }
  }

  dispose(): void { this.opt.dispose(); }
}

export function argmaxRows(v: Float32Array, cols: number): Int32Array {
  const out = new Int32Array(v.length / cols);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (v[r * cols + c] > v[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Logits of rows [from, to) of a set, one forward under noGrad, read back. */
export async function logitsOf(net: DigitsNet, set: DigitSet, from: number, to: number): Promise<Float32Array> {
  const out = noGrad(() => scope(() => net.forward(tensor(set.x.subarray(from * PIXELS, to * PIXELS), [to - from, SIDE, SIDE, 1], { device: net.device! }))));
  try { return await out.data(); } finally { out.dispose(); }
}

/** The ten class probabilities of one normalised image [784] (softmax on the device). */
export async function predict(net: DigitsNet, image: Float32Array): Promise<Float32Array> {
  const p = noGrad(() => scope(() => softmax(net.forward(tensor(image, [1, SIDE, SIDE, 1], { device: net.device! })), -1)));
  try { return await p.data(); } finally { p.dispose(); }
}

/** Softmax cross-entropy of one row of logits in float64, and its probabilities. */
export function rowLoss(logits: Float32Array, row: number, label: number): { loss: number; probs: Float64Array } {
  const z = logits.subarray(row * CLASSES, (row + 1) * CLASSES);
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let s = 0;
  const probs = new Float64Array(CLASSES);
  for (let c = 0; c < CLASSES; c++) { probs[c] = Math.exp(z[c] - m); s += probs[c]; }
  for (let c = 0; c < CLASSES; c++) probs[c] /= s;
  return { loss: Math.log(s) + m - z[label], probs };
}
