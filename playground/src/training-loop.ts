// What the Digits, Sequence and Agent tabs' sessions share: one queue so
// that training, evaluation and the tab's own requests never interleave, the
// listeners the tab subscribes with, play / pause and the loop that runs one
// piece of work per turn (a chunk of steps, a PPO update) and then lets the
// page draw, the steps-per-second window, and what to do when training fails
// or lepton moves a lost GPU's tensors to WASM. No DOM.
import type { RecoveryEvent } from 'lepton';
import type { App } from './app.js';
import { onDeviceRecovered, resolve } from './devices.js';
import { nextFrame } from './dom.js';
import type { RaceBackend } from './state.js';

/** One timed piece of training: `steps` steps in `ms`, begun at `at`. */
interface Timed { steps: number; ms: number; at: number }

export abstract class TrainingLoop<E extends string> {
  backend: RaceBackend;
  playing = false;
  /** The pieces of the last `rateWindowMs`, for steps per second. */
  protected rate: Timed[] = [];
  /** Steps in the next chunk, where the work comes in chunks sized to the frame (nextChunk). */
  protected k = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private loopId = 0;
  private readonly listeners = new Set<(e: E) => void>();

  /** `name` starts the tab's messages ("Digits: training stopped: …"); `area` is where they show. */
  protected constructor(protected readonly app: App, private readonly name: string, private readonly area: string,
    private readonly rateWindowMs = 1000) {
    this.backend = resolve(app.settings.backend).backend;
    onDeviceRecovered((e) => this.recovered(e));
  }

  onEvent(l: (e: E) => void): void { this.listeners.add(l); }
  protected emit(e: E): void { for (const l of this.listeners) l(e); }

  /** Runs `fn` after everything queued before it. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Whether there is something to train (a model built). */
  protected abstract trainable(): boolean;
  /** One turn of the loop's work, inside the queue. */
  protected abstract turn(): Promise<void>;
  /** Between turns: lets the page draw and take input (the next animation frame). */
  protected async breathe(): Promise<void> { await nextFrame(); }

  play(): void {
    if (this.playing || !this.trainable()) return;
    this.playing = true;
    this.emit('stats' as E);
    void this.loop(++this.loopId);
  }

  pause(): void {
    if (!this.playing) return;
    this.playing = false;
    this.emit('stats' as E);
  }

  toggle(): void { if (this.playing) this.pause(); else this.play(); }

  private async loop(id: number): Promise<void> {
    while (this.playing && id === this.loopId) {
      await this.exclusive(async () => {
        if (!this.playing || id !== this.loopId) return;
        try { await this.turn(); } catch (e) { this.failed(e); }
      });
      await this.breathe();
    }
  }

  /** Records a piece of `steps` steps that took `ms` from `at`. */
  protected timed(steps: number, ms: number, at: number): void {
    this.rate.push({ steps, ms, at });
    while (this.rate.length > 1 && this.rate[0].at < at - this.rateWindowMs) this.rate.shift();
  }

  /** Training steps per second of training time over the window. */
  protected stepsPerSec(): number {
    let steps = 0, ms = 0;
    for (const r of this.rate) { steps += r.steps; ms += r.ms; }
    return ms > 0 ? (1000 * steps) / ms : 0;
  }

  /** lepton recovered a lost GPU device (the model with it); where its tensors went to WASM, follow them. */
  protected recovered(e: RecoveryEvent): void {
    if (this.backend === 'webgpu' && e.device !== 'webgpu') {
      this.backend = resolve('webgpu').backend;
      this.rate = [];
      this.k = 1;
      this.emit('stats' as E);
    }
  }

  protected failed(e: unknown): void {
    this.pause();
    this.app.messages.show(`${this.name}: training stopped: ${e instanceof Error ? e.message : String(e)}`, 'error', this.area);
  }
}
