// The Digits tab's training session: the packed digits, the CNN built from
// the settings, a requestAnimationFrame-paced training loop, the held-out
// evaluation in slices between training chunks, and the drawing pad's
// predictions, all through one queue so they never interleave. No DOM: the
// tab subscribes with onEvent().
import { saveSafetensors } from 'lepton';
import type { App } from './app.js';
import type { LossPoint } from './charts.js';
import { CLASSES, digitSet, loadDigits, normalise, pixelStats, splitIndices, type Digits, type DigitSet, type Norm } from './digits-data.js';
import {
  argmaxRows, DigitsTrainer, firstFilters, initWeights, logitsOf, makeNet, predict, rowLoss, snapshot, stepFlops,
  type DigitsConfig, type DigitsNet, type HostWeights,
} from './digits-model.js';
import { deviceOf, resolve, useThreads } from './devices.js';
import { nextChunk } from './model.js';
import { serializeSettings, type RaceBackend, type Settings } from './state.js';
import { TrainingLoop } from './training-loop.js';

/** Training time per animation frame; the steps per frame adapt to it. */
const BUDGET_MS = 30;
/** Time per held-out evaluation slice; its rows adapt to it (WebGPU on a CPU adapter is slow). */
const EVAL_BUDGET_MS = 40;
/** Misclassified held-out examples kept for the page. */
const MISTAKES = 12;

export type DigitsEvent = 'data' | 'net' | 'stats' | 'eval' | 'error';

export interface Mistake { index: number; label: number; predicted: number; confidence: number }

export interface DigitsStats {
  steps: number; epochs: number; stepsPerSec: number; imagesPerSec: number; gflops: number;
  /** Mean training loss of the last chunk, and the last batch's accuracy. */
  trainLoss: number; trainAcc: number;
  /**
   * The last complete pass over the 2,000 held-out digits, and the steps it
   * spans: started after step `evaluatedFrom`, done after `evaluatedAt` (the
   * same step when paused; a few steps apart while training runs on).
   */
  heldOutLoss: number; heldOutAcc: number; evaluatedFrom: number; evaluatedAt: number;
  backend: RaceBackend; playing: boolean; batch: number; ready: boolean;
}

const NET_KEYS: (keyof Settings)[] = ['digitsFilters', 'digitsSeed'];

export const configOf = (s: Settings): DigitsConfig => ({ lr: s.digitsLr, batch: s.digitsBatch });

export class DigitsSession extends TrainingLoop<DigitsEvent> {
  digits: Digits | null = null;
  train: DigitSet | null = null;
  heldOut: DigitSet | null = null;
  /** The training pixels' mean and standard deviation: the drawings are normalised with them too. */
  norm: Norm | null = null;
  net: DigitsNet | null = null;
  trainer: DigitsTrainer | null = null;
  /** Train points (test NaN) and held-out points (train NaN), for the curves. */
  lossHistory: LossPoint[] = [];
  accHistory: LossPoint[] = [];
  mistakes: Mistake[] = [];
  /** First-layer filters, read back after each held-out pass: [5, 5, 1, F] (HWIO). */
  filters: Float32Array | null = null;
  readonly ready: Promise<void>;
  private evalRows = 50;
  private pass: { at: number; row: number; loss: number; right: number; mistakes: Mistake[] } | null = null;
  private lastPassAt = -1;
  private last = { loss: NaN, acc: NaN, heldOutLoss: NaN, heldOutAcc: NaN, evaluatedFrom: -1, evaluatedAt: -1 };

  constructor(app: App) {
    super(app, 'Digits', 'digits');
    this.ready = this.exclusive(async () => {
      this.digits = await loadDigits();
      const split = splitIndices(this.digits.count);
      this.norm = pixelStats(this.digits, split.train);
      this.train = digitSet(this.digits, split.train, this.norm);
      this.heldOut = digitSet(this.digits, split.heldOut, this.norm);
      this.emit('data');
      this.rebuild();
    });
    this.ready.catch((e) => { this.app.messages.show(`The digits could not be loaded: ${(e as Error).message}`, 'error', 'digits'); this.emit('error'); });
    app.onChange((s, changed) => {
      if (NET_KEYS.some((k) => changed.has(k))) void this.exclusive(() => this.rebuild());
      else if (changed.has('digitsLr') || changed.has('digitsBatch')) void this.exclusive(() => { this.trainer?.configure(configOf(s)); this.emit('stats'); });
      if (changed.has('backend')) void this.exclusive(() => this.switchBackend());
    });
  }

  private rebuild(weights?: HostWeights): void {
    if (!this.train) return;
    this.trainer?.dispose();
    this.net?.dispose();
    const s = this.app.settings;
    this.net = makeNet(s.digitsFilters, deviceOf(this.backend), weights ?? initWeights(s.digitsFilters, s.digitsSeed));
    this.trainer = new DigitsTrainer(this.net, this.train, configOf(s), s.digitsSeed);
    this.lossHistory = [];
    this.accHistory = [];
    this.mistakes = [];
    this.filters = null;
    this.pass = null;
    this.lastPassAt = -1;
    this.last = { loss: NaN, acc: NaN, heldOutLoss: NaN, heldOutAcc: NaN, evaluatedFrom: -1, evaluatedAt: -1 };
    this.rate = [];
    this.k = 1;
    this.emit('net');
    void this.readFilters();
  }

  private async switchBackend(): Promise<void> {
    const r = resolve(this.app.settings.backend);
    if (r.backend === this.backend || !this.net) { this.backend = r.backend; return; }
    const weights = await snapshot(this.net);
    const old = this.net;
    this.backend = r.backend;
    this.net = makeNet(this.app.settings.digitsFilters, deviceOf(this.backend), weights);
    this.trainer!.rebind(this.net);
    try { old.dispose(); } catch { /* a lost device cannot free */ }
    this.rate = [];
    this.k = 1;
    this.evalRows = 50;
    this.emit('stats');
  }

  protected trainable(): boolean { return !!this.net; }

  protected async turn(): Promise<void> {
    await this.chunk(this.k);
    await this.evalSlice();
  }

  private async chunk(k: number): Promise<void> {
    useThreads(this.backend);
    const t0 = performance.now();
    const r = await this.trainer!.run(k);
    const ms = performance.now() - t0;
    this.timed(k, ms, t0);
    this.k = nextChunk(k, ms, BUDGET_MS);
    this.last.loss = r.loss;
    this.last.acc = r.acc;
    const step = this.trainer!.steps;
    this.lossHistory.push({ step, train: r.loss, test: NaN });
    this.accHistory.push({ step, train: r.acc, test: NaN });
    thin(this.lossHistory);
    thin(this.accHistory);
    if (!Number.isFinite(r.loss)) {
      this.pause();
      this.app.messages.show('Digits: the loss is no longer a number (training diverged): lower the learning rate, then press Reset.', 'warning', 'digits');
    }
    this.emit('stats');
  }

  /**
   * One slice of the held-out pass (rows adapted to EVAL_BUDGET_MS). A pass
   * starts when the weights have changed since the last one; it completes
   * over several frames while training goes on (its loss mixes a few
   * steps' weights, as running evaluations do).
   */
  private async evalSlice(): Promise<void> {
    const set = this.heldOut!, step = this.trainer!.steps;
    if (!this.pass) {
      if (step === this.lastPassAt) return;
      this.pass = { at: step, row: 0, loss: 0, right: 0, mistakes: [] };
    }
    const p = this.pass, to = Math.min(set.n, p.row + this.evalRows);
    useThreads(this.backend);
    const t0 = performance.now();
    const logits = await logitsOf(this.net!, set, p.row, to);
    const ms = performance.now() - t0;
    this.evalRows = Math.max(10, Math.min(set.n, Math.round((this.evalRows * EVAL_BUDGET_MS) / Math.max(ms, 1))));
    const pred = argmaxRows(logits, CLASSES);
    for (let i = 0; i < to - p.row; i++) {
      const label = set.labels[p.row + i], r = rowLoss(logits, i, label);
      p.loss += r.loss;
      if (pred[i] === label) p.right++;
      else p.mistakes.push({ index: p.row + i, label, predicted: pred[i], confidence: r.probs[pred[i]] });
    }
    p.row = to;
    if (p.row < set.n) return;
    this.pass = null;
    this.lastPassAt = p.at;
    this.last.heldOutLoss = p.loss / set.n;
    this.last.heldOutAcc = p.right / set.n;
    this.last.evaluatedFrom = p.at;
    this.last.evaluatedAt = step;
    // The most confident mistakes are the instructive ones.
    this.mistakes = p.mistakes.sort((a, b) => b.confidence - a.confidence).slice(0, MISTAKES);
    this.lossHistory.push({ step, train: NaN, test: this.last.heldOutLoss });
    this.accHistory.push({ step, train: NaN, test: this.last.heldOutAcc });
    await this.readFilters(false);
    this.emit('eval');
  }

  private async readFilters(emit = true): Promise<void> {
    const net = this.net;
    if (!net) return;
    const f = await firstFilters(net).data();
    if (net !== this.net) return;
    this.filters = f;
    if (emit) this.emit('eval');
  }

  /** `n` training steps in chunks (paused), for tests and the Step button; no evaluation. */
  runSteps(n: number): Promise<DigitsStats> {
    this.pause();
    return this.exclusive(async () => {
      if (!this.trainer) return this.stats();
      const target = this.trainer.steps + n;
      try {
        while (this.trainer.steps < target) await this.chunk(Math.min(this.k, target - this.trainer.steps));
        await this.readFilters();
      } catch (e) {
        this.failed(e);
      }
      return this.stats();
    });
  }

  /** Completes a held-out pass on the current weights (paused), for tests. */
  evaluate(): Promise<DigitsStats> {
    this.pause();
    return this.exclusive(async () => {
      if (!this.trainer) return this.stats();
      this.pass = null;
      this.lastPassAt = -1;
      do await this.evalSlice(); while (this.pass);
      return this.stats();
    });
  }

  /** The ten class probabilities of a 28×28 image in [0, 1] (normalised here), after queued work. */
  predict(image: Float32Array): Promise<Float32Array> {
    return this.exclusive(async () => {
      if (!this.net || !this.norm) throw new Error('the digits are still loading');
      useThreads(this.backend);
      const norm = this.norm;
      return predict(this.net, image.map((v) => normalise(v, norm)));
    });
  }

  /**
   * The net's weights as a safetensors file (lepton's saveSafetensors:
   * PyTorch's layouts, keys '0.weight' … as its nn.Sequential names them),
   * with the page's settings in the metadata ('playground': the URL state).
   */
  saveWeights(): Promise<Uint8Array> {
    return this.exclusive(() => {
      if (!this.net) throw new Error('the digits are still loading');
      return saveSafetensors(this.net, { metadata: { playground: serializeSettings(this.app.settings) } });
    });
  }

  /** New initial weights from the next seed (the URL names it), training from step 0. */
  reset(): void {
    this.pause();
    this.app.update({ digitsSeed: (this.app.settings.digitsSeed % 99991) + 1 });
  }

  stats(): DigitsStats {
    const sps = this.stepsPerSec(), batch = this.trainer?.batch ?? this.app.settings.digitsBatch;
    return {
      steps: this.trainer?.steps ?? 0, epochs: this.trainer?.epochs ?? 0, stepsPerSec: sps, imagesPerSec: sps * batch,
      gflops: (sps * stepFlops(this.app.settings.digitsFilters, batch)) / 1e9,
      trainLoss: this.last.loss, trainAcc: this.last.acc, heldOutLoss: this.last.heldOutLoss, heldOutAcc: this.last.heldOutAcc,
      evaluatedFrom: this.last.evaluatedFrom, evaluatedAt: this.last.evaluatedAt, backend: this.backend, playing: this.playing, batch, ready: !!this.net,
    };
  }
}

/** Keeps a curve light: past 600 points, every other old point goes. */
function thin(h: LossPoint[]): void {
  if (h.length > 600) {
    const kept = h.filter((_, i) => i % 2 === 0 || i === h.length - 1);
    h.splice(0, h.length, ...kept);
  }
}
