// The main tab: TensorFlow-Playground-style controls, the network, the
// output heatmap and the losses, trained live by a Session on lepton.
import type { App } from './app.js';
import { LossChart } from './charts.js';
import { DATASETS, EXTENT, generate, problemOf, type DatasetId, type Problem } from './data.js';
import { deviceInfo, LABELS } from './devices.js';
import { field, h, icon, num, select } from './dom.js';
import { colour, css, Heatmap } from './heatmap.js';
import { NetworkView } from './network-view.js';
import { RES, Session } from './session.js';
import {
  ACTIVATIONS, BACKENDS, LIMITS, OPTIMIZERS, REGS,
  type ActivationName, type BackendChoice, type OptimizerName, type RegName, type Settings,
} from './state.js';
import type { TabDef, TabInstance } from './tabs.js';
import { weightsControls } from './weights-io.js';
import { numberInput } from './number-input.js';

const LR_VALUES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const ACT_LABELS: Record<ActivationName, string> = { relu: 'ReLU', tanh: 'Tanh', sigmoid: 'Sigmoid', gelu: 'GELU', linear: 'Linear' };
const OPT_LABELS: Record<OptimizerName, string> = { sgd: 'SGD', momentum: 'SGD + momentum (0.9)', adam: 'Adam' };
const REG_LABELS: Record<RegName, string> = { none: 'None', l1: 'L1', l2: 'L2' };

/** The session of the page (one playground tab), for the other tabs and the test hooks. */
export let session: Session | null = null;

function datasetThumb(id: DatasetId): HTMLCanvasElement {
  const c = h('canvas', { class: 'dataset-thumb', width: 64, height: 64 });
  const g = c.getContext('2d')!, p = generate(id, 160, 0, 7), col: [number, number, number] = [0, 0, 0];
  g.fillStyle = '#f4f5f6';
  g.fillRect(0, 0, 64, 64);
  for (let i = 0; i < p.n; i++) {
    const v = problemOf(id) === 'classification' ? (p.label[i] === 1 ? 1 : -1) : p.label[i];
    g.fillStyle = css(colour(v, col));
    const x = ((p.xy[2 * i] + EXTENT) / (2 * EXTENT)) * 64, y = 64 - ((p.xy[2 * i + 1] + EXTENT) / (2 * EXTENT)) * 64;
    g.fillRect(x - 1.5, y - 1.5, 3, 3);
  }
  return c;
}

function create(app: App): TabInstance {
  const s0 = app.settings;
  const sess = (session = new Session(app));
  const change = (patch: Partial<Settings>) => app.update(patch);


  // ---- top bar: run controls and hyper-parameters ----
  const playBtn = h('button', { type: 'button', class: 'play', id: 'play', 'aria-label': 'Play (Space)', title: 'Play / pause (Space)' }, icon('play'));
  const stepBtn = h('button', { type: 'button', class: 'round', id: 'step', 'aria-label': 'One step (.)', title: 'One training step (.)' }, icon('step'));
  const resetBtn = h('button', { type: 'button', class: 'round', id: 'reset', 'aria-label': 'Reset the network (R)', title: 'Reset: new initial weights (R)' }, icon('reset'));
  playBtn.addEventListener('click', () => sess.toggle());
  stepBtn.addEventListener('click', () => void sess.step());
  resetBtn.addEventListener('click', () => sess.reset());
  const stepCount = h('output', { class: 'counter', id: 'step-count', 'aria-label': 'Training steps and epochs' }, '0');

  const lrInput = numberInput(app, 'lr', { min: LIMITS.lr[0], max: LIMITS.lr[1], step: 'any', list: 'lr-values', id: 'lr', class: 'lr' });
  const lrList = h('datalist', { id: 'lr-values' }, ...LR_VALUES.map((v) => h('option', { value: String(v) })));
  const optSel = select(OPTIMIZERS.map((o) => ({ value: o, label: OPT_LABELS[o] })), s0.optimizer, (v) => change({ optimizer: v }));
  optSel.id = 'optimizer';
  const actSel = select(ACTIVATIONS.map((a) => ({ value: a, label: ACT_LABELS[a] })), s0.activation, (v) => change({ activation: v }));
  actSel.id = 'activation';
  const regSel = select(REGS.map((r) => ({ value: r, label: REG_LABELS[r] })), s0.reg, (v) => change({ reg: v }));
  regSel.id = 'reg';
  const regRate = numberInput(app, 'regRate', { min: 0, max: 1, step: 'any', id: 'reg-rate', list: 'reg-values' });
  const regList = h('datalist', { id: 'reg-values' }, ...[0, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1].map((v) => h('option', { value: String(v) })));
  const probSel = select<Problem>([{ value: 'classification', label: 'Classification' }, { value: 'regression', label: 'Regression' }], s0.problem, (v) => {
    change({ problem: v, dataset: v === 'regression' ? 'reg-plane' : 'spiral' });
  });
  probSel.id = 'problem';

  const dev = deviceInfo();
  const backendSel = select<BackendChoice>(BACKENDS.map((b) => ({
    value: b,
    label: b === 'auto' ? `Auto (${LABELS[dev.auto]})` : LABELS[b],
    disabled: b === 'auto' ? null : dev.unavailable[b],
  })), s0.backend, (v) => change({ backend: v }));
  backendSel.id = 'backend';
  const speed = h('output', { class: 'speed', id: 'speed', 'aria-live': 'off' }, '–');
  const running = h('div', { class: 'running', id: 'running-on' });
  const backendNotes = h('div', { class: 'hint backend-notes' });

  const topbar = h('div', { class: 'topbar' },
    h('div', { class: 'run-controls' }, resetBtn, playBtn, stepBtn, h('div', { class: 'counter-box' }, h('span', { class: 'label' }, 'Steps · epochs'), stepCount)),
    field('Learning rate', lrInput), lrList,
    field('Optimizer', optSel),
    field('Activation', actSel),
    field('Regularisation', regSel),
    field('Reg. rate', regRate), regList,
    field('Problem type', probSel),
    h('div', { class: 'backend-box' }, field('Backend', backendSel), h('div', { class: 'speed-box' }, h('span', { class: 'label' }, 'Training speed'), speed), running));

  // ---- data column ----
  const dsButtons = new Map<DatasetId, HTMLButtonElement>();
  const dsGroup = h('div', { class: 'datasets', role: 'group', 'aria-label': 'Dataset' });
  for (const d of DATASETS) {
    const b = h('button', { type: 'button', class: 'dataset', 'data-dataset': d.id, 'aria-pressed': 'false', title: d.label }, datasetThumb(d.id), h('span', {}, d.label));
    b.addEventListener('click', () => change({ dataset: d.id, problem: d.problem }));
    dsButtons.set(d.id, b);
    dsGroup.append(b);
  }
  const ratio = h('input', { type: 'range', id: 'train-ratio', min: LIMITS.trainPct[0], max: LIMITS.trainPct[1], step: 10, value: String(s0.trainPct) });
  const ratioOut = h('output', { for: 'train-ratio' }, `${s0.trainPct}%`);
  ratio.addEventListener('input', () => { ratioOut.textContent = `${ratio.value}%`; });
  ratio.addEventListener('change', () => change({ trainPct: Number(ratio.value) }));
  const noise = h('input', { type: 'range', id: 'noise', min: LIMITS.noise[0], max: LIMITS.noise[1], step: 5, value: String(s0.noise) });
  const noiseOut = h('output', { for: 'noise' }, String(s0.noise));
  noise.addEventListener('input', () => { noiseOut.textContent = noise.value; });
  noise.addEventListener('change', () => change({ noise: Number(noise.value) }));
  const batch = numberInput(app, 'batch', { min: LIMITS.batch[0], max: LIMITS.batch[1], step: 1, id: 'batch' });
  const regen = h('button', { type: 'button', id: 'regenerate', class: 'text-button', title: 'New random points (N)' }, 'Regenerate');
  regen.addEventListener('click', () => change({ dataSeed: (app.settings.dataSeed % 99991) + 1 }));
  const dataCol = h('section', { class: 'data-col', 'aria-labelledby': 'h-data' },
    h('h2', { id: 'h-data' }, 'Data'),
    dsGroup,
    h('div', { class: 'field' }, h('label', { for: 'train-ratio' }, 'Training share: ', ratioOut), ratio),
    h('div', { class: 'field' }, h('label', { for: 'noise' }, 'Noise (%): ', noiseOut), noise),
    field('Batch size', batch, `1–${LIMITS.batch[1]}`),
    regen);

  // ---- network column ----
  const net = new NetworkView(change);
  const threadNote = h('p', { class: 'hint thread-note' });
  const netCol = h('section', { class: 'net-col', 'aria-labelledby': 'h-net' }, h('h2', { id: 'h-net' }, 'Network'), net.element, weightsControls(app, sess), threadNote);

  // ---- output column ----
  const testLoss = h('output', { id: 'test-loss' }, '–');
  const trainLoss = h('output', { id: 'train-loss' }, '–');
  const accuracy = h('output', { id: 'accuracy' }, '–');
  const chartCanvas = h('canvas', { class: 'loss-chart', id: 'loss-chart', 'aria-label': 'Train and test loss over training steps', role: 'img' });
  const chart = new LossChart(chartCanvas);
  const heatCanvas = h('canvas', { class: 'heatmap', id: 'heatmap', role: 'img', 'aria-label': 'Output of the network over the input square, with the data points' });
  const heat = new Heatmap(heatCanvas, RES, EXTENT);
  const showTest = h('input', { type: 'checkbox', id: 'show-test', checked: s0.showTest });
  showTest.addEventListener('change', () => change({ showTest: showTest.checked }));
  const discretize = h('input', { type: 'checkbox', id: 'discretize', checked: s0.discretize });
  discretize.addEventListener('change', () => change({ discretize: discretize.checked }));
  const outCol = h('section', { class: 'out-col', 'aria-labelledby': 'h-out' },
    h('h2', { id: 'h-out' }, 'Output'),
    h('dl', { class: 'losses' },
      h('dt', {}, 'Test loss'), h('dd', {}, testLoss),
      h('dt', {}, 'Training loss'), h('dd', {}, trainLoss),
      h('dt', { class: 'acc-label' }, 'Test accuracy'), h('dd', { class: 'acc-value' }, accuracy)),
    chartCanvas,
    h('div', { class: 'heat-wrap' }, heatCanvas, h('div', { class: 'scale', 'aria-hidden': 'true' }, h('span', {}, '−1'), h('span', { class: 'bar' }), h('span', {}, '+1'))),
    h('div', { class: 'checks' },
      h('label', {}, showTest, ' Show test data (T)'),
      h('label', {}, discretize, ' Discretise output (D)')));

  const element = h('div', { class: 'playground' }, topbar, h('div', { class: 'main-grid' }, dataCol, netCol, outCol));

  // ---- keeping the views in step ----
  const drawHeat = () => {
    const s = app.settings, d = sess.data;
    heat.draw(sess.lastEval?.grid ?? null, { discretize: s.discretize, train: d.train, test: d.test, showTest: s.showTest, problem: s.problem });
  };
  const syncControls = () => {
    const s = app.settings;
    lrInput.value = String(s.lr);
    optSel.value = s.optimizer;
    actSel.value = s.activation;
    regSel.value = s.reg;
    regRate.value = String(s.regRate);
    regRate.disabled = s.reg === 'none';
    probSel.value = s.problem;
    backendSel.value = s.backend;
    ratio.value = String(s.trainPct); ratioOut.textContent = `${s.trainPct}%`;
    noise.value = String(s.noise); noiseOut.textContent = String(s.noise);
    batch.value = String(s.batch);
    showTest.checked = s.showTest;
    discretize.checked = s.discretize;
    for (const [id, b] of dsButtons) {
      b.setAttribute('aria-pressed', String(id === s.dataset));
      b.hidden = problemOf(id) !== s.problem;
    }
    accuracy.parentElement!.hidden = s.problem !== 'classification';
    element.querySelector('.acc-label')!.toggleAttribute('hidden', s.problem !== 'classification');
  };
  let lastStatsPaint = 0;
  const paintStats = (force = false) => {
    const now = performance.now();
    if (!force && now - lastStatsPaint < 200) return; // 5 Hz is readable; every frame is not
    lastStatsPaint = now;
    const st = sess.stats();
    stepCount.textContent = `${st.steps.toLocaleString('en')} · ${st.epochs.toFixed(1)}`;
    speed.textContent = st.stepsPerSec > 0 ? `${num(st.stepsPerSec)} steps/s · ${num(st.gflops)} GFLOP/s` : '–';
    speed.title = `matmul work per step (forward + backward, batch ${st.batch}): ${num(st.flopsPerStep / 1e6)} MFLOP`;
    if (playBtn.dataset.icon !== String(st.playing)) { playBtn.replaceChildren(icon(st.playing ? 'pause' : 'play')); playBtn.dataset.icon = String(st.playing); }
    playBtn.setAttribute('aria-label', st.playing ? 'Pause (Space)' : 'Play (Space)');
    playBtn.classList.toggle('playing', st.playing);
    element.dataset.backend = st.backend;
    running.textContent = `Running on ${LABELS[st.backend]}: ${dev.describe[st.backend]}`;
  };
  const paintEval = () => {
    const st = sess.stats();
    testLoss.textContent = num(st.testLoss);
    trainLoss.textContent = num(st.trainLoss);
    accuracy.textContent = Number.isFinite(st.testAcc) ? `${(100 * st.testAcc).toFixed(1)}%` : '–';
    chart.draw(sess.history);
    drawHeat();
    net.setEvaluation(sess.lastEval, app.settings.discretize);
    paintStats(true);
  };
  const notes = () => {
    const d = deviceInfo(), lines: string[] = [];
    if (d.webgpuIsSoftware) lines.push('WebGPU here is a software adapter (SwiftShader): it runs the shaders on the CPU, slower than WASM.');
    if (d.unavailable['wasm-threads']) lines.push(`WASM threads: ${d.unavailable['wasm-threads']}`);
    if (d.unavailable.webgpu) lines.push(`WebGPU: ${d.unavailable.webgpu}`);
    backendNotes.textContent = lines.join(' ');
    const big = app.settings.hidden.some((n) => n >= 64) && app.settings.batch >= 64;
    threadNote.textContent = sess.backend === 'wasm-threads' && !big
      ? 'WASM threads: lepton splits a product over threads only when each share is ≥ 2 MFLOP, so small nets run on one thread; try 256-neuron layers and batch 256.'
      : '';
  };
  running.after(backendNotes);

  sess.onEvent((e) => {
    if (e === 'net' || e === 'data') { net.build(app.settings); net.setWeights(sess.weights); heat.draw(null, { discretize: false, train: sess.data.train, test: sess.data.test, showTest: app.settings.showTest, problem: app.settings.problem }); syncControls(); notes(); }
    if (e === 'net') { chart.draw([]); testLoss.textContent = trainLoss.textContent = accuracy.textContent = '–'; paintStats(true); }
    if (e === 'stats') paintStats(!sess.playing);
    if (e === 'eval') paintEval();
    if (e === 'weights') net.setWeights(sess.weights);
    if (e === 'backend') { syncControls(); notes(); paintStats(true); }
    if (e === 'view') { syncControls(); drawHeat(); net.setEvaluation(sess.lastEval, app.settings.discretize); }
  });
  app.onChange(() => syncControls());

  net.build(app.settings);
  net.setWeights(sess.weights);
  syncControls();
  notes();
  paintStats(true);
  // The first picture before any training: an evaluation of the initial weights.
  void sess.exclusive(() => sess.evaluateNow(true)).catch((e) => app.messages.show(`Could not evaluate the network: ${(e as Error).message}`, 'error'));
  addEventListener('resize', () => { drawHeat(); chart.draw(sess.history); });

  return {
    element,
    show() { requestAnimationFrame(() => { net.layoutLinks(); drawHeat(); chart.draw(sess.history); }); },
    hide() { sess.pause(); },
    onKey(e) {
      switch (e.key) {
        case ' ': sess.toggle(); return true;
        case '.': void sess.step(); return true;
        case 'r': case 'R': sess.reset(); return true;
        case 'n': case 'N': regen.click(); return true;
        case 't': case 'T': change({ showTest: !app.settings.showTest }); return true;
        case 'd': case 'D': change({ discretize: !app.settings.discretize }); return true;
        default: return false;
      }
    },
    shortcuts: [['Space', 'play / pause'], ['.', 'one step'], ['R', 'reset (new initial weights)'], ['N', 'new data'], ['T', 'show test data'], ['D', 'discretise output']],
  };
}

export const playgroundTab: TabDef = { id: 'playground', title: 'Playground', create };
