// Boots the playground: finds the backends, reads the settings from the URL,
// builds the tabs, wires the keyboard, and exposes small test hooks.
import { agent, agentTab } from './agent-tab.js';
import { App } from './app.js';
import { benchTab } from './bench-tab.js';
import { deviceInfo, loseWebGPUDevice, probeDevices } from './devices.js';
import { digits, digitsTab } from './digits-tab.js';
import { h } from './dom.js';
import { playgroundTab, session } from './playground-tab.js';
import { raceTab } from './race.js';
import { sequence, sequenceTab } from './sequence-tab.js';
import { parseSettings, type Settings } from './state.js';
import { Tabs, type TabDef } from './tabs.js';

/** The tabs, in order. A new tab (digits, sequences) is one module and one entry here. */
const TABS: TabDef[] = [playgroundTab, raceTab, benchTab, digitsTab, sequenceTab, agentTab];

/** Keys handled by the page itself, whatever tab is shown. */
const GLOBAL_SHORTCUTS: [string, string][] = [[TABS.map((_, i) => i + 1).join(' / '), 'switch tab'], ['?', 'show / hide this list']];

const isEditable = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement
  || (t instanceof HTMLInputElement && !['checkbox', 'radio', 'range', 'button'].includes(t.type)));

async function boot(root: HTMLElement): Promise<void> {
  const status = h('p', { class: 'booting', role: 'status' }, 'Starting lepton’s backends…');
  root.replaceChildren(status);
  const devices = await probeDevices();
  const parsed = parseSettings(location.hash, TABS.map((t) => t.id));
  const app = new App(parsed.value, devices);
  const tabs = new Tabs(TABS, app);

  const help = h('section', { class: 'shortcuts', id: 'shortcuts', 'aria-labelledby': 'h-keys', hidden: true });
  const fillHelp = () => {
    const own = tabs.active()?.shortcuts ?? [];
    help.replaceChildren(h('h2', { id: 'h-keys' }, 'Keyboard'),
      h('p', {}, 'Every control is reachable with Tab and works with Enter, Space and the arrow keys. Shortcuts (when the focus is not in a text field):'),
      h('dl', {}, ...[...own, ...GLOBAL_SHORTCUTS].flatMap(([k, v]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, v)])));
  };
  const helpBtn = h('button', { type: 'button', class: 'text-button', id: 'help', 'aria-expanded': 'false', 'aria-controls': 'shortcuts', title: 'Keyboard shortcuts (?)' }, 'Keyboard ?');
  const toggleHelp = () => {
    fillHelp();
    help.hidden = !help.hidden;
    helpBtn.setAttribute('aria-expanded', String(!help.hidden));
  };
  helpBtn.addEventListener('click', toggleHelp);

  const header = h('header', { class: 'site' },
    h('div', { class: 'brand' }, h('h1', {}, 'lepton ', h('span', {}, 'playground')),
      h('p', { class: 'tagline' }, 'Train a neural network in your browser, on lepton’s WebGPU and WebAssembly kernels.')),
    tabs.nav, helpBtn);
  const footer = h('footer', { class: 'site' },
    h('p', {}, 'Keyboard: ', h('kbd', {}, 'Space'), ' play / pause · ', h('kbd', {}, '.'), ' step · ', h('kbd', {}, 'R'), ' reset · ',
      h('kbd', {}, '1'), '–', h('kbd', {}, String(TABS.length)), ' tabs · ', h('kbd', {}, '?'), ' all shortcuts. Every control is reachable with Tab.'),
    h('p', {}, 'Ideas from the TensorFlow Playground (Smilkov & Carter); every number here comes from lepton’s own kernels. Settings live in the URL: copy it to share the setup.'));
  root.replaceChildren(h('a', { class: 'skip', href: '#panel-playground' }, 'Skip to the playground'), header, app.messages.element, help, tabs.panels, footer);

  if (parsed.problems.length) app.messages.show(`Some settings in the link were out of range or unknown and were corrected: ${parsed.problems.join('; ')}.`, 'warning', 'url');
  // (A link that asks for WebGPU gets its own message from the session.)
  if (devices.unavailable.webgpu && app.settings.backend !== 'webgpu') app.messages.show(`WebGPU is unavailable, so the WASM kernels run everything: ${devices.unavailable.webgpu}`, 'warning', 'no-webgpu');
  // The playground tab owns the training session the other tabs and the hooks use: make it first.
  tabs.instance('playground');
  tabs.select(parsed.value.tab);
  app.writeUrl();

  // A link pasted into this tab changes only the hash: apply it like a fresh load.
  addEventListener('hashchange', () => {
    const p = parseSettings(location.hash, TABS.map((t) => t.id));
    if (p.problems.length) app.messages.show(`Corrected settings from the link: ${p.problems.join('; ')}.`, 'warning', 'url');
    app.update(p.value);
    tabs.select(p.value.tab);
  });

  addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isEditable(e.target)) return;
    // Space on a focused button or checkbox activates it, as everywhere else.
    if (e.key === ' ' && e.target instanceof HTMLElement && e.target.closest('button, input, a, summary')) return;
    if (e.key === '?') { toggleHelp(); e.preventDefault(); return; }
    const n = Number(e.key);
    if (Number.isInteger(n) && n >= 1 && n <= TABS.length) { tabs.select(TABS[n - 1].id); e.preventDefault(); return; }
    if (tabs.active()?.onKey?.(e)) e.preventDefault();
  });

  // Test hooks (the end-to-end test reads numbers here instead of scraping the page).
  const g = globalThis as Record<string, unknown>;
  Object.assign(g.__playground as object, {
    app,
    settings: (): Settings => app.settings,
    update: (patch: Partial<Settings>) => app.update(patch),
    stats: () => session!.stats(),
    /** Resolves when the work queued so far (rebuilds after a settings change, evaluations) is done. */
    idle: () => session!.exclusive(() => session!.stats()),
    runSteps: (n: number) => session!.runSteps(n),
    /** The heatmap's values of the last evaluation (the network's predictions over the grid). */
    grid: () => Array.from(session!.lastEval?.grid ?? []),
    play: () => session!.play(),
    pause: () => session!.pause(),
    selectTab: (id: string) => tabs.select(id),
    messages: () => app.messages.texts(),
    devices: () => deviceInfo(),
    /** Loses lepton's GPUDevice (testing.loseDevice): a real device loss, which lepton recovers from; `permanent`: no GPU comes back. */
    loseWebGPUDevice,
    // Racing and benching open their tab first (tabs are created when first shown).
    race: (ms: number) => { tabs.select('race'); return (g.__race as (ms: number) => Promise<unknown>)(ms); },
    bench: (opts: unknown) => { tabs.select('bench'); return (g.__bench as (o: unknown) => Promise<unknown>)(opts); },
    /** The Digits tab (opened first): its session, pad and the last drawing's probabilities. */
    digits: {
      open: () => { tabs.select('digits'); return digits!.session.ready.then(() => digits!.session.stats()); },
      stats: () => digits!.session.stats(),
      runSteps: (n: number) => digits!.session.runSteps(n),
      evaluate: () => digits!.session.evaluate(),
      play: () => digits!.session.play(),
      pause: () => digits!.session.pause(),
      /** Resolves, once the predictions for the drawing so far are shown, to its ten probabilities (null: blank pad). */
      settled: () => digits!.settled(),
      image: () => (digits!.pad.image ? Array.from(digits!.pad.image) : null),
      mistakes: () => digits!.session.mistakes,
      filters: () => Array.from(digits!.session.filters ?? []),
    },
    /** The Sequence tab (opened first): its session, and what the page shows once queued work is done. */
    sequence: {
      open: () => { tabs.select('sequence'); return sequence!.settled(); },
      stats: () => sequence!.session.stats(),
      runSteps: (n: number) => sequence!.session.runSteps(n),
      evaluate: () => sequence!.session.evaluate(),
      play: () => sequence!.session.play(),
      pause: () => sequence!.session.pause(),
      settled: () => sequence!.settled(),
    },
    /** The Agent tab (opened first): its PPO session, the return history, watching an episode. */
    agent: {
      open: () => { tabs.select('agent'); return agent!.exclusive(() => agent!.stats()); },
      stats: () => agent!.stats(),
      /** Resolves when the work queued so far (a rebuild after a settings change) is done. */
      idle: () => agent!.exclusive(() => agent!.stats()),
      runUpdates: (n: number) => agent!.runUpdates(n),
      play: () => agent!.play(),
      pause: () => agent!.pause(),
      watch: () => agent!.watch(),
      stopWatch: () => agent!.stopWatch(),
      history: () => ({ updates: agent!.updates.map((u) => u.mean), episodes: agent!.episodes.map((e) => e.ret) }),
    },
  });
}

const root = document.getElementById('app')!;
const hooks: Record<string, unknown> = {};
(globalThis as Record<string, unknown>).__playground = hooks;
hooks.ready = boot(root).catch((e: Error) => {
  root.prepend(h('div', { class: 'fatal', role: 'alert' }, h('strong', {}, 'The playground could not start: '), e.message));
  throw e;
});
