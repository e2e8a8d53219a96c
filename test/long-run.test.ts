// Memory over long training runs, read from the public memory() figures: a
// loop that forgets to dispose stays bounded (the garbage collector frees what
// it forgot), and a loop with scope() holds exactly the same memory at every
// step. Each run is its own process (test/fixtures/long-run.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { devices } from './helpers/backends.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Sample { step: number; numTensors: number; numBytes: number; reservedBytes: number }
interface Run { device: string; steps: number; ms: number; loss: number; samples: Sample[] }

function run(device: string, steps: number, mode: 'scope' | 'forget', every: number): Run {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--import', './tools/node-setup.mjs',
    'test/fixtures/long-run.ts', device, String(steps), mode, String(every)], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  assert.is(r.status, 0, `${device} ${mode}: ${r.stderr}\n${r.stdout}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Run;
  assert.ok(Number.isFinite(out.loss), `${device} ${mode}: the loss is ${out.loss}`);
  if (process.env.LEPTON_LONG_RUN_LOG) console.log(JSON.stringify(out));
  return out;
}

const max = (xs: number[]) => Math.max(...xs);
const min = (xs: number[]) => Math.min(...xs);

/**
 * Without scope every step forgets its loss and logits (2 tensors a step): nothing
 * may keep them all. The tensors alive must fall back during the run (the
 * collector freed forgotten ones), stay well under what the steps forgot, and
 * not trend upwards; the WebAssembly memory must stay within twice its size at mid-run.
 */
function assertBounded(r: Run, what: string) {
  const s = r.samples, half = s.filter((x) => x.step <= r.steps / 2), late = s.filter((x) => x.step > r.steps / 2);
  const tensors = s.map((x) => x.numTensors);
  assert.ok(max(tensors) < r.steps, `${what}: up to ${max(tensors)} tensors alive after ${r.steps} steps (forgotten ones were not freed)`);
  assert.ok(min(late.map((x) => x.numTensors)) < max(half.map((x) => x.numTensors)),
    `${what}: the tensors alive never fell back in the second half: ${tensors.join(' ')}`);
  assert.ok(max(late.map((x) => x.numBytes)) <= 1.5 * max(half.map((x) => x.numBytes)),
    `${what}: live bytes grow: ${s.map((x) => x.numBytes).join(' ')}`);
  if (what.startsWith('wasm')) {
    // When the full collections fall decides how many forgotten tensors wait at once: the memory may
    // take one more step late in the run, but a leak (the old 355 KB a step) would grow it 1000-fold.
    assert.ok(s[s.length - 1].reservedBytes <= 2 * half[half.length - 1].reservedBytes,
      `${what}: the WebAssembly memory more than doubled in the second half: ${s.map((x) => x.reservedBytes).join(' ')}`);
  }
}

/** With scope the memory after the first sample is exactly the same at every step. */
function assertFlat(r: Run, what: string) {
  const [first, ...rest] = r.samples;
  for (const x of rest) {
    for (const k of ['numTensors', 'numBytes', 'reservedBytes'] as const) {
      assert.is(x[k], first[k], `${what}: ${k} at step ${x.step} is ${x[k]}, at step ${first.step} ${first[k]}`);
    }
  }
}

test('WASM: 10,000 steps without scope stay bounded; with scope memory is flat', () => {
  assertBounded(run('wasm', 10_000, 'forget', 250), 'wasm without scope');
  assertFlat(run('wasm', 10_000, 'scope', 500), 'wasm with scope');
});

test('WebGPU: 1,000 steps without scope stay bounded; with scope memory is flat', () => {
  if (!devices.includes('webgpu')) return;
  assertBounded(run('webgpu', 1_000, 'forget', 50), 'webgpu without scope');
  assertFlat(run('webgpu', 300, 'scope', 50), 'webgpu with scope');
});

test.run();
