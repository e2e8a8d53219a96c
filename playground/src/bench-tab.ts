// Kernel bench in the browser: lepton's matmul at a few sizes and one MLP
// training step (784→256→256→10, batch 128, Adam) on each available backend.
// Warm-up first, then repetitions until a time budget, median reported;
// every timed region ends with the result read back, so queued GPU work is
// counted. Charts GFLOP/s per case and backend.
import { Generator, matmul, nn, optim, scope, tensor, type Tensor } from 'lepton';
import { mlpFlops } from '../../measure/flops.js';
import { median, sample } from '../../measure/timing.js';
import type { App } from './app.js';
import { barChart, type BarGroup } from './charts.js';
import { deviceInfo, deviceOf, LABELS, useThreads } from './devices.js';
import { h, nextFrame, num } from './dom.js';
import { RACE_BACKENDS, type RaceBackend } from './state.js';
import type { TabDef, TabInstance } from './tabs.js';

const SIZES = [64, 128, 256, 512, 1024];
const DEFAULT_SIZES = [64, 128, 256, 512];
const MLP_SIZES = [784, 256, 256, 10], MLP_BATCH = 128;
const COLOURS = ['#0877bd', '#f59322', '#5a9e3a'];

interface BenchCase { id: string; label: string; flops: number; kind: 'matmul' | 'mlp'; n?: number }
export interface BenchResult { case: string; backend: RaceBackend; ms: number | null; gflops: number | null; reps: number; error?: string }

function cases(sizes: number[], mlp: boolean): BenchCase[] {
  const list: BenchCase[] = sizes.map((n) => ({ id: `mm${n}`, label: `matmul ${n}³`, flops: 2 * n * n * n, kind: 'matmul', n }));
  if (mlp) list.push({ id: 'mlp', label: 'MLP step', flops: mlpFlops(MLP_SIZES, MLP_BATCH), kind: 'mlp' });
  return list;
}

const random = (n: number, seed: number) => { const g = new Generator(seed), v = new Float32Array(n); for (let i = 0; i < n; i++) v[i] = g.uniform(-1, 1); return v; };

/** A timed body for a case on a device; `dispose` frees its inputs. */
function prepareCase(c: BenchCase, backend: RaceBackend): { run: () => Promise<void>; dispose: () => void } {
  const device = deviceOf(backend);
  if (c.kind === 'matmul') {
    const n = c.n!, a = tensor(random(n * n, 1), [n, n], { device }), b = tensor(random(n * n, 2), [n, n], { device });
    return {
      run: async () => { const out = matmul(a, b); try { await out.data(); } finally { out.dispose(); } },
      dispose: () => { a.dispose(); b.dispose(); },
    };
  }
  const model = new nn.MLP(MLP_SIZES, { activation: 'relu', seed: 1, device });
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = tensor(random(MLP_BATCH * MLP_SIZES[0], 3), [MLP_BATCH, MLP_SIZES[0]], { device });
  const labels = Int32Array.from({ length: MLP_BATCH }, (_, i) => (i * 7) % 10);
  return {
    run: async () => {
      const l: Tensor = scope(() => {
        const out = nn.crossEntropy(model.forward(x), labels);
        opt.zeroGrad();
        out.backward();
        opt.step();
        return out;
      });
      try { await l.data(); } finally { l.dispose(); }
    },
    dispose: () => { model.dispose(); opt.dispose(); x.dispose(); },
  };
}

/** Warm-up (2 runs), then repetitions until `budgetMs` (at least 3, at most 30); the median time. */
async function timeCase(c: BenchCase, backend: RaceBackend, budgetMs: number): Promise<BenchResult> {
  const body = prepareCase(c, backend);
  try {
    // Another tab may change the thread setting between awaits: set it per call.
    const times = await sample(() => { useThreads(backend); return body.run(); }, { warmups: 2, min: 3, max: 30, budgetMs });
    const ms = median(times);
    return { case: c.id, backend, ms, gflops: c.flops / (ms * 1e6), reps: times.length };
  } finally {
    body.dispose();
  }
}

function create(app: App): TabInstance {
  const dev = deviceInfo();
  const results: BenchResult[] = [];
  let running = false;
  const backendBoxes = RACE_BACKENDS.map((b) => {
    const box = h('input', { type: 'checkbox', value: b, checked: !dev.unavailable[b], disabled: !!dev.unavailable[b], 'data-backend': b });
    return h('label', { title: dev.unavailable[b] ?? dev.describe[b] }, box, ` ${LABELS[b]}${dev.unavailable[b] ? ' (unavailable)' : ''}`);
  });
  const sizeBoxes = SIZES.map((n) => h('label', {}, h('input', { type: 'checkbox', value: String(n), checked: DEFAULT_SIZES.includes(n), 'data-size': n }), ` ${n}³`));
  const mlpBox = h('input', { type: 'checkbox', checked: true, id: 'bench-mlp' });
  const runBtn = h('button', { type: 'button', class: 'text-button primary', id: 'bench-run' }, 'Run bench');
  const progress = h('p', { class: 'progress', 'aria-live': 'polite', id: 'bench-progress' });
  const chartBox = h('div', { class: 'chart-box', id: 'bench-chart' });
  const table = h('table', { class: 'bench-table', id: 'bench-table' });

  const checked = (labels: HTMLElement[]) => labels.map((l) => l.querySelector('input')!).filter((i) => i.checked && !i.disabled).map((i) => i.value);

  const render = (list: BenchCase[], backends: RaceBackend[]) => {
    const names = backends.map((b) => LABELS[b]);
    const groups: BarGroup[] = list.map((c) => ({
      label: c.label,
      values: backends.map((b) => ({ series: LABELS[b], value: results.find((r) => r.case === c.id && r.backend === b)?.gflops ?? null })),
    }));
    chartBox.replaceChildren(barChart(groups, names, COLOURS, 'GFLOP/s'));
    table.replaceChildren(
      h('caption', {}, 'Median time per run (read-back included) and GFLOP/s'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'case'), ...names.map((n) => h('th', { scope: 'col' }, n)))),
      h('tbody', {}, ...list.map((c) => h('tr', {}, h('th', { scope: 'row' }, c.label), ...backends.map((b) => {
        const r = results.find((x) => x.case === c.id && x.backend === b);
        return h('td', {}, !r ? '…' : r.error ? `failed: ${r.error}` : `${num(r.ms!)} ms · ${num(r.gflops!)} GFLOP/s`);
      })))));
  };

  /** Runs the bench; also the test hook. */
  async function run(opts: { sizes?: number[]; mlp?: boolean; backends?: RaceBackend[]; budgetMs?: number } = {}): Promise<BenchResult[]> {
    if (running) return results;
    running = true;
    runBtn.disabled = true;
    results.length = 0;
    const list = cases(opts.sizes ?? checked(sizeBoxes).map(Number), opts.mlp ?? mlpBox.checked);
    const backends = (opts.backends ?? (checked(backendBoxes) as RaceBackend[])).filter((b) => !dev.unavailable[b]);
    render(list, backends);
    try {
      for (const c of list) {
        for (const b of backends) {
          progress.textContent = `Timing ${c.label} on ${LABELS[b]}…`;
          await nextFrame(); // let the page paint between cases
          try {
            results.push(await timeCase(c, b, opts.budgetMs ?? 400));
          } catch (e) {
            results.push({ case: c.id, backend: b, ms: null, gflops: null, reps: 0, error: (e as Error).message });
            app.messages.show(`Bench ${c.label} on ${LABELS[b]} failed: ${(e as Error).message}`, 'error');
          }
          render(list, backends);
        }
      }
      progress.textContent = list.length && backends.length ? `Done: ${list.length} cases on ${backends.length} backend(s).` : 'Nothing to run: pick at least one size or the MLP step, and one backend.';
    } finally {
      running = false;
      runBtn.disabled = false;
    }
    return [...results];
  }
  runBtn.addEventListener('click', () => void run());
  (globalThis as { __bench?: unknown }).__bench = run;

  const element = h('div', { class: 'bench' },
    h('p', { class: 'intro' }, 'lepton\'s kernels timed in this browser: square matmuls and one MLP training step (784→256→256→10, batch 128, Adam; forward, backward and update). Two warm-up runs, then repetitions for about 0.4 s; the median is shown. Every timed run ends with its result read back. FLOPs count the matrix products (2·M·N·K each).'),
    h('fieldset', {}, h('legend', {}, 'Backends'), ...backendBoxes),
    h('fieldset', {}, h('legend', {}, 'Cases'), ...sizeBoxes, h('label', {}, mlpBox, ' MLP step')),
    runBtn, progress, chartBox, table);
  return { element, onKey(e) { if (e.key === ' ') { runBtn.click(); return true; } return false; }, shortcuts: [['Space', 'run the bench']] };
}

export const benchTab: TabDef = { id: 'bench', title: 'Kernel bench', create };
