// The Sequence tab: the addition transformer of `npm run demo:transformer`
// trained live in the page (lepton, on the page's backend), its loss and
// held-out accuracy curves, a box to type a problem into and watch the
// answer generated token by token, and the attention weights of every head
// of every block for that problem.
import { encodePrompt, parseProblem } from '../../examples/addition/data.js';
import type { App } from './app.js';
import { LossChart } from './charts.js';
import { deviceInfo, LABELS } from './devices.js';
import { field, h, icon, num, select } from './dom.js';
import { tokenLabels } from './sequence-generate.js';
import { HELD_OUT, SequenceSession, type SequenceStats } from './sequence-session.js';
import { AnswerView, drawAttention } from './sequence-views.js';
import { BACKENDS, LIMITS, type BackendChoice, type Settings } from './state.js';
import type { TabDef, TabInstance } from './tabs.js';
import { numberInput } from './number-input.js';

/** Time between answer tokens for a typed problem, so a person sees them come one by one. */
const PACE_MS = 150;

/** The tab's session and its answer, for the test hooks (created with the tab). */
export let sequence: { session: SequenceSession; settled(): Promise<unknown> } | null = null;

function create(app: App): TabInstance {
  const sess = new SequenceSession(app);
  const change = (patch: Partial<Settings>) => app.update(patch);

  // ---- run controls and settings ----
  const playBtn = h('button', { type: 'button', class: 'play', id: 'seq-play', 'aria-label': 'Train (Space)', title: 'Train / pause (Space)' }, icon('play'));
  const stepBtn = h('button', { type: 'button', class: 'round', id: 'seq-step', 'aria-label': 'One step (.)', title: 'One training step (.)' }, icon('step'));
  const resetBtn = h('button', { type: 'button', class: 'round', id: 'seq-reset', 'aria-label': 'Reset the model (R)', title: 'Reset: new initial weights (R)' }, icon('reset'));
  playBtn.addEventListener('click', () => sess.toggle());
  stepBtn.addEventListener('click', () => void sess.runSteps(1));
  resetBtn.addEventListener('click', () => sess.reset());
  const counter = h('output', { class: 'counter', id: 'seq-steps' }, '0');
  const lr = numberInput(app, 'seqLr', { id: 'seq-lr', min: LIMITS.seqLr[0], max: LIMITS.seqLr[1], step: 'any' });
  const batch = numberInput(app, 'seqBatch', { id: 'seq-batch', min: LIMITS.seqBatch[0], max: LIMITS.seqBatch[1], step: 1 });
  // Choices offered in the page; a link may name any value in range (it then joins the list).
  const choices = (base: number[], v: number) => [...new Set([...base, v])].sort((a, b) => a - b);
  const numSelect = (id: string, key: 'seqWidth' | 'seqLayers' | 'seqHeads', base: number[]) => {
    const s = select(choices(base, app.settings[key]).map((v) => ({ value: String(v), label: String(v) })), String(app.settings[key]), (v) => {
      const patch: Partial<Settings> = { [key]: Number(v) };
      // Heads must divide the width: a width that no longer fits takes the nearest that does.
      const heads = key === 'seqHeads' ? Number(v) : app.settings.seqHeads, width = key === 'seqWidth' ? Number(v) : app.settings.seqWidth;
      if (width % heads) patch.seqWidth = Math.max(heads, heads * Math.round(width / heads));
      change(patch);
    });
    s.id = id;
    return s;
  };
  const WIDTHS = [32, 64, 128], LAYERS = [1, 2, 3, 4], HEADS = [1, 2, 4, 8];
  const width = numSelect('seq-width', 'seqWidth', WIDTHS), layers = numSelect('seq-layers', 'seqLayers', LAYERS), heads = numSelect('seq-heads', 'seqHeads', HEADS);
  const dev = deviceInfo();
  const backend = select<BackendChoice>(BACKENDS.map((b) => ({
    value: b, label: b === 'auto' ? `Auto (${LABELS[dev.auto]})` : LABELS[b], disabled: b === 'auto' ? null : dev.unavailable[b],
  })), app.settings.backend, (v) => change({ backend: v }));
  backend.id = 'seq-backend';
  const speed = h('output', { class: 'speed', id: 'seq-speed' }, '–');
  const running = h('div', { class: 'running', id: 'seq-running-on' });
  const topbar = h('div', { class: 'topbar' },
    h('div', { class: 'run-controls' }, resetBtn, playBtn, stepBtn, h('div', { class: 'counter-box' }, h('span', { class: 'label' }, 'Steps'), counter)),
    field('Width', width), field('Blocks', layers), field('Heads', heads), field('Learning rate (AdamW)', lr), field('Batch', batch),
    h('div', { class: 'backend-box' }, field('Backend', backend), h('div', { class: 'speed-box' }, h('span', { class: 'label' }, 'Speed'), speed), running));

  // ---- the typed problem and its answer ----
  const problem = h('input', { type: 'text', id: 'seq-problem', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: '123+4567', maxlength: 20, value: '1234+5678' });
  const problemHint = h('p', { class: 'hint', id: 'seq-problem-hint' }, 'Two whole numbers of up to four digits joined by +.');
  const answer = new AnswerView();
  const askCol = h('section', { class: 'seq-ask-col', 'aria-labelledby': 'h-ask' },
    h('h2', { id: 'h-ask' }, 'Ask the model'), field('Problem', problem), problemHint, answer.element,
    h('p', { class: 'hint' }, 'The model reads the prompt “AAAA+BBBB=” (operands padded to four digits) and writes the sum’s five digits least significant first, the order in which carries arise; each digit it writes is read back to make the next.'));
  let asked: [number, number] | null = parseProblem(problem.value), typing: ReturnType<typeof setTimeout> | undefined;
  const ask = (pace: number) => { if (asked) void sess.ask(asked[0], asked[1], pace); };
  const onProblem = () => {
    const p = problem.value.trim() === '' ? null : parseProblem(problem.value);
    problem.setAttribute('aria-invalid', String(problem.value.trim() !== '' && !p));
    problemHint.textContent = p || problem.value.trim() === '' ? 'Two whole numbers of up to four digits joined by +.' : `“${problem.value}” is not a problem the model knows: type two whole numbers of up to four digits joined by +, e.g. 123+4567.`;
    asked = p;
    if (!p) { sess.cancelAsk(); answer.show(null, [], null); drawAttention(attention, null, []); return; }
    ask(PACE_MS);
  };
  problem.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(onProblem, 120); });
  problem.addEventListener('keydown', (e) => { if (e.key === 'Enter') { clearTimeout(typing); onProblem(); } });

  // ---- curves and figures ----
  const figure = (id: string) => h('output', { id }, '–');
  const heldAcc = figure('seq-accuracy'), trainLoss = figure('seq-train-loss'), params = figure('seq-params');
  const lossCanvas = h('canvas', { class: 'loss-chart', id: 'seq-loss-chart', role: 'img', 'aria-label': 'Training loss over steps' });
  const accCanvas = h('canvas', { class: 'loss-chart', id: 'seq-acc-chart', role: 'img', 'aria-label': 'Held-out exact-answer accuracy over steps, 0 to 100%' });
  const lossChart = new LossChart(lossCanvas), accChart = new LossChart(accCanvas, { top: 1 });
  const curves = h('section', { class: 'curves-col', 'aria-labelledby': 'h-seq-curves' },
    h('h2', { id: 'h-seq-curves' }, 'Training'),
    h('p', { class: 'hint' }, `Random problems up to 9999 + 9999 (a fixed tenth of all problems never trained on); accuracy: exact answers to ${HELD_OUT} of those held out, greedy generation.`),
    h('dl', { class: 'losses' },
      h('dt', {}, 'Held-out exact answers'), h('dd', {}, heldAcc),
      h('dt', {}, 'Training loss (answer digits)'), h('dd', {}, trainLoss),
      h('dt', {}, 'Parameters'), h('dd', {}, params)),
    h('span', { class: 'label' }, 'Loss'), lossCanvas, h('span', { class: 'label' }, 'Held-out accuracy'), accCanvas);

  const attention = h('div', { class: 'seq-attention', id: 'seq-attention' });
  const attnCol = h('section', { class: 'seq-attn-col', 'aria-labelledby': 'h-attn' },
    h('h2', { id: 'h-attn' }, 'Attention weights'),
    h('p', { class: 'hint' }, 'For the problem above: each row is a position reading (the token read there on the left), each column a position it may look at; darker is more weight, and each row sums to 1. Rows after the orange line are the ones writing answer digits.'),
    attention);

  const element = h('div', { class: 'sequence' }, topbar, h('div', { class: 'seq-grid' }, askCol, curves), attnCol);

  // ---- keeping the views in step ----
  const paintStats = (st: SequenceStats = sess.stats()) => {
    counter.textContent = st.steps.toLocaleString('en');
    speed.textContent = st.stepsPerSec > 0 ? `${num(st.stepsPerSec)} steps/s · ${num(st.problemsPerSec)} problems/s` : '–';
    playBtn.replaceChildren(icon(st.playing ? 'pause' : 'play'));
    playBtn.setAttribute('aria-label', st.playing ? 'Pause (Space)' : 'Train (Space)');
    playBtn.classList.toggle('playing', st.playing);
    running.textContent = `Running on ${LABELS[st.backend]}: ${dev.describe[st.backend]}`;
    element.dataset.backend = st.backend;
    trainLoss.textContent = num(st.trainLoss);
    params.textContent = st.parameters.toLocaleString('en');
    const steps = st.evaluatedFrom === st.evaluatedAt ? `step ${st.evaluatedAt}` : `steps ${st.evaluatedFrom}–${st.evaluatedAt}`;
    heldAcc.textContent = Number.isFinite(st.heldOutAcc) ? `${(100 * st.heldOutAcc).toFixed(1)}% (${steps})` : '–';
    lossChart.draw(sess.lossHistory);
    accChart.draw(sess.accHistory);
  };
  const paintAnswer = () => {
    const truth = asked ? asked[0] + asked[1] : null;
    answer.show(asked ? sess.answer?.prompt ?? encodePrompt(...asked) : null, sess.answer?.answer ?? sess.partial, truth);
    if (sess.answer && sess.maps) drawAttention(attention, sess.maps, tokenLabels([...sess.answer.prompt, ...sess.answer.answer]));
  };
  const sync = () => {
    const s = app.settings;
    lr.value = String(s.seqLr);
    batch.value = String(s.seqBatch);
    for (const [sel, key, base] of [[width, 'seqWidth', WIDTHS], [layers, 'seqLayers', LAYERS], [heads, 'seqHeads', HEADS]] as const) {
      sel.replaceChildren(...choices([...base], s[key]).map((v) => h('option', { value: String(v) }, String(v))));
      sel.value = String(s[key]);
    }
    backend.value = s.backend;
  };
  let lastPaint = 0;
  sess.onEvent((e) => {
    if (e === 'token' || e === 'answer') paintAnswer();
    // New weights: the typed problem is answered again (no pacing while training runs).
    if (e === 'net') { paintStats(); ask(sess.playing ? 0 : PACE_MS); }
    if (e === 'eval') { paintStats(); ask(0); }
    if (e === 'stats' && (!sess.playing || performance.now() - lastPaint > 200)) { lastPaint = performance.now(); paintStats(); }
  });
  app.onChange(sync);
  sync();
  paintStats();
  addEventListener('resize', () => { lossChart.draw(sess.lossHistory); accChart.draw(sess.accHistory); });

  sequence = {
    session: sess,
    /** Resolves, once everything queued (training, answers, maps) is done, to what the page shows. */
    settled: () => sess.exclusive(() => ({ partial: [...sess.partial], answer: sess.answer, layers: sess.maps?.layers ?? 0, heads: sess.maps?.heads ?? 0 })),
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
        default: return false;
      }
    },
    shortcuts: [['Space', 'train / pause'], ['.', 'one step'], ['R', 'reset (new initial weights)']],
  };
}

export const sequenceTab: TabDef = { id: 'sequence', title: 'Sequence', create };
