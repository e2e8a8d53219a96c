// The Agent tab's session: a PPO learner (examples/rl/ppo.ts, the same class
// `npm run demo:rl` trains) built from the settings, a training loop that
// runs one update at a time and yields to the page inside updates, the
// return history for the curve, and "watch": one greedy episode played at
// Gymnasium's render speed. All work goes through one queue, so training,
// watching and rebuilding never interleave. No DOM: the tab subscribes with
// onEvent().
import type { rl, RecoveryEvent } from 'lepton';
import { PPO, PRESETS, type PPOConfig } from '../../examples/rl/ppo.js';
import type { App } from './app.js';
import { deviceOf, resolve, useThreads } from './devices.js';
import type { AgentEnvName, RaceBackend, Settings } from './state.js';
import { TrainingLoop } from './training-loop.js';

/** Work between two yields to the page inside an update (keeps every task short). */
const SLICE_MS = 25;

/** Gymnasium's ids, and the steps per second its `render_fps` plays them at (CartPole 50, Pendulum 30). */
export const ENV_IDS: Record<AgentEnvName, PPOConfig['env']> = { cartpole: 'CartPole-v1', pendulum: 'Pendulum-v1' };
export const RENDER_FPS: Record<AgentEnvName, number> = { cartpole: 50, pendulum: 30 };
/** The solved levels, as `npm run demo:rl` uses them: CartPole-v1's reward threshold and −200 for Pendulum. */
export const GOAL: Record<AgentEnvName, number> = { cartpole: 475, pendulum: -200 };

/**
 * PPO's settings in the page: CartPole with CleanRL's quick shape (4 epochs,
 * an entropy bonus, γ 0.99, λ 0.95, the rate annealed over 100,000 steps, then
 * held at a thousandth), which solves it in about 80,000 steps (seeds 1–3:
 * 75k–90k, 7–12 s on one WASM thread in Node); Pendulum with the demo's preset.
 */
const TAB_PRESETS: Record<AgentEnvName, Partial<PPOConfig>> = {
  cartpole: { ...PRESETS['CartPole-v1'], epochs: 4, minibatchSize: 256, entropyCoef: 0.01, gamma: 0.99, lambda: 0.95, totalSteps: 100_000 },
  pendulum: { ...PRESETS['Pendulum-v1'] },
};

export type AgentEvent = 'net' | 'update' | 'stats' | 'frame' | 'error';

/** One point per update: the mean return of the episodes that ended during it (NaN if none did). */
export interface UpdatePoint { step: number; mean: number }
/** One point per finished training episode, placed in the order they ended within its update's steps. */
export interface EpisodePoint { step: number; ret: number }

export interface AgentStats {
  env: AgentEnvName; backend: RaceBackend; updates: number; steps: number; episodes: number;
  /** Mean return of the last 100 training episodes (NaN before the first). */
  meanReturn: number;
  /** Mean return of the last update's episodes. */
  lastMean: number;
  stepsPerSec: number; playing: boolean; watching: boolean;
  /** The episode being watched (or the last one): its steps, return and time (ms) so far. */
  watchSteps: number; watchReturn: number; watchMs: number;
  ready: boolean;
}

/** What the canvas shows: the physics state, and whose it is. */
export interface View { env: AgentEnvName; state: readonly number[]; action: number | null; source: 'training' | 'watch' | 'idle' }

/** A macrotask that lets the page render and handle input (MessageChannel: no 4 ms clamp as nested timers have). */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(null);
  });
}

/** The physics state of one of the tab's environments (both keep it in `state`, float64). */
const stateOf = (env: rl.Env): number[] => (env as rl.CartPole | rl.Pendulum).state;

const sleepUntil = (t: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, t - performance.now())));

const NET_KEYS: (keyof Settings)[] = ['agentEnv', 'agentEnvs', 'agentSteps', 'agentSeed', 'backend'];

export class AgentSession extends TrainingLoop<AgentEvent> {
  ppo: PPO | null = null;
  env: AgentEnvName;
  updates: UpdatePoint[] = [];
  episodes: EpisodePoint[] = [];
  watching = false;
  view: View;
  private watchAbort: AbortController | null = null;
  private watchCount = 0;
  private watchSteps = 0;
  private watchReturn = 0;
  private watchMs = 0;
  private lastYield = 0;

  constructor(app: App) {
    super(app, 'Agent', 'agent', 3000);
    this.env = app.settings.agentEnv;
    this.view = { env: this.env, state: [], action: null, source: 'idle' };
    app.onChange((s, changed) => {
      if (NET_KEYS.some((k) => changed.has(k))) { this.stopWatch(); void this.exclusive(() => this.rebuild()); }
      // The rate takes effect at the next update (PPO anneals from cfg.lr).
      else if (changed.has('agentLr') && this.ppo) this.ppo.cfg.lr = s.agentLr;
    });
    void this.exclusive(() => this.rebuild());
  }

  /** A new learner from the settings (training starts over: a backend switch too, as PPO's state lives on its device). */
  private rebuild(): void {
    const s = this.app.settings;
    const r = resolve(s.backend);
    this.backend = r.backend;
    if (r.note && s.backend !== 'auto') this.app.messages.show(`Agent: ${r.note}`, 'warning', 'agent-backend');
    else this.app.messages.clear('agent-backend');
    this.env = s.agentEnv;
    useThreads(this.backend);
    const ppo = new PPO({ ...TAB_PRESETS[this.env], env: ENV_IDS[this.env], numEnvs: s.agentEnvs, numSteps: s.agentSteps, lr: s.agentLr, seed: s.agentSeed }, deviceOf(this.backend));
    this.disposeLearner();
    ppo.pace = () => this.pace();
    this.ppo = ppo;
    this.updates = [];
    this.episodes = [];
    this.rate = [];
    this.watchSteps = 0;
    this.watchReturn = 0;
    this.view = { env: this.env, state: [...stateOf(ppo.env.envs[0])], action: null, source: 'idle' };
    this.emit('net');
  }

  private disposeLearner(): void {
    if (!this.ppo) return;
    try { this.ppo.agent.dispose(); this.ppo.opt.dispose(); } catch { /* a lost device cannot free */ }
    this.ppo = null;
  }

  /** PPO's hook inside an update: after SLICE_MS of work, let the page render (the cart as it is now) and take input. */
  private async pace(): Promise<void> {
    if (performance.now() - this.lastYield < SLICE_MS) return;
    // (The environment replaces its state array every step: this one stays as it is now.)
    if (this.ppo) this.view = { env: this.env, state: stateOf(this.ppo.env.envs[0]), action: null, source: 'training' };
    await yieldToPage();
    this.lastYield = performance.now();
    useThreads(this.backend); // another tab may have changed the WASM thread setting meanwhile
  }

  /** lepton recovered a lost GPU device; where the tensors went to WASM, train on from there on WASM (a new learner). */
  protected override recovered(e: RecoveryEvent): void {
    if (this.backend !== 'webgpu' || e.device === 'webgpu') return;
    this.pause();
    this.app.messages.show('Agent: the GPU was lost and none came back; the agent starts over on WASM.', 'warning', 'agent-backend');
    void this.exclusive(() => this.rebuild());
  }

  protected override failed(e: unknown): void {
    super.failed(e);
    this.emit('error');
  }

  /** Training stops a running "Watch policy" first. */
  override play(): void {
    if (this.playing) return;
    this.stopWatch();
    super.play();
  }

  /** Any time: an update builds its rollout from the learner there is (rebuild makes one first). */
  protected trainable(): boolean { return true; }
  protected turn(): Promise<void> { return this.update(); }
  /** A macrotask rather than the next frame: updates run back to back while the page stays responsive. */
  protected override breathe(): Promise<void> { return yieldToPage(); }

  /** One PPO update (a rollout, then the epochs), recorded for the curve. */
  private async update(): Promise<void> {
    const ppo = this.ppo!;
    useThreads(this.backend);
    const n0 = ppo.returns.length, s0 = ppo.steps, t0 = performance.now();
    this.lastYield = t0;
    const st = await ppo.update();
    const ms = performance.now() - t0;
    if (ppo !== this.ppo) return;
    this.timed(st.steps - s0, ms, t0);
    const fresh = ppo.returns.slice(n0);
    fresh.forEach((ret, k) => this.episodes.push({ step: s0 + ((k + 1) / fresh.length) * (st.steps - s0), ret }));
    this.updates.push({ step: st.steps, mean: fresh.length ? fresh.reduce((a, b) => a + b, 0) / fresh.length : NaN });
    if (this.episodes.length > 4000) this.episodes.splice(0, this.episodes.length - 4000);
    if (![st.policyLoss, st.valueLoss].every(Number.isFinite)) {
      this.pause();
      this.app.messages.show('Agent: the loss is no longer a number (training diverged): lower the learning rate, then press Reset.', 'warning', 'agent');
    }
    this.emit('update');
  }

  /** `n` updates (paused), for tests. */
  runUpdates(n: number): Promise<AgentStats> {
    this.pause();
    return this.exclusive(async () => {
      try { for (let i = 0; i < n && this.ppo; i++) await this.update(); } catch (e) { this.failed(e); }
      return this.stats();
    });
  }

  /**
   * Plays one episode of the current policy, greedily (its most likely
   * action), at Gymnasium's render speed, on a fresh environment (the seed
   * from the settings plus the watch count). Training pauses meanwhile.
   * Resolves to the episode's return and length, or null when stopped.
   */
  watch(): Promise<{ return: number; steps: number; ms: number } | null> {
    this.pause();
    this.stopWatch();
    const abort = new AbortController();
    this.watchAbort = abort;
    return this.exclusive(async () => {
      if (abort.signal.aborted || !this.ppo) return null;
      const ppo = this.ppo, env = this.env, dt = 1000 / RENDER_FPS[env];
      this.watching = true;
      this.watchSteps = 0;
      this.watchReturn = 0;
      this.watchMs = 0;
      this.emit('stats');
      const t0 = performance.now();
      try {
        useThreads(this.backend);
        const ret = await ppo.playEpisode(async (e, s, a) => {
          this.watchSteps++;
          this.watchReturn += s.reward;
          this.watchMs = performance.now() - t0;
          this.view = { env, state: stateOf(e), action: a[0], source: 'watch' };
          this.emit('frame');
          // Real time: step k is shown at t0 + k·dt (a slow step is caught up, not stretched).
          await sleepUntil(t0 + this.watchSteps * dt);
          this.watchMs = performance.now() - t0;
        }, { seed: this.app.settings.agentSeed + 1000 + this.watchCount++, greedy: true, signal: abort.signal });
        return { return: ret, steps: this.watchSteps, ms: this.watchMs };
      } catch (e) {
        if (abort.signal.aborted) return null;
        this.failed(e);
        return null;
      } finally {
        this.watching = false;
        if (this.watchAbort === abort) this.watchAbort = null;
        this.emit('stats');
      }
    });
  }

  stopWatch(): void {
    this.watchAbort?.abort();
    this.watchAbort = null;
  }

  /** A new seed (the next one; the URL names it): new initial weights and environments, training from step 0. */
  reset(): void {
    this.pause();
    this.stopWatch();
    this.app.update({ agentSeed: (this.app.settings.agentSeed % 99991) + 1 });
  }

  stats(): AgentStats {
    const ppo = this.ppo, last = this.updates[this.updates.length - 1];
    return {
      env: this.env, backend: this.backend, updates: ppo?.updates ?? 0, steps: ppo?.steps ?? 0, episodes: ppo?.returns.length ?? 0,
      meanReturn: ppo?.meanReturn() ?? NaN, lastMean: last?.mean ?? NaN, stepsPerSec: this.stepsPerSec(),
      playing: this.playing, watching: this.watching, watchSteps: this.watchSteps, watchReturn: this.watchReturn, watchMs: this.watchMs, ready: !!ppo,
    };
  }
}
