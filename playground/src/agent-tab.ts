// The Agent tab: PPO learns CartPole (or Pendulum) live in the page on the
// page's backend; the environment is drawn as the agent trains (its first
// training environment) and when watching one greedy episode at real-time
// speed; the return curve beside it.
import type { App } from './app.js';
import { AgentSession, ENV_IDS, GOAL, RENDER_FPS, type AgentStats } from './agent-session.js';
import { drawEnv, drawReturns } from './agent-views.js';
import { deviceInfo, LABELS } from './devices.js';
import { field, h, icon, num, select } from './dom.js';
import { AGENT_DEFAULTS, AGENT_ENVS, BACKENDS, LIMITS, type AgentEnvName, type BackendChoice, type Settings } from './state.js';
import type { TabDef, TabInstance } from './tabs.js';
import { numberInput } from './number-input.js';

/** The tab's session, for the test hooks (created with the tab). */
export let agent: AgentSession | null = null;

function create(app: App): TabInstance {
  const sess = new AgentSession(app);
  agent = sess;
  const change = (patch: Partial<Settings>) => app.update(patch);

  // ---- run controls and settings ----
  const playBtn = h('button', { type: 'button', class: 'play', id: 'agent-play', 'aria-label': 'Train (Space)', title: 'Train / pause (Space)' }, icon('play'));
  const resetBtn = h('button', { type: 'button', class: 'round', id: 'agent-reset', 'aria-label': 'Reset the agent (R)', title: 'Reset: the next seed, new weights, training from step 0 (R)' }, icon('reset'));
  const stepBtn = h('button', { type: 'button', class: 'round', id: 'agent-step', 'aria-label': 'One update (.)', title: 'One PPO update: a rollout, then the epochs (.)' }, icon('step'));
  const watchBtn = h('button', { type: 'button', class: 'text-button', id: 'agent-watch', title: 'Play one episode of the current policy (its most likely actions) in real time (W)' }, 'Watch policy');
  playBtn.addEventListener('click', () => sess.toggle());
  resetBtn.addEventListener('click', () => sess.reset());
  stepBtn.addEventListener('click', () => void sess.runUpdates(1));
  watchBtn.addEventListener('click', () => { if (sess.watching) sess.stopWatch(); else void sess.watch(); });
  const counter = h('output', { class: 'counter', id: 'agent-updates' }, '0');
  const envSel = select<AgentEnvName>(AGENT_ENVS.map((e) => ({ value: e, label: ENV_IDS[e] })), app.settings.agentEnv,
    (v) => change({ agentEnv: v, ...AGENT_DEFAULTS[v] })); // each environment brings its own settings
  envSel.id = 'agent-env';
  const envs = numberInput(app, 'agentEnvs', { id: 'agent-envs', min: LIMITS.agentEnvs[0], max: LIMITS.agentEnvs[1], step: 1 });
  const steps = numberInput(app, 'agentSteps', { id: 'agent-steps', min: LIMITS.agentSteps[0], max: LIMITS.agentSteps[1], step: 1 });
  const lr = numberInput(app, 'agentLr', { id: 'agent-lr', min: LIMITS.agentLr[0], max: LIMITS.agentLr[1], step: 'any' });
  const seed = numberInput(app, 'agentSeed', { id: 'agent-seed', min: LIMITS.seed[0], max: LIMITS.seed[1], step: 1 });
  const perUpdate = h('span', { class: 'hint', id: 'agent-per-update' });
  const dev = deviceInfo();
  const backend = select<BackendChoice>(BACKENDS.map((b) => ({
    value: b, label: b === 'auto' ? `Auto (${LABELS[dev.auto]})` : LABELS[b], disabled: b === 'auto' ? null : dev.unavailable[b],
  })), app.settings.backend, (v) => change({ backend: v }));
  backend.id = 'agent-backend';
  const speed = h('output', { class: 'speed', id: 'agent-speed' }, '–');
  const running = h('div', { class: 'running', id: 'agent-running-on' });
  const topbar = h('div', { class: 'topbar' },
    h('div', { class: 'run-controls' }, resetBtn, playBtn, stepBtn, watchBtn, h('div', { class: 'counter-box' }, h('span', { class: 'label' }, 'Updates · steps'), counter)),
    field('Environment', envSel), field('Environments', envs), h('div', { class: 'field' }, field('Steps each per update', steps), perUpdate),
    field('Learning rate (Adam)', lr), field('Seed', seed),
    h('div', { class: 'backend-box' }, field('Backend', backend), h('div', { class: 'speed-box' }, h('span', { class: 'label' }, 'Speed'), speed), running));

  // ---- the environment ----
  const envCanvas = h('canvas', { class: 'agent-canvas', id: 'agent-canvas', role: 'img', 'aria-label': 'The environment: the cart and pole (or the pendulum)' });
  const caption = h('output', { class: 'hint', id: 'agent-view-caption' }, '');
  const envCol = h('section', { class: 'agent-env-col', 'aria-labelledby': 'h-agent-env' }, h('h2', { id: 'h-agent-env' }, 'Environment'), envCanvas, caption);

  // ---- returns ----
  const figure = (id: string) => h('output', { id }, '–');
  const mean100 = figure('agent-mean-return'), lastMean = figure('agent-last-mean'), episodes = figure('agent-episodes'), watched = figure('agent-watch-return');
  const chart = h('canvas', { class: 'return-chart', id: 'agent-returns', role: 'img', 'aria-label': 'Return per episode (dots) and mean return per update (line) over environment steps; the dashed line is the solved level' });
  const goalText = h('p', { class: 'hint', id: 'agent-goal' });
  const curves = h('section', { class: 'agent-curves-col', 'aria-labelledby': 'h-agent-returns' },
    h('h2', { id: 'h-agent-returns' }, 'Return'),
    h('dl', { class: 'losses' },
      h('dt', {}, 'Mean of the last 100 episodes'), h('dd', {}, mean100),
      h('dt', {}, 'Mean in the last update'), h('dd', {}, lastMean),
      h('dt', {}, 'Training episodes'), h('dd', {}, episodes),
      h('dt', {}, 'Last watched episode'), h('dd', {}, watched)),
    chart, goalText);

  const element = h('div', { class: 'agent' }, topbar, h('div', { class: 'agent-grid' }, envCol, curves));

  // ---- keeping the views in step ----
  const paintStats = (st: AgentStats = sess.stats()) => {
    counter.textContent = `${st.updates.toLocaleString('en')} · ${st.steps.toLocaleString('en')}`;
    speed.textContent = st.stepsPerSec > 0 ? `${num(st.stepsPerSec)} env steps/s` : '–';
    playBtn.replaceChildren(icon(st.playing ? 'pause' : 'play'));
    playBtn.setAttribute('aria-label', st.playing ? 'Pause (Space)' : 'Train (Space)');
    playBtn.classList.toggle('playing', st.playing);
    watchBtn.textContent = st.watching ? 'Stop watching' : 'Watch policy';
    watchBtn.setAttribute('aria-pressed', String(st.watching));
    running.textContent = `Running on ${LABELS[st.backend]}: ${dev.describe[st.backend]}`;
    element.dataset.backend = st.backend;
    mean100.textContent = num(st.meanReturn);
    lastMean.textContent = num(st.lastMean);
    episodes.textContent = st.episodes.toLocaleString('en');
    watched.textContent = st.watchSteps > 0 ? `${num(st.watchReturn)} (${st.watchSteps} steps${st.watching ? ', playing' : ''})` : '–';
    const s = app.settings;
    perUpdate.textContent = `= ${(s.agentEnvs * s.agentSteps).toLocaleString('en')} steps per update`;
    goalText.textContent = `${ENV_IDS[st.env]} counts as solved at a mean return ${st.env === 'cartpole' ? '≥' : '>'} ${GOAL[st.env]} over 100 episodes (dashed).`;
  };
  const paintChart = () => {
    const env = sess.env;
    drawReturns(chart, sess.updates, sess.episodes, env === 'cartpole' ? { lo: 0, hi: 500, goal: GOAL.cartpole } : { lo: -1500, hi: 0, goal: GOAL.pendulum });
  };
  let drawn: unknown = null;
  const paintEnv = (force = false) => {
    const v = sess.view;
    if (!force && v === drawn) return;
    drawn = v;
    drawEnv(envCanvas, v);
    const st = sess.stats();
    caption.textContent = v.source === 'watch'
      ? `${st.watching ? 'Watching' : 'Watched'} the policy (greedy) at ${RENDER_FPS[v.env]} steps/s: step ${st.watchSteps}, return ${num(st.watchReturn)}${st.watching ? '' : ' (stopped or over)'}`
      : v.source === 'training' ? `Training: environment 1 of ${sess.ppo?.cfg.numEnvs ?? '–'}, as it is at each frame (many steps apart)`
        : 'Press train, or watch the current policy play one episode.';
  };
  const sync = () => {
    const s = app.settings;
    envSel.value = s.agentEnv;
    envs.value = String(s.agentEnvs);
    steps.value = String(s.agentSteps);
    lr.value = String(s.agentLr);
    seed.value = String(s.agentSeed);
    backend.value = s.backend;
  };
  let lastPaint = 0;
  sess.onEvent((e) => {
    if (e === 'net') { paintChart(); paintEnv(true); paintStats(); return; }
    if (e === 'update' && (!sess.playing || performance.now() - lastPaint > 150)) { lastPaint = performance.now(); paintChart(); paintStats(); return; }
    if (e === 'stats' || e === 'error') { paintStats(); paintEnv(true); }
  });
  app.onChange(() => { sync(); paintStats(); });
  sync();

  // The canvas follows the session's view once per animation frame while the tab is shown.
  let visible = false;
  const frame = () => {
    if (!visible) return;
    paintEnv();
    if (sess.watching) paintStats();
    requestAnimationFrame(frame);
  };
  addEventListener('resize', () => { if (visible) { paintChart(); paintEnv(true); } });

  return {
    element,
    show() {
      visible = true;
      requestAnimationFrame(() => { paintStats(); paintChart(); paintEnv(true); frame(); });
    },
    hide() { visible = false; sess.pause(); sess.stopWatch(); },
    onKey(e) {
      switch (e.key) {
        case ' ': sess.toggle(); return true;
        case '.': void sess.runUpdates(1); return true;
        case 'w': case 'W': watchBtn.click(); return true;
        case 'r': case 'R': sess.reset(); return true;
        default: return false;
      }
    },
    shortcuts: [['Space', 'train / pause'], ['.', 'one update'], ['W', 'watch the policy play one episode (again: stop)'], ['R', 'reset (the next seed)']],
  };
}

export const agentTab: TabDef = { id: 'agent', title: 'Agent', create };
