// The Digits tab: a CNN trained live on 8,000 MNIST digits (lepton, on the
// page's backend), its loss and accuracy curves, the first-layer filters,
// misclassified held-out digits, and a pad to draw a digit on while the ten
// class probabilities follow the pen.
import type { App } from './app.js';
import { LossChart } from './charts.js';
import { HELD_OUT_COUNT, TRAIN_COUNT } from './digits-data.js';
import { DrawingPad } from './digits-pad.js';
import { DigitsSession, type DigitsStats } from './digits-session.js';
import { drawFilters, drawMistakes, ProbBars } from './digits-views.js';
import { deviceInfo, LABELS } from './devices.js';
import { field, h, icon, num, select } from './dom.js';
import { BACKENDS, LIMITS, type BackendChoice, type Settings } from './state.js';
import type { TabDef, TabInstance } from './tabs.js';
import { numberInput } from './number-input.js';

const FILTER_CHOICES = [4, 8, 16, 32];

/** The tab's session and pad, for the test hooks (created with the tab). */
export let digits: { session: DigitsSession; pad: DrawingPad; settled(): Promise<number[] | null> } | null = null;

function create(app: App): TabInstance {
  const sess = new DigitsSession(app);
  const change = (patch: Partial<Settings>) => app.update(patch);

  // ---- drawing pad and its predictions (one in flight; the newest drawing wins) ----
  const bars = new ProbBars();
  let pending: Float32Array | null | undefined, pump: Promise<void> | null = null, probs: number[] | null = null;
  const predictLoop = async () => {
    while (pending !== undefined) {
      const image = pending;
      pending = undefined;
      try {
        probs = image ? Array.from(await sess.predict(image)) : null;
        bars.show(probs);
      } catch (e) {
        app.messages.show(`Digits: could not classify the drawing: ${(e as Error).message}`, 'error', 'digits-pad');
      }
    }
  };
  /** Classifies `image` after the one in flight. (pump is cleared in a finally: a loop that ends synchronously, as for a blank pad, must not leave it set.) */
  const classify = (image: Float32Array | null) => {
    pending = image;
    pump ??= predictLoop().finally(() => { pump = null; });
  };
  const pad = new DrawingPad(classify);
  const clear = h('button', { type: 'button', class: 'text-button', id: 'digit-clear', title: 'Clear the pad (C)' }, 'Clear');
  clear.addEventListener('click', () => pad.clear());
  bars.show(null);
  const padCol = h('section', { class: 'pad-col', 'aria-labelledby': 'h-pad' },
    h('h2', { id: 'h-pad' }, 'Draw a digit'), pad.canvas,
    h('div', { class: 'pad-row' }, clear, h('span', { class: 'hint' }, 'as the net sees it:'), pad.preview),
    bars.element);

  // ---- run controls and settings ----
  const playBtn = h('button', { type: 'button', class: 'play', id: 'digits-play', 'aria-label': 'Train (Space)', title: 'Train / pause (Space)' }, icon('play'));
  const stepBtn = h('button', { type: 'button', class: 'round', id: 'digits-step', 'aria-label': 'One step (.)', title: 'One training step (.)' }, icon('step'));
  const resetBtn = h('button', { type: 'button', class: 'round', id: 'digits-reset', 'aria-label': 'Reset the network (R)', title: 'Reset: new initial weights (R)' }, icon('reset'));
  playBtn.addEventListener('click', () => sess.toggle());
  stepBtn.addEventListener('click', () => void sess.runSteps(1));
  resetBtn.addEventListener('click', () => sess.reset());
  const counter = h('output', { class: 'counter', id: 'digits-steps' }, '0');
  const lr = numberInput(app, 'digitsLr', { id: 'digits-lr', min: LIMITS.digitsLr[0], max: LIMITS.digitsLr[1], step: 'any' });
  const batch = numberInput(app, 'digitsBatch', { id: 'digits-batch', min: LIMITS.digitsBatch[0], max: LIMITS.digitsBatch[1], step: 1 });
  const filterChoices = () => [...new Set([...FILTER_CHOICES, app.settings.digitsFilters])].sort((a, b) => a - b);
  const filters = select(filterChoices().map((f) => ({ value: String(f), label: `${f} + ${2 * f}` })), String(app.settings.digitsFilters), (v) => change({ digitsFilters: Number(v) }));
  filters.id = 'digits-filters';
  const dev = deviceInfo();
  const backend = select<BackendChoice>(BACKENDS.map((b) => ({
    value: b, label: b === 'auto' ? `Auto (${LABELS[dev.auto]})` : LABELS[b], disabled: b === 'auto' ? null : dev.unavailable[b],
  })), app.settings.backend, (v) => change({ backend: v }));
  backend.id = 'digits-backend';
  const speed = h('output', { class: 'speed', id: 'digits-speed' }, '–');
  const running = h('div', { class: 'running', id: 'digits-running-on' });
  const topbar = h('div', { class: 'topbar' },
    h('div', { class: 'run-controls' }, resetBtn, playBtn, stepBtn, h('div', { class: 'counter-box' }, h('span', { class: 'label' }, 'Steps · epochs'), counter)),
    field('Learning rate (Adam)', lr), field('Batch', batch), field('Filters (conv 1 + 2)', filters),
    h('div', { class: 'backend-box' }, field('Backend', backend), h('div', { class: 'speed-box' }, h('span', { class: 'label' }, 'Speed'), speed), running));

  // ---- curves and figures ----
  const figure = (id: string) => h('output', { id }, '–');
  const heldAcc = figure('digits-accuracy'), heldLoss = figure('digits-heldout-loss'), trainLoss = figure('digits-train-loss'), trainAcc = figure('digits-train-acc');
  const lossCanvas = h('canvas', { class: 'loss-chart', id: 'digits-loss-chart', role: 'img', 'aria-label': 'Training loss (grey) and held-out loss (dark) over steps' });
  const accCanvas = h('canvas', { class: 'loss-chart', id: 'digits-acc-chart', role: 'img', 'aria-label': 'Training batch accuracy (grey) and held-out accuracy (dark) over steps, 0 to 100%' });
  const lossChart = new LossChart(lossCanvas), accChart = new LossChart(accCanvas, { top: 1 });
  const curves = h('section', { class: 'curves-col', 'aria-labelledby': 'h-curves' },
    h('h2', { id: 'h-curves' }, 'Training'),
    h('p', { class: 'hint', id: 'digits-status' }, 'Loading the digits…'),
    h('dl', { class: 'losses' },
      h('dt', {}, `Held-out accuracy (${HELD_OUT_COUNT.toLocaleString('en')})`), h('dd', {}, heldAcc),
      h('dt', {}, 'Held-out loss'), h('dd', {}, heldLoss),
      h('dt', {}, 'Training loss'), h('dd', {}, trainLoss),
      h('dt', {}, 'Last batch accuracy'), h('dd', {}, trainAcc)),
    h('span', { class: 'label' }, 'Loss'), lossCanvas, h('span', { class: 'label' }, 'Accuracy'), accCanvas);
  const status = curves.querySelector('#digits-status')!;

  // ---- what the net learned ----
  const filterGrid = h('div', { class: 'filters', id: 'digits-filters-view', role: 'img', 'aria-label': 'The first convolution layer’s filters' });
  const mistakes = h('div', { class: 'mistakes', id: 'digits-mistakes' });
  const download = h('button', { type: 'button', class: 'text-button', id: 'digits-download', title: 'Download the CNN’s weights as a safetensors file (PyTorch’s layouts)' }, 'Download weights');
  download.addEventListener('click', async () => {
    try {
      const url = URL.createObjectURL(new Blob([(await sess.saveWeights()).slice()], { type: 'application/octet-stream' }));
      const a = h('a', { href: url, download: 'digits.safetensors', hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      app.messages.show(`Digits: could not save the weights: ${(e as Error).message}`, 'error', 'digits-weights');
    }
  });
  const learned = h('section', { class: 'learned-col', 'aria-labelledby': 'h-learned' },
    h('h2', { id: 'h-learned' }, 'First-layer filters'), filterGrid,
    h('p', { class: 'hint' }, '5 × 5 weights each, orange negative, blue positive, each scaled to its largest weight.'),
    h('h2', {}, 'Misclassified held-out digits'), mistakes,
    h('p', { class: 'hint' }, 'The true digit → the net’s reading, with its confidence; the most confident mistakes of the last pass.'),
    h('div', { class: 'weights-io' }, download));

  const element = h('div', { class: 'digits' }, topbar, h('div', { class: 'digits-grid' }, padCol, curves, learned));

  // ---- keeping the views in step ----
  const paintStats = (st: DigitsStats = sess.stats()) => {
    counter.textContent = `${st.steps.toLocaleString('en')} · ${st.epochs.toFixed(2)}`;
    speed.textContent = st.stepsPerSec > 0 ? `${num(st.stepsPerSec)} steps/s · ${num(st.imagesPerSec)} images/s · ${num(st.gflops)} GFLOP/s` : '–';
    playBtn.replaceChildren(icon(st.playing ? 'pause' : 'play'));
    playBtn.setAttribute('aria-label', st.playing ? 'Pause (Space)' : 'Train (Space)');
    playBtn.classList.toggle('playing', st.playing);
    running.textContent = `Running on ${LABELS[st.backend]}: ${dev.describe[st.backend]}`;
    element.dataset.backend = st.backend;
    trainLoss.textContent = num(st.trainLoss);
    trainAcc.textContent = Number.isFinite(st.trainAcc) ? `${(100 * st.trainAcc).toFixed(0)}%` : '–';
    lossChart.draw(sess.lossHistory);
    accChart.draw(sess.accHistory);
  };
  const paintEval = () => {
    const st = sess.stats();
    const steps = st.evaluatedFrom === st.evaluatedAt ? `step ${st.evaluatedAt}` : `steps ${st.evaluatedFrom}–${st.evaluatedAt}`;
    heldAcc.textContent = Number.isFinite(st.heldOutAcc) ? `${(100 * st.heldOutAcc).toFixed(1)}% (${steps})` : '–';
    heldAcc.title = 'The last pass over the held-out digits; while training runs on, it is made in slices between steps.';
    heldLoss.textContent = num(st.heldOutLoss);
    drawFilters(filterGrid, sess.filters, app.settings.digitsFilters);
    drawMistakes(mistakes, sess.mistakes, sess.heldOut, sess.digits);
    paintStats(st);
  };
  const sync = () => {
    const s = app.settings;
    lr.value = String(s.digitsLr);
    batch.value = String(s.digitsBatch);
    filters.replaceChildren(...filterChoices().map((f) => h('option', { value: String(f) }, `${f} + ${2 * f}`)));
    filters.value = String(s.digitsFilters);
    backend.value = s.backend;
  };
  let lastPaint = 0;
  sess.onEvent((e) => {
    if (e === 'data') status.textContent = `${TRAIN_COUNT.toLocaleString('en')} training digits, ${HELD_OUT_COUNT.toLocaleString('en')} held out (MNIST, from the page’s own server). Press play, then draw.`;
    if (e === 'error') status.textContent = 'The digits could not be loaded (see the message above).';
    // New weights: the drawing on the pad is classified again.
    if ((e === 'net' || e === 'eval') && pad.image) classify(pad.image);
    if (e === 'net' || e === 'eval') paintEval();
    if (e === 'stats' && (!sess.playing || performance.now() - lastPaint > 200)) { lastPaint = performance.now(); paintStats(); }
  });
  app.onChange(sync);
  sync();
  paintStats();
  addEventListener('resize', () => { lossChart.draw(sess.lossHistory); accChart.draw(sess.accHistory); });

  digits = {
    session: sess, pad,
    async settled() { while (pump) await pump; return probs; },
  };
  return {
    element,
    show() { requestAnimationFrame(() => paintStats()); },
    hide() { sess.pause(); },
    onKey(e) {
      switch (e.key) {
        case ' ': sess.toggle(); return true;
        case '.': void sess.runSteps(1); return true;
        case 'r': case 'R': sess.reset(); return true;
        case 'c': case 'C': pad.clear(); return true;
        default: return false;
      }
    },
    shortcuts: [['Space', 'train / pause'], ['.', 'one step'], ['R', 'reset (new initial weights)'], ['C', 'clear the drawing pad']],
  };
}

export const digitsTab: TabDef = { id: 'digits', title: 'Digits', create };
