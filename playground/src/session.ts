// The playground's training session: data, features and net built from the
// settings, a requestAnimationFrame-paced training loop, evaluation for the
// heatmap and losses, live speed, and what the page says when lepton recovers
// from a lost GPU device. No DOM: views subscribe with onEvent().
import { loadSafetensors, readSafetensors, saveSafetensors, type nn, type RecoveryEvent } from 'lepton';
import type { App } from './app.js';
import { EXTENT, generate, split, DEFAULT_POINTS, type Points } from './data.js';
import { deviceOf, LABELS, onDeviceRecovered, resolve, useThreads } from './devices.js';
import { nextFrame } from './dom.js';
import { featureMatrix, gridPoints } from './features.js';
import {
  evaluate, initWeights, makeModel, nextChunk, outputsFor, snapshot, stepFlops, Trainer,
  type Arch, type Evaluation, type FeatureSet, type HostWeights, type TrainConfig,
} from './model.js';
import { parseSettings, serializeSettings, showsThumbnails, type RaceBackend, type Settings } from './state.js';
import type { LossPoint } from './charts.js';

/** Heatmap grid: RES × RES points over [-EXTENT, EXTENT]², one batched forward per redraw. */
export const RES = 100;
/** Time spent training per animation frame; the steps per frame adapt to it. */
const BUDGET_MS = 30;

export type SessionEvent = 'data' | 'net' | 'stats' | 'eval' | 'weights' | 'backend' | 'view';

export interface Stats {
  steps: number;
  epochs: number;
  /** Training steps per second over the last second of training (chunk start to loss readback). */
  stepsPerSec: number;
  gflops: number;
  flopsPerStep: number;
  trainLoss: number;
  testLoss: number;
  trainAcc: number;
  testAcc: number;
  batchLoss: number;
  backend: RaceBackend;
  playing: boolean;
  batch: number;
}

const DATA_KEYS: (keyof Settings)[] = ['problem', 'dataset', 'noise', 'trainPct', 'dataSeed'];
const NET_KEYS: (keyof Settings)[] = ['features', 'hidden', 'activation', 'initSeed'];
const CONFIG_KEYS: (keyof Settings)[] = ['lr', 'optimizer', 'reg', 'regRate', 'batch'];

export const trainConfig = (s: Settings): TrainConfig => ({
  problem: s.problem, lr: s.lr, optimizer: s.optimizer, reg: s.reg, regRate: s.regRate, batch: s.batch,
});
export const archOf = (s: Settings): Arch => ({ inputs: s.features.length, hidden: [...s.hidden], outputs: outputsFor(s.problem), activation: s.activation });

/** Data of one setup: the split points, their features, and the rows of one evaluation forward. */
export interface Prepared {
  train: Points;
  test: Points;
  trainSet: FeatureSet;
  /** [train; test; grid] feature rows. */
  rows: Float32Array;
}

export function prepare(s: Settings): Prepared {
  const all = generate(s.dataset, DEFAULT_POINTS, s.noise / 100, s.dataSeed);
  const { train, test } = split(all, s.trainPct / 100, s.dataSeed);
  const F = s.features.length;
  const trX = featureMatrix(train.xy, s.features), teX = featureMatrix(test.xy, s.features);
  const grid = featureMatrix(gridPoints(RES, EXTENT), s.features);
  const rows = new Float32Array(trX.length + teX.length + grid.length);
  rows.set(trX);
  rows.set(teX, trX.length);
  rows.set(grid, trX.length + teX.length);
  return { train, test, trainSet: { x: trX, label: train.label, n: train.n, f: F }, rows };
}

export class Session {
  data!: Prepared;
  arch!: Arch;
  net: nn.MLP | null = null;
  trainer: Trainer | null = null;
  backend: RaceBackend;
  history: LossPoint[] = [];
  lastEval: Evaluation | null = null;
  weights: HostWeights | null = null;
  playing = false;
  private k = 1;
  private rate: { steps: number; ms: number; at: number }[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private loopId = 0;
  private lastEvalAt = 0;
  private evalMs = 0;
  private lastSnapshotAt = 0;
  private batchLoss = NaN;
  private readonly listeners = new Set<(e: SessionEvent) => void>();

  constructor(private readonly app: App) {
    const r = resolve(app.settings.backend);
    this.backend = r.backend;
    if (r.note) app.messages.show(r.note, 'warning', 'backend');
    this.rebuildData();
    this.rebuildNet();
    onDeviceRecovered((e) => this.recovered(e));
    app.onChange((s, changed) => {
      const has = (keys: (keyof Settings)[]) => keys.some((k) => changed.has(k));
      if (has(DATA_KEYS) || has(NET_KEYS)) void this.exclusive(async () => { this.rebuildData(); this.rebuildNet(); await this.evaluateNow(true); });
      else if (has(CONFIG_KEYS)) void this.exclusive(async () => { this.trainer?.configure(trainConfig(s)); this.emit('stats'); });
      if (changed.has('backend')) void this.exclusive(() => this.switchBackend());
      if (changed.has('showTest') || changed.has('discretize')) this.emit('view');
    });
  }

  onEvent(l: (e: SessionEvent) => void): void { this.listeners.add(l); }
  private emit(e: SessionEvent) { for (const l of this.listeners) l(e); }

  /** Runs `fn` after everything queued before it: settings changes never interleave with a training chunk. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private rebuildData() {
    this.data = prepare(this.app.settings);
    this.emit('data');
  }

  private rebuildNet() {
    this.trainer?.dispose();
    this.net?.dispose();
    const s = this.app.settings;
    this.arch = archOf(s);
    this.weights = initWeights(this.arch, s.initSeed);
    this.net = makeModel(this.arch, deviceOf(this.backend), this.weights);
    this.trainer = new Trainer(this.net, this.data.trainSet, trainConfig(s), s.initSeed);
    this.history = [];
    this.lastEval = null;
    this.rate = [];
    this.k = 1;
    this.batchLoss = NaN;
    this.emit('net');
  }

  /** Copies the current weights to the chosen backend's device (read back, uploaded) and continues there. */
  private async switchBackend(): Promise<void> {
    const r = resolve(this.app.settings.backend);
    if (r.note) this.app.messages.show(r.note, 'warning', 'backend'); else this.app.messages.clear('backend');
    if (r.backend === this.backend) return;
    const weights = this.net ? await snapshot(this.net).catch(() => this.weights) : this.weights;
    this.moveTo(r.backend, weights ?? initWeights(this.arch, this.app.settings.initSeed));
    await this.evaluateNow(true).catch((e) => this.failed(e));
  }

  private moveTo(backend: RaceBackend, weights: HostWeights) {
    const old = this.net;
    this.backend = backend;
    this.net = makeModel(this.arch, deviceOf(backend), weights);
    this.trainer!.rebind(this.net);
    try { old?.dispose(); } catch { /* a lost device cannot free; its memory went with it */ }
    this.rate = [];
    this.k = 1;
    this.emit('backend');
  }

  /**
   * lepton recovered from a lost GPU device: the net, its optimizer state and
   * every step are intact, on a new device or moved to WASM (the tensors went
   * there by themselves; the page follows them for the speed and the label).
   */
  private recovered(e: RecoveryEvent): void {
    const onGpu = this.backend === 'webgpu';
    if (onGpu && e.device !== 'webgpu') {
      this.backend = resolve('webgpu').backend; // WebGPU is marked unavailable now
      this.rate = [];
      this.k = 1;
      this.emit('backend');
    }
    const what = e.device === 'webgpu' ? 'lepton re-created it' : `no new one could be had, so lepton moved ${onGpu ? 'the network' : 'its tensors'} to ${onGpu ? LABELS[this.backend] : 'WASM'}`;
    this.app.messages.show(`The GPU device was lost (${e.reason}); ${what} and replayed the work since its last checkpoint `
      + `(${e.replayedCalls} kernel calls in ${Math.round(e.ms)} ms). Training continues with no lost step.`, 'warning', 'backend');
  }

  /** An error while training or evaluating (device losses never get here: lepton recovers from them): pause and say it. */
  private failed(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.pause();
    this.app.messages.show(`Training stopped: ${msg}`, 'error', 'training');
  }

  play(): void {
    if (this.playing) return;
    this.playing = true;
    this.app.messages.clear('nan');
    this.emit('stats');
    void this.loop(++this.loopId);
  }

  pause(): void {
    if (!this.playing) return;
    this.playing = false;
    this.emit('stats');
  }

  toggle(): void { if (this.playing) this.pause(); else this.play(); }

  private async loop(id: number) {
    while (this.playing && id === this.loopId) {
      await this.exclusive(async () => {
        if (!this.playing || id !== this.loopId) return;
        try {
          await this.chunk(this.k);
          if (performance.now() - this.lastEvalAt > Math.max(250, 4 * this.evalMs)) await this.evaluateNow(false);
        } catch (e) {
          this.failed(e);
        }
      });
      await nextFrame();
    }
  }

  /** `k` steps, timed from the first queued kernel to the loss readback; adapts the steps per frame. */
  private async chunk(k: number): Promise<void> {
    useThreads(this.backend);
    const t0 = performance.now();
    const loss = await this.trainer!.run(k);
    const ms = performance.now() - t0;
    this.batchLoss = loss;
    this.rate.push({ steps: k, ms, at: t0 });
    const cut = t0 - 1000;
    while (this.rate.length > 1 && this.rate[0].at < cut) this.rate.shift();
    this.k = nextChunk(k, ms, BUDGET_MS);
    if (!Number.isFinite(loss)) {
      this.pause();
      this.app.messages.show('The loss is no longer a number (training diverged): lower the learning rate, then press Reset.', 'warning', 'nan');
    }
    this.emit('stats');
  }

  /** One evaluation forward (+ a weight readback for the network view at most every 400 ms, or when forced). */
  async evaluateNow(force: boolean): Promise<void> {
    if (!this.net) return;
    useThreads(this.backend);
    const t0 = performance.now();
    const d = this.data;
    // Both reads are queued before either is awaited (one round trip on WebGPU).
    const wantWeights = force || performance.now() - this.lastSnapshotAt > 400;
    const [e, weights] = await Promise.all([
      evaluate(this.net, d.rows, d.trainSet.f, d.train.label, d.test.label, showsThumbnails(this.arch.hidden)),
      wantWeights ? snapshot(this.net) : null,
    ]);
    this.evalMs = performance.now() - t0;
    this.lastEvalAt = performance.now();
    this.lastEval = e;
    const step = this.trainer!.steps;
    if (this.history.length && this.history[this.history.length - 1].step === step) this.history.pop();
    this.history.push({ step, train: e.trainLoss, test: e.testLoss });
    // Keep the chart light: halve the resolution of old points past 600.
    if (this.history.length > 600) this.history = this.history.filter((_, i) => i % 2 === 0 || i === this.history.length - 1);
    this.emit('eval');
    if (weights) {
      this.weights = weights;
      this.lastSnapshotAt = performance.now();
      this.emit('weights');
    }
  }

  /** One training step, then a fresh evaluation (the Step button). */
  step(): Promise<void> {
    this.pause();
    return this.exclusive(async () => {
      try { await this.chunk(1); await this.evaluateNow(true); } catch (e) { this.failed(e); }
    });
  }

  /** Runs `n` steps in chunks, then evaluates (for tests and the race of one). */
  runSteps(n: number): Promise<Stats> {
    this.pause();
    return this.exclusive(async () => {
      const target = this.trainer!.steps + n;
      try {
        while (this.trainer!.steps < target) await this.chunk(Math.min(this.k, target - this.trainer!.steps));
        await this.evaluateNow(true);
      } catch (e) {
        this.failed(e);
      }
      return this.stats();
    });
  }

  /** New initial weights (a new weight seed, as the TensorFlow Playground's reset), training from step 0. */
  reset(newSeed = true): void {
    this.pause();
    if (newSeed) this.app.update({ initSeed: (this.app.settings.initSeed % 99991) + 1 });
    else void this.exclusive(async () => { this.rebuildNet(); await this.evaluateNow(true); });
  }

  /**
   * The current network's weights as a safetensors file (PyTorch's names and
   * layouts), with the page's settings in its metadata ('playground': the URL
   * state) so that loading it rebuilds the same architecture.
   */
  saveWeights(): Promise<Uint8Array> {
    return this.exclusive(() => saveSafetensors(this.net!, { metadata: { playground: serializeSettings(this.app.settings) } }));
  }

  /**
   * Loads a weights file (from saveWeights, or any safetensors file with this
   * network's names and shapes): the architecture its metadata names first,
   * then the weights, all or nothing; training restarts from them. Rejects
   * with lepton's error (the key and both shapes) on a mismatch.
   */
  async loadWeights(source: Uint8Array | Blob): Promise<void> {
    this.pause();
    const bytes = source instanceof Blob ? new Uint8Array(await source.arrayBuffer()) : source;
    const file = await readSafetensors(bytes); // a broken file fails here, before anything changes
    const saved = file.metadata?.playground;
    if (saved) {
      const s = parseSettings(saved).value;
      const patch: Partial<Settings> = { features: s.features, hidden: s.hidden, activation: s.activation };
      if (s.problem !== this.app.settings.problem) Object.assign(patch, { problem: s.problem, dataset: s.dataset });
      this.app.update(patch); // queues the rebuild the load below waits for
    }
    return this.exclusive(async () => {
      await loadSafetensors(this.net!, bytes);
      this.trainer?.dispose();
      this.trainer = new Trainer(this.net!, this.data.trainSet, trainConfig(this.app.settings), this.app.settings.initSeed);
      this.history = [];
      this.lastEval = null;
      this.rate = [];
      this.k = 1;
      this.batchLoss = NaN;
      this.emit('net');
      await this.evaluateNow(true);
    });
  }

  stats(): Stats {
    let steps = 0, ms = 0;
    for (const r of this.rate) { steps += r.steps; ms += r.ms; }
    const sps = ms > 0 ? (1000 * steps) / ms : 0;
    const batch = this.trainer?.batchSize ?? 0;
    const flops = stepFlops(this.arch, batch);
    const e = this.lastEval;
    return {
      steps: this.trainer?.steps ?? 0, epochs: this.trainer?.epochs ?? 0, stepsPerSec: sps, gflops: (sps * flops) / 1e9, flopsPerStep: flops,
      trainLoss: e?.trainLoss ?? NaN, testLoss: e?.testLoss ?? NaN, trainAcc: e?.trainAcc ?? NaN, testAcc: e?.testAcc ?? NaN,
      batchLoss: this.batchLoss, backend: this.backend, playing: this.playing, batch,
    };
  }
}

