// Turns the results of one bench run into tables (Markdown, for the terminal
// and bench/README.md), a check of the speed targets, and an HTML page with
// one SVG bar chart per problem.
import type { Config } from './configs.js';
import type { Result } from './harness.js';
import type { Problem } from './problems.js';
import { useWinograd } from '../src/backends/primitives/conv.js';

export interface Report {
  date: string;
  quick: boolean;
  /** Rounds of every process (run.ts --rounds); each cell is its fastest round's. */
  rounds?: number;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string };
  ceilings: { simd: number; relaxed: number | null };
  peakGflops: number | null;
  configs: (Config & { description: string })[];
  problems: Problem[];
  results: Result[];
}

const gflops = (p: Problem, ms: number) => p.flops / (ms * 1e6);
const fmtMs = (ms: number) => (ms < 1 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(0));

function get(r: Report, config: string, problem: string): Result | undefined {
  return r.results.find((x) => x.config === config && x.problem === problem && x.medianMs !== undefined);
}

/** The WASM ceiling for a config: relaxed_madd where measured (the fastest the engine offers), per thread. */
function ceilingFor(r: Report, c: Config): number | null {
  if (c.family !== 'wasm') return null;
  const one = r.ceilings.relaxed ?? r.ceilings.simd;
  const threads = c.threads === 0 ? threadsOf(r, c) : c.threads;
  return one * threads;
}

function threadsOf(r: Report, c: Config): number {
  const m = /(\d+) threads?/.exec(r.configs.find((x) => x.name === c.name)?.description ?? '');
  return m ? Number(m[1]) : r.machine.cores;
}

/** The best (lowest median) config among `names` for a problem. */
function best(r: Report, p: Problem, names: string[]): { name: string; ms: number } | null {
  let out: { name: string; ms: number } | null = null;
  for (const n of names) {
    const x = get(r, n, p.id);
    if (x && (!out || x.medianMs! < out.ms)) out = { name: n, ms: x.medianMs! };
  }
  return out;
}

function peers(r: Report, family: string, singleThread: boolean): string[] {
  return r.configs.filter((c) => c.lib !== 'lepton' && c.family === family && (!singleThread || c.threads === 1)).map((c) => c.name);
}

function table(rows: string[][], align: ('l' | 'r')[]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => (align[i] === 'l' ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |';
  const sep = '|' + w.map((n, i) => (align[i] === 'l' ? ':' + '-'.repeat(n + 1) : '-'.repeat(n + 1) + ':')).join('|') + '|';
  return [line(rows[0]), sep, ...rows.slice(1).map(line)].join('\n');
}

/** lepton config → the peers it is compared with. */
function comparisons(r: Report): [string, string[], string][] {
  const have = (n: string) => r.configs.some((c) => c.name === n);
  const out: [string, string[], string][] = [];
  if (have('lepton wasm 1T')) out.push(['lepton wasm 1T', peers(r, 'wasm', true), 'best 1-thread WASM peer']);
  if (have('lepton wasm MT')) out.push(['lepton wasm MT', peers(r, 'wasm', false), 'best WASM peer, any threads']);
  if (have('lepton webgpu')) out.push(['lepton webgpu', peers(r, 'webgpu', false), 'best WebGPU peer']);
  return out;
}

export function tables(r: Report): string {
  const parts: string[] = [];
  for (const p of r.problems) {
    const head = ['config', 'median ms', 'min–max ms', 'GFLOP/s', 'share of ceiling'];
    if (r.peakGflops) head.push('share of GPU peak');
    // Attention: the bytes one call allocates above its inputs (the S×S scores, for a composed attention).
    const withPeak = p.kind === 'attention';
    if (withPeak) head.push('peak MiB');
    const rows: string[][] = [head];
    for (const c of r.configs) {
      const x = r.results.find((y) => y.config === c.name && y.problem === p.id);
      if (!x) continue;
      if (x.medianMs === undefined) {
        rows.push([c.name, x.skipped ? `skipped: ${x.skipped}` : `error: ${x.error}`, '', '', '', ...(r.peakGflops ? [''] : []), ...(withPeak ? [''] : [])].map((s) => s.slice(0, 60)));
        continue;
      }
      const g = gflops(p, x.medianMs);
      const ceil = ceilingFor(r, c);
      rows.push([
        c.name, fmtMs(x.medianMs), `${fmtMs(x.minMs!)}–${fmtMs(x.maxMs!)}`, g.toFixed(2),
        ceil ? `${((g / ceil) * 100).toFixed(0)}%` : '',
        ...(r.peakGflops ? [c.family === 'webgpu' ? `${((g / r.peakGflops) * 100).toFixed(1)}%` : ''] : []),
        ...(withPeak ? [x.peakBytes !== undefined ? (x.peakBytes / 2 ** 20).toFixed(1) : '–'] : []),
      ]);
    }
    const notes: string[] = [];
    for (const [mine, others, what] of comparisons(r)) {
      const m = get(r, mine, p.id), b = best(r, p, others);
      if (m && b) notes.push(`${mine} vs ${what} (${b.name}): **${(b.ms / m.medianMs!).toFixed(2)}×**`);
    }
    // All conv problems are stride 1, dilation 1, 'same' (bench/conv-problems.ts).
    const geom = p.kind === 'conv' && !p.depthwise && { N: p.N, H: p.H, W: p.W, C: p.C, Ho: p.H, Wo: p.W, O: p.O, Kh: p.K, Kw: p.K,
      sh: 1, sw: 1, dh: 1, dw: 1, padTop: (p.K - 1) >> 1, padLeft: (p.K - 1) >> 1, groups: 1 };
    if (geom && !p.backward && useWinograd(geom)) {
      notes.push('lepton WASM computes this 3×3 forward as Winograd F(2×2, 3×3), 2.25× fewer multiply-adds than the direct product: '
        + 'GFLOP/s count the direct product (the issue\'s formula), so its share of the ceiling can pass 100%.');
    }
    const checks = checkMismatch(r, p);
    parts.push(`### ${p.name} (${(p.flops / 1e9).toFixed(3)} GFLOP)\n\n${table(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r'])}\n\n${notes.join('  \n')}${checks}\n`);
  }
  return parts.join('\n');
}

/** Flags a library whose result differs from lepton's (same inputs): a benchmark of the wrong thing. */
function checkMismatch(r: Report, p: Problem): string {
  if (p.kind === 'mlp' || p.kind === 'cnn' || p.kind === 'transformer') return ''; // a step's loss depends on how many steps ran before
  const ref = r.results.find((x) => x.config === 'lepton wasm 1T' && x.problem === p.id)?.check;
  if (ref === undefined) return '';
  // The checked result's element count: C for a matmul, y (or, backward, dx) for a convolution.
  const n = p.kind === 'matmul' ? p.M * p.N : p.kind === 'attention' ? p.heads * p.seq * p.headDim : 'rows' in p ? p.rows * p.cols : p.N * p.H * p.W * (p.backward ? p.C : p.O);
  const bad = r.results.filter((x) => x.problem === p.id && x.check !== undefined && Math.abs(x.check - ref) > 1e-3 * (Math.abs(ref) + Math.sqrt(n)));
  return bad.length ? `  \n⚠ result differs from lepton's: ${bad.map((x) => `${x.config} (${x.check} vs ${ref})`).join(', ')}` : '';
}

/** One row per problem, one column per config: GFLOP/s of the median call (the compact view). */
export function summary(r: Report): string {
  const head = ['problem', ...r.configs.map((c) => c.name)];
  const rows = r.problems.map((p) => [p.name.replace('MLP step 784-256-256-10 b128', 'MLP step'), ...r.configs.map((c) => {
    const x = get(r, c.name, p.id);
    return x ? gflops(p, x.medianMs!).toFixed(1) : '–';
  })]);
  return `GFLOP/s (median call, readback included; – = skipped or n/a)\n\n${table([head, ...rows], ['l', ...r.configs.map(() => 'r' as const)])}\n`;
}

interface Target { what: string; ok: boolean | null; detail: string }

export function targetList(r: Report): Target[] {
  const out: Target[] = [];
  const squares = r.problems.filter((p) => p.kind === 'matmul' && p.M === p.N && p.N === p.K && p.M >= 256);
  const ratio = (a: string, b: string, p: Problem) => {
    const x = get(r, a, p.id), y = get(r, b, p.id);
    return x && y ? y.medianMs! / x.medianMs! : null;
  };
  const each = (what: string, min: number, f: (p: Problem) => number | null, list: Problem[], unit = '×') => {
    const vals = list.map((p) => [p, f(p)] as const);
    const known = vals.filter(([, v]) => v !== null);
    const ok = known.length === 0 ? null : known.every(([, v]) => v! >= min);
    out.push({ what, ok, detail: vals.map(([p, v]) => `${p.name.replace('matmul ', '')}: ${v === null ? 'n/a' : unit === '%' ? `${(v * 100).toFixed(0)}%` : `${v.toFixed(2)}×`}`).join(', ') });
  };
  each('WASM 1 thread ≥ 1.6× tfjs-wasm, square 256–2048', 1.6, (p) => ratio('lepton wasm 1T', 'tfjs wasm', p), squares);
  const ceil = r.ceilings.relaxed ?? r.ceilings.simd;
  each(`WASM 1 thread ≥ 85% of the ${r.ceilings.relaxed ? 'relaxed_madd' : 'mul+add'} ceiling (${ceil.toFixed(1)} GFLOP/s), square 256–2048`, 0.85,
    (p) => { const x = get(r, 'lepton wasm 1T', p.id); return x ? gflops(p, x.medianMs!) / ceil : null; }, squares, '%');
  each('WASM all threads ≥ 1.8× one thread (2 cores), square 256–2048', 1.8, (p) => ratio('lepton wasm MT', 'lepton wasm 1T', p), squares);
  const sgd = r.problems.filter((p) => p.id === 'mlp-sgd');
  // lepton's default WASM config uses every core; the peers here run one thread in Node.
  each('SGD step (WASM, lepton default: all threads) ≥ 2× jax-js wasm jit(step)', 2, (p) => ratio('lepton wasm MT', 'jax wasm jit', p), sgd);
  each('SGD step (WASM, lepton default: all threads) ≥ 5× tfjs-wasm', 5, (p) => ratio('lepton wasm MT', 'tfjs wasm', p), sgd);
  each('SGD step (WASM 1 thread) ≥ 2× jax-js wasm jit(step)', 2, (p) => ratio('lepton wasm 1T', 'jax wasm jit', p), sgd);
  each('SGD step (WASM 1 thread) ≥ 5× tfjs-wasm', 5, (p) => ratio('lepton wasm 1T', 'tfjs wasm', p), sgd);
  // Convolutions (issue: convolution): the forward on one thread against the best one-thread peer, and
  // the ResNet shape against the relaxed-SIMD ceiling.
  const convFwd = r.problems.filter((p) => p.kind === 'conv' && !p.backward);
  const bestPeer1T = (p: Problem) => {
    const m = get(r, 'lepton wasm 1T', p.id), b = best(r, p, peers(r, 'wasm', true));
    return m && b ? b.ms / m.medianMs! : null;
  };
  each('conv forward, WASM 1 thread ≥ 1.3× the best 1-thread WASM peer', 1.3, bestPeer1T, convFwd);
  const resnet = convFwd.filter((p) => p.kind === 'conv' && p.C === 64 && p.O === 64 && p.H === 56 && !p.depthwise);
  each(`conv forward ResNet shape, WASM 1 thread ≥ 80% of the ${r.ceilings.relaxed ? 'relaxed_madd' : 'mul+add'} ceiling`, 0.8,
    (p) => { const x = get(r, 'lepton wasm 1T', p.id); return x ? gflops(p, x.medianMs!) / ceil : null; }, resnet, '%');
  // The MNIST demo's CNN training step: lepton's default WASM config (all threads) against the fastest peer of any kind.
  const cnn = r.problems.filter((p) => p.kind === 'cnn');
  each('CNN training step (WASM, lepton default: all threads) ≥ 2× the fastest peer', 2, (p) => {
    const m = get(r, 'lepton wasm MT', p.id), b = best(r, p, [...peers(r, 'wasm', false), ...peers(r, 'webgpu', false)]);
    return m && b ? b.ms / m.medianMs! : null;
  }, cnn);
  // Attention (issue 10): lepton's default WASM config against jax-js wasm jit (one thread in Node).
  const attn = r.problems.flatMap((p) => (p.kind === 'attention' ? [p] : [])).sort((a, b) => a.seq - b.seq);
  const vsJit = (p: Problem) => ratio('lepton wasm MT', 'jax wasm jit', p);
  const attnFwd = attn.filter((p) => !p.backward);
  each('attention forward seq 256 (WASM, lepton default: all threads) ≥ 4× jax-js wasm jit', 4, vsJit, attnFwd.filter((p) => p.seq === 256));
  const leads = attnFwd.map(vsJit).filter((x): x is number => x !== null);
  out.push({
    what: 'attention forward: the lead over jax-js wasm jit widens as seq grows',
    ok: leads.length < 2 ? null : leads.every((x, i) => i === 0 || x >= leads[i - 1]),
    detail: attnFwd.map((p) => `seq ${p.seq}: ${vsJit(p)?.toFixed(2) ?? 'n/a'}×`).join(', '),
  });
  each('attention forward+backward (WASM, lepton default) ahead of jax-js wasm jit', 1, vsJit, attn.filter((p) => p.backward));
  // The addition demo's transformer training step (issue 10): the same against the fastest peer.
  each('transformer training step (WASM, lepton default) ≥ 2× the fastest peer', 2, (p) => {
    const m = get(r, 'lepton wasm MT', p.id), b = best(r, p, [...peers(r, 'wasm', false), ...peers(r, 'webgpu', false)]);
    return m && b ? b.ms / m.medianMs! : null;
  }, r.problems.filter((p) => p.kind === 'transformer'));
  const gpuSquares = r.problems.filter((p) => p.kind === 'matmul' && p.M === p.N && p.N === p.K && p.M >= 256 && p.M <= 1024);
  each('WebGPU ≥ 2× jax-js webgpu jit, square 256–1024', 2, (p) => ratio('lepton webgpu', 'jax webgpu jit', p), gpuSquares);
  each('WebGPU SGD step ≥ 2× jax-js webgpu jit(step)', 2, (p) => ratio('lepton webgpu', 'jax webgpu jit', p), sgd);
  return out;
}

export function targets(r: Report): string {
  const rows = [['target', 'met', 'measured'], ...targetList(r).map((t) => [t.what, t.ok === null ? 'n/a' : t.ok ? 'yes' : 'NO', t.detail])];
  return `### Targets (issue: speed)\n\n${table(rows, ['l', 'l', 'l'])}\n`;
}

const COLORS: Record<string, string> = { lepton: '#d9480f', tfjs: '#1971c2', jax: '#2f9e44', ort: '#7048e8' };
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));

function chart(r: Report, p: Problem): string {
  const bars = r.configs.map((c) => {
    const x = get(r, c.name, p.id);
    return { c, g: x ? gflops(p, x.medianMs!) : null, x };
  });
  const max = Math.max(1e-9, ...bars.map((b) => b.g ?? 0));
  const rowH = 22, left = 130, width = 420;
  const body = bars.map((b, i) => {
    const y = i * rowH;
    const w = b.g ? Math.max(1, (b.g / max) * width) : 0;
    const label = b.g ? `${b.g.toFixed(2)} GFLOP/s · ${fmtMs(b.x!.medianMs!)} ms` : 'skipped / n/a';
    return `<text x="${left - 6}" y="${y + 15}" text-anchor="end">${esc(b.c.name)}</text>`
      + `<rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${COLORS[b.c.lib]}" opacity="${b.c.family === 'webgpu' ? 0.6 : 1}"><title>${esc(label)}</title></rect>`
      + `<text x="${left + w + 4}" y="${y + 15}" class="v">${esc(label)}</text>`;
  }).join('');
  return `<figure><figcaption>${esc(p.name)} — ${(p.flops / 1e9).toFixed(3)} GFLOP</figcaption>`
    + `<svg width="${left + width + 200}" height="${bars.length * rowH}" font-size="12" font-family="system-ui, sans-serif">${body}</svg></figure>`;
}

export function htmlReport(r: Report): string {
  const rows = targetList(r).map((t) => `<tr><td>${esc(t.what)}</td><td class="${t.ok ? 'ok' : t.ok === false ? 'no' : ''}">${t.ok === null ? 'n/a' : t.ok ? 'met' : 'missed'}</td><td>${esc(t.detail)}</td></tr>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>lepton bench ${esc(r.date)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:900px} figure{margin:1.5em 0} figcaption{font-weight:600;margin-bottom:.4em}
.v{fill:#444} td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd} .ok{color:#2b8a3e} .no{color:#c92a2a}</style>
<h1>lepton bench</h1>
<p>${esc(r.date)} · ${esc(r.machine.cpu)}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB · Node ${esc(r.machine.node)}${r.quick ? ' · quick run' : ''}<br>
WebAssembly SIMD ceiling (1 thread): mul+add ${r.ceilings.simd.toFixed(1)} GFLOP/s, relaxed_madd ${r.ceilings.relaxed?.toFixed(1) ?? 'n/a'} GFLOP/s.
Bars: GFLOP/s of the median call (each call ends with a readback); WebGPU configs are paler.</p>
<table><tr><th>config</th><th>runs on</th></tr>${r.configs.map((c) => `<tr><td style="color:${COLORS[c.lib]}">${esc(c.name)}</td><td>${esc(c.description)}</td></tr>`).join('')}</table>
<h2>Targets</h2><table><tr><th>target</th><th></th><th>measured</th></tr>${rows}</table>
<h2>Problems</h2>${r.problems.map((p) => chart(r, p)).join('\n')}
`;
}
