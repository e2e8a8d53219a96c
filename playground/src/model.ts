// The network and its training, on lepton: the net is lepton's nn.MLP,
// its weights set from host arrays with loadStateDict (so two backends can
// start from the same numbers, and a fall-back resumes from the last weights
// read back). No DOM here.
import {
  crossEntropy, Generator, mse, nn, noGrad, optim, scope, tensor,
  type Activation, type DeviceName, type Tensor,
} from 'lepton';
import { mlpFlops } from '../../measure/flops.js';
import type { Problem } from './data.js';
import type { ActivationName, OptimizerName, RegName } from './state.js';

export interface Arch {
  inputs: number;
  hidden: number[];
  /** 2 logits for classification (softmax cross-entropy), 1 value for regression (MSE). */
  outputs: number;
  activation: ActivationName;
}

/** Host copies of the weights ([in, out] row-major, as lepton stores them) and biases. */
export interface HostWeights { w: Float32Array[]; b: Float32Array[] }

export const outputsFor = (p: Problem) => (p === 'classification' ? 2 : 1);
export const sizesOf = (a: Arch) => [a.inputs, ...a.hidden, a.outputs];
const leptonAct = (a: ActivationName): Activation => (a === 'linear' ? 'none' : a);

/** HostWeights as a lepton state dict: layers.i.weight / layers.i.bias. */
export const stateDictOf = (h: HostWeights) =>
  Object.fromEntries(h.w.flatMap((w, i) => [[`layers.${i}.weight`, w], [`layers.${i}.bias`, h.b[i]]]));

/** The net of an architecture on a device, starting from `weights`. */
export function makeModel(arch: Arch, device: DeviceName, weights: HostWeights): nn.MLP {
  // 'zeros' skips drawing initial weights that loadStateDict replaces at once.
  const model = new nn.MLP(sizesOf(arch), { activation: leptonAct(arch.activation), init: 'zeros', device });
  model.loadStateDict(stateDictOf(weights));
  return model;
}

/**
 * Seeded initial weights, as lepton's nn.MLP draws them from `seed` (He
 * normal before ReLU/GELU, Xavier uniform otherwise, biases 0), read back to
 * the host so that every backend can start from the very same numbers. Uses
 * the WASM backend (always started by the page), which reads synchronously.
 */
export function initWeights(arch: Arch, seed: number): HostWeights {
  const m = new nn.MLP(sizesOf(arch), { activation: leptonAct(arch.activation), seed, device: 'wasm' });
  try {
    return { w: m.layers.map((l) => l.weight.dataSync()), b: m.layers.map((l) => l.bias!.dataSync()) };
  } finally {
    m.dispose();
  }
}

/** The weights as host arrays (one readback per tensor, all in flight together). */
export async function snapshot(model: nn.MLP): Promise<HostWeights> {
  const [w, b] = await Promise.all([Promise.all(model.layers.map((l) => l.weight.data())), Promise.all(model.layers.map((l) => l.bias!.data()))]);
  return { w, b };
}

/** Steps for the next chunk so it takes about `budgetMs`, from the last chunk (k steps in ms). */
export const nextChunk = (k: number, ms: number, budgetMs: number) =>
  Math.max(1, Math.min(2000, Math.round(budgetMs / Math.max(ms / k, 1e-3))));

/** Matrix-product FLOPs of one training step (see measure/flops.ts). */
export const stepFlops = (arch: Arch, batch: number): number => mlpFlops(sizesOf(arch), batch);

export interface TrainConfig {
  problem: Problem;
  lr: number;
  optimizer: OptimizerName;
  reg: RegName;
  regRate: number;
  batch: number;
}

/** Momentum for the 'momentum' optimizer (SGD with heavy-ball momentum). */
const MOMENTUM = 0.9;

function makeOptimizer(params: Tensor[], cfg: TrainConfig): optim.SGD | optim.Adam {
  if (cfg.optimizer === 'adam') return new optim.Adam(params, { lr: cfg.lr });
  return new optim.SGD(params, { lr: cfg.lr, momentum: cfg.optimizer === 'momentum' ? MOMENTUM : 0 });
}

/** Training set in feature space: rows [n, F] and targets. */
export interface FeatureSet { x: Float32Array; label: Float32Array; n: number; f: number }

/**
 * Mini-batch training of a model on a FeatureSet. Each step draws the next
 * `batch` rows of a seeded shuffle (reshuffled every epoch), so two trainers
 * with the same seed see the same batches in the same order.
 */
export class Trainer {
  private opt: optim.SGD | optim.Adam;
  private order: Int32Array;
  private pos = 0;
  private readonly rng: Generator;
  steps = 0;
  /** Examples seen / training-set size. */
  get epochs(): number { return (this.steps * this.batchSize) / this.data.n; }
  get batchSize(): number { return Math.min(this.cfg.batch, this.data.n); }

  constructor(public model: nn.MLP, readonly data: FeatureSet, private cfg: TrainConfig, seed: number) {
    this.opt = makeOptimizer(model.parameters(), cfg);
    this.rng = new Generator(seed ^ 0x2545f491);
    this.order = this.rng.randperm(data.n);
  }

  private shuffle() {
    this.rng.shuffle(this.order);
    this.pos = 0;
  }

  /** The device the model lives on. */
  get device(): DeviceName { return this.model.device!; }

  /** Changes hyper-parameters in place; a new optimizer kind starts with fresh optimizer state. */
  configure(cfg: TrainConfig): void {
    const kindChanged = cfg.optimizer !== this.cfg.optimizer;
    this.cfg = cfg;
    if (kindChanged) { this.opt.dispose(); this.opt = makeOptimizer(this.model.parameters(), cfg); }
    else this.opt.lr = cfg.lr;
  }

  /**
   * Continues on another model (the same weights on another device): the
   * batch order and step count carry over; optimizer state (momentum, Adam
   * moments) starts afresh, as it lives on the old device.
   */
  rebind(model: nn.MLP): void {
    try { this.opt.dispose(); } catch { /* state on a lost device: gone with it */ }
    this.model = model;
    this.opt = makeOptimizer(model.parameters(), this.cfg);
  }

  private nextBatch(): { x: Float32Array; y: Float32Array; n: number } {
    const B = this.batchSize, F = this.data.f;
    const x = new Float32Array(B * F), y = new Float32Array(B);
    for (let i = 0; i < B; i++) {
      if (this.pos >= this.order.length) this.shuffle();
      const k = this.order[this.pos++];
      x.set(this.data.x.subarray(k * F, (k + 1) * F), i * F);
      y[i] = this.data.label[k];
    }
    return { x, y, n: B };
  }

  /**
   * One step: forward, data loss (+ L1: rate·Σ|w|, or L2: ½·rate·Σw² over the
   * weights, not the biases), backward, optimizer update. Returns the data
   * loss tensor (without the penalty); the caller disposes it. Only queues
   * work: nothing here waits for the device.
   */
  step(): Tensor {
    const { x, y, n } = this.nextBatch(), dev = this.device, cfg = this.cfg;
    const loss = scope(() => {
      const out = this.model.forward(tensor(x, [n, this.data.f], { device: dev }));
      const dataLoss = cfg.problem === 'classification'
        ? crossEntropy(out, Int32Array.from(y))
        : mse(out, tensor(y, [n, 1], { device: dev }));
      let total = dataLoss;
      if (cfg.reg !== 'none' && cfg.regRate > 0) {
        // Σ over layers first, one scale at the end: fewer kernels per step.
        let pen: Tensor | null = null;
        for (const { weight: w } of this.model.layers) {
          const part = (cfg.reg === 'l2' ? w.square() : w.abs()).sum();
          pen = pen ? pen.add(part) : part;
        }
        total = total.add(pen!.mul(cfg.reg === 'l2' ? 0.5 * cfg.regRate : cfg.regRate));
      }
      this.opt.zeroGrad();
      total.backward();
      this.opt.step();
      return dataLoss;
    });
    this.steps++;
    return loss;
  }

  /** `k` steps; returns the last one's data loss after reading it back (the end of the timed region). */
  async run(k: number): Promise<number> {
    let last: Tensor | null = null;
    for (let i = 0; i < k; i++) {
      last?.dispose();
      last = this.step();
    }
    if (!last) return NaN;
    try {
      return await last.item();
    } finally {
      last.dispose();
    }
  }

  dispose(): void {
    this.opt.dispose();
  }
}

/** What one evaluation forward gives: losses, the grid's output and (small nets) hidden activations. */
export interface Evaluation {
  trainLoss: number;
  testLoss: number;
  /** Classification only: share of points on the right side of the boundary. */
  trainAcc: number;
  testAcc: number;
  /** Per grid point: p(class 1) − p(class 0) for classification, the prediction for regression. */
  grid: Float32Array;
  /** Per hidden layer, row-major [gridPoints, width] activations (only when asked). */
  hidden: Float32Array[] | null;
}

/** The value the heatmap shows for one output row: p1 − p0 = tanh((z1 − z0)/2), or the regression output. */
function display(out: Float32Array, i: number, outputs: number): number {
  return outputs === 2 ? Math.tanh((out[2 * i + 1] - out[2 * i]) / 2) : out[i];
}

/** Loss and accuracy of rows [from, from+n) of the output against `label`, in float64 on the host. */
function lossOf(out: Float32Array, from: number, label: Float32Array, outputs: number): { loss: number; acc: number } {
  let loss = 0, right = 0;
  const n = label.length;
  for (let i = 0; i < n; i++) {
    const r = from + i;
    if (outputs === 2) {
      const z0 = out[2 * r], z1 = out[2 * r + 1], m = Math.max(z0, z1);
      const lse = m + Math.log(Math.exp(z0 - m) + Math.exp(z1 - m));
      loss += lse - (label[i] === 1 ? z1 : z0);
      if ((z1 > z0 ? 1 : 0) === label[i]) right++;
    } else {
      loss += (out[r] - label[i]) ** 2;
    }
  }
  return { loss: n ? loss / n : NaN, acc: n ? right / n : NaN };
}

/**
 * One batched forward of [train; test; grid] rows through lepton, read back
 * once (plus once per hidden layer when `withHidden`): both losses, and the
 * heatmap values. `rows` is that concatenation, prepared by the caller.
 */
export async function evaluate(model: nn.MLP, rows: Float32Array, f: number, trainLabel: Float32Array, testLabel: Float32Array, withHidden: boolean): Promise<Evaluation> {
  const total = rows.length / f, nTr = trainLabel.length, nTe = testLabel.length, nGrid = total - nTr - nTe;
  const widths = model.sizes.slice(1, -1), O = model.sizes[model.sizes.length - 1];
  const kept = noGrad(() => scope(() => {
    const x = tensor(rows, [total, f], { device: model.device! });
    if (!withHidden) return { out: model.forward(x), hidden: [] as Tensor[] };
    // Layer by layer, keeping each hidden activation for the neuron thumbnails.
    const hidden: Tensor[] = [];
    let h = x;
    for (const layer of model.layers) {
      h = layer.forward(h);
      hidden.push(h);
    }
    return { out: hidden.pop()!, hidden };
  }));
  let out: Float32Array, hiddenAll: Float32Array[];
  try {
    [out, hiddenAll] = await Promise.all([kept.out.data(), Promise.all(kept.hidden.map((h) => h.data()))]);
  } finally {
    kept.out.dispose();
    for (const h of kept.hidden) h.dispose();
  }
  const tr = lossOf(out, 0, trainLabel, O), te = lossOf(out, nTr, testLabel, O);
  const grid = new Float32Array(nGrid);
  for (let i = 0; i < nGrid; i++) grid[i] = display(out, nTr + nTe + i, O);
  const hidden = withHidden
    ? hiddenAll.map((h, l) => h.slice((nTr + nTe) * widths[l], total * widths[l]))
    : null;
  return { trainLoss: tr.loss, testLoss: te.loss, trainAcc: tr.acc, testAcc: te.acc, grid, hidden };
}
