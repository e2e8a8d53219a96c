// npm run bench [-- --quick] [--libs lepton,tfjs,jax,ort] [--only mm-512x512x512,mlp-sgd]
//               [--peak-gflops N] [--fallback-gpu-max-gflop G] [--rounds R]
// Runs the same problems on lepton and on its peers, one process per library
// and one after another (never two at once on a shared machine), measures
// the machine's WebAssembly SIMD ceilings in the same run, then prints one
// table per problem with lepton's ratio to the best peer, checks the speed
// targets, and writes bench/results/bench.json and bench/results/bench.html.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { measureCeilings } from './ceiling.js';
import { CONFIGS, PROCESSES } from './configs.js';
import type { Plan, Result } from './harness.js';
import { problems } from './problems.js';
import { htmlReport, summary, tables, targets, type Report } from './report.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const quick = flag('quick');
const libs = value('libs')?.split(',') ?? ['lepton', 'tfjs', 'jax', 'ort'];
const only = value('only')?.split(',') ?? [];
const peak = value('peak-gflops') ? Number(value('peak-gflops')) : null;
/**
 * Rounds of every process, in alternating order; each cell keeps its fastest
 * round's samples. The host's speed drifts 20-40% over minutes (shared VM):
 * one round can time one library in a slow phase and its peer in a fast one.
 */
const roundsArg = Math.floor(Number(value('rounds') ?? 1));
const rounds = Number.isFinite(roundsArg) && roundsArg > 1 ? roundsArg : 1;
const plan: Plan = {
  quick, only, configs: [],
  fallbackGpuMaxGflop: Number(value('fallback-gpu-max-gflop') ?? (quick ? 0.3 : 2.2)),
};

const root = fileURLToPath(new URL('..', import.meta.url));
const probs = problems(quick).filter((p) => only.length === 0 || only.includes(p.id));
const procs = PROCESSES.filter((p) => libs.includes(p.lib));
const total = procs.reduce((n, p) => n + p.configs.length, 0) * probs.length * rounds;
let done = 0;
const started = performance.now();

function progress(label: string) {
  const width = 30, frac = total ? done / total : 1;
  const bar = '█'.repeat(Math.round(frac * width)) + '░'.repeat(width - Math.round(frac * width));
  const secs = ((performance.now() - started) / 1000).toFixed(0);
  const line = `${bar} ${String(done).padStart(3)}/${total}  ${secs}s  ${label}`;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
  else if (done % 10 === 0 || label.endsWith('done')) process.stderr.write(`${line}\n`); // a log, not an animation
}

const descriptions: Record<string, string> = {};

/**
 * Every runner's C heap (where Node allocates ArrayBuffers, i.e. every
 * read-back array) takes no memory from mmap and gives none back to the
 * system: with the heap pre-touched by the runner (harness.ts), a readback
 * reuses resident pages instead of faulting fresh ones in (see bench/README.md).
 */
const KEEP_HEAP = {
  GLIBC_TUNABLES: [process.env.GLIBC_TUNABLES, 'glibc.malloc.mmap_max=0', 'glibc.malloc.trim_threshold=17179869184'].filter(Boolean).join(':'),
  BENCH_PREFAULT_MIB: process.env.BENCH_PREFAULT_MIB ?? '512',
};

/** Runs one runner process; its results (and an error for each config it never reported) go into `results`. */
function runProcess(results: Result[], lib: string, configs: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [
      '--experimental-wasm-relaxed-simd', '--expose-gc', '--import', 'tsx', '--import', './tools/node-setup.mjs', `bench/runners/${lib}.ts`,
    ], { cwd: root, env: { ...process.env, ...env, ...KEEP_HEAP, BENCH_PLAN: JSON.stringify({ ...plan, configs }) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '', errors = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('@@bench ')) {
          const r = JSON.parse(line.slice(8)) as Result;
          results.push(r);
          done++;
          progress(`${r.config} · ${r.problem}${r.skipped ? ' (skipped)' : r.error ? ' (error)' : ''}`);
        } else if (line.startsWith('@@describe ')) {
          const d2 = JSON.parse(line.slice(11)) as { config: string; text: string };
          descriptions[d2.config] = d2.text;
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => { errors += d.toString(); });
    child.on('close', (code) => {
      // Configs the process never reported (it crashed, or the config was unavailable) count as done.
      for (const c of configs) {
        for (const p of probs) {
          if (!results.some((r) => r.config === c && r.problem === p.id)) {
            results.push({ config: c, problem: p.id, error: code ? `runner exited with ${code}` : (descriptions[c] ?? 'not run') });
            done++;
          }
        }
      }
      if (code) {
        const tail = errors.trim().split('\n').filter((l) => !/^\s+at /.test(l)).slice(-3).join(' | ');
        process.stderr.write(`\n${lib} runner exited with ${code}: ${tail}\n`);
      }
      progress(`${lib} done`);
      resolve();
    });
  });
}

progress('measuring WebAssembly SIMD ceilings');
const ceilings = await measureCeilings();
const perRound: Result[][] = [];
for (let r = 0; r < rounds; r++) {
  const round: Result[] = [];
  for (const p of r % 2 ? [...procs].reverse() : procs) await runProcess(round, p.lib, p.configs, p.env);
  perRound.push(round);
}
const results = fastestRounds(perRound);
process.stderr.write('\n');

/** Per (config, problem), the round with the lowest median (a round that erred or skipped only where all did). */
function fastestRounds(all: Result[][]): Result[] {
  const best = new Map<string, Result>();
  for (const round of all) {
    for (const r of round) {
      const key = `${r.config}\u0000${r.problem}`, prev = best.get(key);
      if (!prev || (r.medianMs !== undefined && (prev.medianMs === undefined || r.medianMs < prev.medianMs))) best.set(key, r);
    }
  }
  return [...best.values()];
}

const report: Report = {
  date: new Date().toISOString(),
  quick,
  rounds,
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version, platform: `${os.platform()} ${os.arch()}`,
  },
  ceilings,
  peakGflops: peak,
  configs: CONFIGS.filter((c) => procs.some((p) => p.configs.includes(c.name))).map((c) => ({ ...c, description: descriptions[c.name] ?? '' })),
  problems: probs,
  results,
};

console.log(`\nlepton bench${quick ? ' (quick)' : ''} — ${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}`);
console.log(`WebAssembly SIMD128 ceiling (1 thread): mul+add ${ceilings.simd.toFixed(1)} GFLOP/s, relaxed_madd ${ceilings.relaxed === null ? 'n/a' : `${ceilings.relaxed.toFixed(1)} GFLOP/s`}`);
for (const c of report.configs) console.log(`  ${c.name.padEnd(16)} ${c.description}`);
console.log(`\nEvery timed call ends with the result read back to the host; median of the samples after warm-up${rounds > 1 ? `; each cell the fastest of ${rounds} rounds (alternating process order)` : ''}.\n`);
console.log(tables(report));
console.log(summary(report));
console.log(targets(report));
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/bench.json`, JSON.stringify(report, null, 2));
writeFileSync(`${root}bench/results/bench.html`, htmlReport(report));
console.log(`wrote bench/results/bench.json and bench/results/bench.html (${((performance.now() - started) / 1000).toFixed(0)} s)`);
