// The Sequence tab's training session: the addition transformer of `npm run
// demo:transformer` (its model, loss, AdamW schedule and batches, imported
// from examples/transformer/model.ts) built from the settings, a
// requestAnimationFrame-paced training loop, exact-answer accuracy on
// held-out problems in slices between training chunks, and the typed
// problem's answer and attention weights, all through one queue so they
// never interleave. No DOM: the tab subscribes with onEvent().
import type { Tensor } from 'lepton';
import { heldOutProblems } from '../../examples/addition/data.js';
import { additionModel, DEMO, heldOutAccuracy, Trainer, type AdditionConfig } from '../../examples/transformer/model.js';
import type { App } from './app.js';
import type { LossPoint } from './charts.js';
import { snapshot } from './digits-model.js';
import { deviceOf, resolve, useThreads } from './devices.js';
import { nextChunk } from './model.js';
import { answerStepByStep, attentionMaps, readTokens, type Answer, type AttentionMaps } from './sequence-generate.js';
import { SEQ_KEYS, type RaceBackend, type Settings } from './state.js';
import { nextFrame } from './dom.js';
import { TrainingLoop } from './training-loop.js';

/** Training time per animation frame; the steps per frame adapt to it (a WASM step of the default model takes ~0.1 s: one per frame). */
const BUDGET_MS = 30;
/** Time per held-out slice; its problems adapt to it (WebGPU on a CPU adapter is slow). */
const EVAL_BUDGET_MS = 25;
/** Held-out problems per pass (never in a training batch; fixed by examples/addition/data.ts). */
export const HELD_OUT = 500;
/** A new held-out pass starts at most this many steps after the last one began. */
const EVAL_EVERY = 20;

export type SequenceEvent = 'net' | 'stats' | 'eval' | 'token' | 'answer' | 'error';

export interface SequenceStats {
  steps: number; stepsPerSec: number; problemsPerSec: number;
  /** Mean training loss (answer digits, nats) of the last chunk. */
  trainLoss: number;
  /** The last complete held-out pass: exact answers, begun after step `evaluatedFrom`, done after `evaluatedAt`. */
  heldOutAcc: number; evaluatedFrom: number; evaluatedAt: number;
  backend: RaceBackend; playing: boolean; batch: number; parameters: number; ready: boolean;
}

/** The demo's configuration with the page's model and optimizer settings. */
export const configOf = (s: Settings, backend: RaceBackend): AdditionConfig => ({
  ...DEMO, dModel: s.seqWidth, numLayers: s.seqLayers, numHeads: s.seqHeads, ffnDim: 4 * s.seqWidth,
  batchSize: s.seqBatch, lr: s.seqLr, seed: s.seqSeed, device: deviceOf(backend),
});

export class SequenceSession extends TrainingLoop<SequenceEvent> {
  model: ReturnType<typeof additionModel> | null = null;
  trainer: Trainer | null = null;
  /** Training loss (train) and held-out exact-answer accuracy (test), by step. */
  lossHistory: LossPoint[] = [];
  accHistory: LossPoint[] = [];
  /** The typed problem's answer so far (tokens as they come) and, once complete, its attention maps. */
  partial: number[] = [];
  answer: Answer | null = null;
  maps: AttentionMaps | null = null;
  readonly heldOut = heldOutProblems(HELD_OUT);
  private evalCount = 50;
  private pass: { at: number; next: number; right: number } | null = null;
  private lastPassAt = -EVAL_EVERY;
  private last = { loss: NaN, heldOutAcc: NaN, evaluatedFrom: -1, evaluatedAt: -1 };
  private askId = 0;

  constructor(app: App) {
    super(app, 'Sequence', 'sequence');
    void this.exclusive(() => this.rebuild());
    app.onChange((_s, changed) => {
      // Any model or optimizer setting starts afresh from the seed (the schedule's warm-up included).
      if (SEQ_KEYS.some((k) => changed.has(k))) void this.exclusive(() => this.rebuild());
      if (changed.has('backend')) void this.exclusive(() => this.switchBackend());
    });
  }

  private rebuild(): void {
    this.trainer?.optimizer.dispose();
    this.model?.dispose();
    const cfg = configOf(this.app.settings, this.backend);
    this.model = additionModel(cfg);
    this.trainer = new Trainer(this.model, cfg);
    this.lossHistory = [];
    this.accHistory = [];
    this.pass = null;
    this.lastPassAt = -EVAL_EVERY;
    this.last = { loss: NaN, heldOutAcc: NaN, evaluatedFrom: -1, evaluatedAt: -1 };
    this.rate = [];
    this.k = 1;
    this.emit('net');
  }

  /**
   * The same weights on the other device; the step count and the learning
   * rate schedule carry on, AdamW's moments start afresh there, and the
   * batches continue from a new stream of the same seed.
   */
  private async switchBackend(): Promise<void> {
    const r = resolve(this.app.settings.backend);
    if (r.backend === this.backend || !this.model || !this.trainer) { this.backend = r.backend; return; }
    const weights = await snapshot(this.model);
    const old = this.model, oldTrainer = this.trainer;
    this.backend = r.backend;
    this.model = additionModel(configOf(this.app.settings, this.backend));
    this.model.loadStateDict(weights);
    this.trainer = new Trainer(this.model, configOf(this.app.settings, this.backend));
    this.trainer.schedule.loadStateDict(oldTrainer.schedule.stateDict());
    this.trainer.step = oldTrainer.step;
    try { oldTrainer.optimizer.dispose(); old.dispose(); } catch { /* a lost device cannot free */ }
    this.rate = [];
    this.k = 1;
    this.evalCount = 50;
    this.emit('stats');
  }

  protected trainable(): boolean { return !!this.model; }

  /** Chunks of steps and held-out slices, a frame apart, so the page keeps drawing and answering input. */
  protected async turn(): Promise<void> {
    await this.chunk(this.k);
    await this.evalSlice();
  }

  /** `k` training steps; their losses are summed on the device and read back once (the end of the timed region). */
  private async chunk(k: number): Promise<void> {
    useThreads(this.backend);
    const t0 = performance.now();
    let total: Tensor | null = null;
    try {
      for (let i = 0; i < k; i++) {
        const l = this.trainer!.train();
        if (total) {
          const t: Tensor = total;
          total = t.add(l);
          t.dispose();
          l.dispose();
        } else total = l;
      }
      this.last.loss = (await total!.item()) / k;
    } finally {
      total?.dispose();
    }
    const ms = performance.now() - t0;
    this.timed(k, ms, t0);
    this.k = nextChunk(k, ms, BUDGET_MS);
    this.lossHistory.push({ step: this.trainer!.step, train: this.last.loss, test: NaN });
    thin(this.lossHistory);
    if (!Number.isFinite(this.last.loss)) {
      this.pause();
      this.app.messages.show('Sequence: the loss is no longer a number (training diverged): lower the learning rate, then press Reset.', 'warning', 'sequence');
    }
    this.emit('stats');
  }

  /**
   * One slice of a held-out pass: greedy answers (the demo's
   * heldOutAccuracy, through the KV cache) to the next problems, as many
   * as fit EVAL_BUDGET_MS. A pass begins at most every EVAL_EVERY steps and
   * spans a few steps while training goes on.
   */
  private async evalSlice(): Promise<void> {
    const step = this.trainer!.step;
    if (!this.pass) {
      if (step - this.lastPassAt < EVAL_EVERY && this.lastPassAt >= 0) return;
      this.pass = { at: step, next: 0, right: 0 };
    }
    const p = this.pass, to = Math.min(HELD_OUT, p.next + this.evalCount);
    useThreads(this.backend);
    const t0 = performance.now();
    const acc = await heldOutAccuracy(this.model!, this.heldOut.slice(p.next, to), to - p.next);
    const ms = performance.now() - t0;
    this.evalCount = Math.max(5, Math.min(HELD_OUT, Math.round((this.evalCount * EVAL_BUDGET_MS) / Math.max(ms, 1))));
    p.right += Math.round(acc * (to - p.next));
    p.next = to;
    if (p.next < HELD_OUT) return;
    this.pass = null;
    this.lastPassAt = p.at;
    this.last.heldOutAcc = p.right / HELD_OUT;
    this.last.evaluatedFrom = p.at;
    this.last.evaluatedAt = step;
    this.accHistory.push({ step, train: NaN, test: this.last.heldOutAcc });
    this.emit('eval');
  }

  /** `n` training steps in chunks (paused), for tests and the Step button; no evaluation. */
  runSteps(n: number): Promise<SequenceStats> {
    this.pause();
    return this.exclusive(async () => {
      if (!this.trainer) return this.stats();
      const target = this.trainer.step + n;
      try {
        while (this.trainer.step < target) await this.chunk(Math.min(this.k, target - this.trainer.step));
      } catch (e) {
        this.failed(e);
      }
      return this.stats();
    });
  }

  /** Completes a held-out pass on the current weights (paused), for tests. */
  evaluate(): Promise<SequenceStats> {
    this.pause();
    return this.exclusive(async () => {
      if (!this.trainer) return this.stats();
      this.pass = null;
      this.lastPassAt = -EVAL_EVERY;
      do await this.evalSlice(); while (this.pass);
      return this.stats();
    });
  }

  /**
   * The answer to a + b, a token at a time: each token is shown ('token'
   * event) and `pace` ms pass before the next is made, then the attention
   * maps of the sequence read ('answer'). A newer ask makes an older one
   * stop before its next token.
   */
  ask(a: number, b: number, paceMs: number): Promise<Answer | null> {
    const id = ++this.askId;
    return this.exclusive(async () => {
      if (!this.model || id !== this.askId) return null;
      useThreads(this.backend);
      this.partial = [];
      this.answer = null;
      this.maps = null;
      this.emit('token');
      const stale = new Error('stale');
      try {
        const ans = await answerStepByStep(this.model, a, b, async (t) => {
          if (id !== this.askId) throw stale;
          this.partial.push(t);
          this.emit('token');
          await nextFrame();
          if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
        });
        const maps = await attentionMaps(this.model, readTokens(ans));
        if (id !== this.askId) return null;
        this.maps = maps;
        this.answer = ans;
        this.emit('answer');
        return ans;
      } catch (e) {
        if (e === stale) return null;
        this.app.messages.show(`Sequence: could not answer: ${(e as Error).message}`, 'error', 'sequence-ask');
        this.emit('error');
        return null;
      }
    });
  }

  /** Stops the answer in progress before its next digit, and forgets the last one (the problem was cleared). */
  cancelAsk(): void {
    this.askId++;
    this.partial = [];
    this.answer = null;
    this.maps = null;
  }

  /** New initial weights from the next seed (the URL names it), training from step 0. */
  reset(): void {
    this.pause();
    this.app.update({ seqSeed: (this.app.settings.seqSeed % 99991) + 1 });
  }

  stats(): SequenceStats {
    const sps = this.stepsPerSec(), batch = this.trainer?.config.batchSize ?? this.app.settings.seqBatch;
    return {
      steps: this.trainer?.step ?? 0, stepsPerSec: sps, problemsPerSec: sps * batch, trainLoss: this.last.loss,
      heldOutAcc: this.last.heldOutAcc, evaluatedFrom: this.last.evaluatedFrom, evaluatedAt: this.last.evaluatedAt,
      backend: this.backend, playing: this.playing, batch,
      parameters: this.model ? this.model.parameters().reduce((n, p) => n + p.size, 0) : 0, ready: !!this.model,
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
