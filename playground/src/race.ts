// The race: the playground's current setup (data, features, architecture,
// optimizer) trained on two backends side by side, from the same initial
// weights and with the same batches. Each frame gives each side the same
// time slice; a faster backend takes more steps in it.
import type { nn } from 'lepton';
import type { App } from './app.js';
import { LossChart, type LossPoint } from './charts.js';
import { EXTENT } from './data.js';
import { deviceInfo, deviceOf, LABELS, useThreads } from './devices.js';
import { field, h, nextFrame, num, select } from './dom.js';
import { Heatmap } from './heatmap.js';
import { evaluate, initWeights, makeModel, nextChunk, stepFlops, Trainer, type Arch, type Evaluation } from './model.js';
import { archOf, prepare, RES, trainConfig, type Prepared } from './session.js';
import { RACE_BACKENDS, type RaceBackend } from './state.js';
import type { TabDef, TabInstance } from './tabs.js';

const SLICE_MS = 15;

interface RaceResult { backend: RaceBackend; steps: number; stepsPerSec: number; gflops: number; testLoss: number; error: string | null }

class Side {
  net: nn.MLP | null = null;
  arch: Arch | null = null;
  trainer: Trainer | null = null;
  k = 1;
  ms = 0;
  error: string | null = null;
  history: LossPoint[] = [];
  lastEval: Evaluation | null = null;
  readonly heat: Heatmap;
  readonly chart: LossChart;
  readonly element: HTMLElement;
  readonly title = h('h3', {});
  readonly desc = h('p', { class: 'hint' });
  readonly stats = h('output', { class: 'race-stats' }, '–');

  constructor(readonly name: string) {
    const heatCanvas = h('canvas', { class: 'heatmap', role: 'img', 'aria-label': `Output heatmap of racer ${name}` });
    const chartCanvas = h('canvas', { class: 'loss-chart', role: 'img', 'aria-label': `Loss over steps of racer ${name}` });
    this.heat = new Heatmap(heatCanvas, RES, EXTENT);
    this.chart = new LossChart(chartCanvas);
    this.element = h('section', { class: 'racer', 'data-racer': name }, this.title, this.desc, this.stats, chartCanvas, heatCanvas);
  }

  dispose() {
    this.trainer?.dispose();
    try { this.net?.dispose(); } catch { /* a lost device */ }
    this.net = null;
    this.trainer = null;
  }
}

function create(app: App): TabInstance {
  const sides = [new Side('A'), new Side('B')];
  let backends: RaceBackend[] = [app.settings.raceA, app.settings.raceB];
  let racing = false, runId = 0, data: Prepared | null = null, started = 0, wallLimit = 0;
  const dev = deviceInfo();
  const options = RACE_BACKENDS.map((b) => ({ value: b, label: LABELS[b], disabled: dev.unavailable[b] }));
  const selA = select(options, backends[0], (v) => app.update({ raceA: v }));
  const selB = select(options, backends[1], (v) => app.update({ raceB: v }));
  selA.id = 'race-a';
  selB.id = 'race-b';
  const duration = select([{ value: '10', label: '10 s' }, { value: '30', label: '30 s' }, { value: '0', label: 'until stopped' }], '10', () => {});
  duration.id = 'race-duration';
  const startBtn = h('button', { type: 'button', class: 'text-button primary', id: 'race-start' }, 'Start race');
  const verdict = h('p', { class: 'verdict', 'aria-live': 'polite' });
  startBtn.addEventListener('click', () => { if (racing) stop(); else void start(); });

  const setup = () => {
    for (const s of sides) s.dispose();
    const st = app.settings;
    data = prepare(st);
    const arch = archOf(st), weights = initWeights(arch, st.initSeed);
    sides.forEach((s, i) => {
      const b = backends[i];
      s.k = 1; s.ms = 0; s.history = []; s.lastEval = null; s.error = dev.unavailable[b];
      s.title.textContent = `${s.name}: ${LABELS[b]}`;
      s.desc.textContent = s.error ? `Unavailable: ${s.error}` : dev.describe[b];
      if (s.error) return;
      // The same host weights (loaded into each side's nn.MLP) and batch seed: only the backend differs.
      s.arch = arch;
      s.net = makeModel(arch, deviceOf(b), weights);
      s.trainer = new Trainer(s.net, data!.trainSet, trainConfig(st), st.initSeed);
    });
  };

  const result = (s: Side, i: number): RaceResult => {
    const steps = s.trainer?.steps ?? 0, sps = s.ms > 0 ? (1000 * steps) / s.ms : 0;
    const flops = s.trainer && s.arch ? stepFlops(s.arch, s.trainer.batchSize) : 0;
    return { backend: backends[i], steps, stepsPerSec: sps, gflops: (sps * flops) / 1e9, testLoss: s.lastEval?.testLoss ?? NaN, error: s.error };
  };

  const paint = () => {
    sides.forEach((s, i) => {
      const r = result(s, i);
      s.stats.textContent = s.error && !s.net ? '–' : `${r.steps.toLocaleString('en')} steps · ${num(r.stepsPerSec)} steps/s · ${num(r.gflops)} GFLOP/s · test loss ${num(r.testLoss)}`;
      s.chart.draw(s.history);
      if (data) s.heat.draw(s.lastEval?.grid ?? null, { discretize: app.settings.discretize, train: data.train, test: data.test, showTest: false, problem: app.settings.problem });
    });
    const [a, b] = sides.map(result);
    if (a.stepsPerSec > 0 && b.stepsPerSec > 0) {
      const [fast, slow] = a.stepsPerSec >= b.stepsPerSec ? [a, b] : [b, a];
      verdict.textContent = `${LABELS[fast.backend]} takes ${num(fast.stepsPerSec / slow.stepsPerSec)}× the steps per second of ${LABELS[slow.backend]}.`;
    }
  };

  const evalSides = async () => {
    for (const s of sides) {
      if (!s.net || s.error) continue;
      useThreads(backends[sides.indexOf(s)]);
      try {
        s.lastEval = await evaluate(s.net, data!.rows, data!.trainSet.f, data!.train.label, data!.test.label, false);
        s.history.push({ step: s.trainer!.steps, train: s.lastEval.trainLoss, test: s.lastEval.testLoss });
      } catch (e) { fail(s, e); }
    }
  };

  const fail = (s: Side, e: unknown) => {
    s.error = (e as Error).message ?? String(e);
    app.messages.show(`Race ${s.name} (${LABELS[backends[sides.indexOf(s)]]}) stopped: ${s.error}`, 'error', `race-${s.name}`);
  };

  /** Races until stopped or for `limitMs` (default: the Duration control) counted from the first step. */
  async function start(limitMs?: number): Promise<RaceResult[]> {
    const id = ++runId;
    racing = true;
    startBtn.textContent = 'Stop race';
    verdict.textContent = '';
    setup();
    await evalSides();
    paint();
    started = performance.now();
    wallLimit = limitMs ?? Number(duration.value) * 1000;
    let lastEval = performance.now();
    while (racing && id === runId) {
      for (let i = 0; i < sides.length; i++) {
        const s = sides[i];
        if (!s.trainer || s.error) continue;
        useThreads(backends[i]);
        const t0 = performance.now();
        try {
          await s.trainer.run(s.k);
        } catch (e) { fail(s, e); continue; }
        const ms = performance.now() - t0;
        s.ms += ms;
        s.k = nextChunk(s.k, ms, SLICE_MS);
      }
      if (performance.now() - lastEval > 500) { await evalSides(); lastEval = performance.now(); paint(); }
      if (wallLimit > 0 && performance.now() - started > wallLimit) break;
      if (sides.every((s) => s.error)) break;
      await nextFrame();
    }
    if (id === runId) {
      await evalSides();
      paint();
      racing = false;
      startBtn.textContent = 'Start race';
    }
    return sides.map(result);
  }

  function stop() {
    racing = false;
    startBtn.textContent = 'Start race';
  }

  app.onChange((s, changed) => {
    if (changed.has('raceA') || changed.has('raceB')) {
      backends = [s.raceA, s.raceB];
      selA.value = s.raceA;
      selB.value = s.raceB;
    }
  });

  const element = h('div', { class: 'race' },
    h('p', { class: 'intro' }, 'The playground\'s current data, features, network and optimizer, trained on two backends side by side from the same initial weights and the same batches. Each frame gives each backend the same time slice; steps per second count the time from the first queued kernel to the loss read back.'),
    h('div', { class: 'race-controls' }, field('Backend A', selA), field('Backend B', selB), field('Duration', duration), startBtn),
    verdict,
    h('div', { class: 'racers' }, sides[0].element, sides[1].element));

  // Test hook: a race of `ms` milliseconds of stepping (after set-up and the first
  // evaluation, which compile pipelines), resolving to both sides' results.
  (globalThis as { __race?: unknown }).__race = (ms: number) => start(ms);

  return {
    element,
    hide() { stop(); },
    onKey(e) { if (e.key === ' ') { startBtn.click(); return true; } return false; },
    shortcuts: [['Space', 'start / stop the race']],
  };
}

export const raceTab: TabDef = { id: 'race', title: 'Race', create };
