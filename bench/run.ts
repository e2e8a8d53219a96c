// npm run bench [-- --quick] [-- --backend wasm|webgpu]
// Times lepton's matmul and MLP training step on every available backend
// with benny (warm-up, many samples, median), prints a table of GFLOP/s and
// ms, and writes bench/results/lepton.json.
import b from 'benny';
import { mkdirSync, writeFileSync } from 'node:fs';
import { describeDevice, init, type DeviceName } from '../src/index.js';
import { prepare } from './lepton.js';
import { problems, type Problem } from './problems.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--backend') ? args[args.indexOf('--backend') + 1] as DeviceName : null;

const devices: DeviceName[] = [];
for (const d of ['wasm', 'webgpu'] as DeviceName[]) {
  if (only && d !== only) continue;
  try {
    await init({ backend: d });
    devices.push(d);
  } catch (e) {
    console.warn(`skipping ${d}: ${(e as Error).message}`);
  }
}
const describe = Object.fromEntries(devices.map((d) => [d, describeDevice(d)]));

interface Row { problem: string; device: DeviceName; medianMs: number; minMs: number; maxMs: number; samples: number; gflops: number }
const rows: Row[] = [];

for (const p of problems(quick)) {
  const cases = [];
  const prepared = devices.map((d) => [d, prepare(p, d)] as const);
  for (const [d, prep] of prepared) {
    // Warm-up outside the timed samples: pipeline compilation, pool growth, JIT.
    for (let i = 0; i < 2; i++) await prep.run();
    cases.push(b.add(`${d}`, prep.run));
  }
  await b.suite(p.name,
    ...cases,
    b.configure({ cases: { minSamples: quick ? 3 : 5, maxTime: quick ? 0.3 : 1.5, initCount: 1 } }),
    b.cycle(),
    b.complete((summary) => {
      for (const r of summary.results) {
        const d = r.name as DeviceName;
        const med = r.details.median * 1e3;
        rows.push({ problem: p.name, device: d, medianMs: med, minMs: r.details.min * 1e3, maxMs: r.details.max * 1e3, samples: r.samples, gflops: p.flops / (r.details.median * 1e9) });
      }
    }),
  );
  for (const [, prep] of prepared) prep.dispose();
}

function table(list: Problem[]) {
  const head = ['problem', ...devices.flatMap((d) => [`${d} ms (median)`, `${d} GFLOP/s`])];
  const body = list.map((p) => [p.name, ...devices.flatMap((d) => {
    const r = rows.find((x) => x.problem === p.name && x.device === d);
    return r ? [r.medianMs.toFixed(r.medianMs < 10 ? 3 : 1), r.gflops.toFixed(2)] : ['-', '-'];
  })]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ') + ' |';
  return [line(head), '|' + w.map((n, i) => (i === 0 ? ':' : '') + '-'.repeat(n + 1) + (i === 0 ? '' : ':')).join('|') + '|', ...body.map(line)].join('\n');
}

console.log(`\nlepton bench ${quick ? '(quick) ' : ''}— every timed region ends with a readback; median of benny samples`);
for (const d of devices) console.log(`  ${d}: ${describe[d]}`);
console.log('\n' + table(problems(quick)) + '\n');
mkdirSync('bench/results', { recursive: true });
const out = { date: new Date().toISOString(), quick, node: process.version, devices: describe, rows };
writeFileSync('bench/results/lepton.json', JSON.stringify(out, null, 2));
console.log('wrote bench/results/lepton.json');
