// Property-based fuzz test (fast-check): random sequences of valid and
// invalid calls through the public API, on each backend (and across both),
// against a float64 model (test/fuzz/). Checked per run: every value and
// gradient matches the model within its error bound (exactly where the
// arithmetic is exact), every invalid call is a LeptonError that allocates
// nothing and changes nothing, and once the run disposes what it made, no
// storage is left alive (graphs included). The seed is the run's test seed
// (LEPTON_TEST_SEED replays it); fast-check prints the shrunk failing case.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Storage } from '../src/tensor.js';
import { devices } from './helpers/backends.js';
import { rng, TEST_SEED } from './helpers/random.js';
import { checkValues } from './fuzz/model.js';
import { linear, loss, matmul, shapeOp, softmax } from './fuzz/layers.js';
import { misuse } from './fuzz/misuse.js';
import { binary, reduce, unary } from './fuzz/ops.js';
import { Run, type Step } from './fuzz/run.js';
import { backward, create, dispose, optimizer, zeroGrad } from './fuzz/train.js';

const RUNS = Number(process.env.LEPTON_FUZZ_RUNS ?? 1000);

const KINDS: [string, number, (run: Run, s: Step) => void][] = [
  ['create', 4, create], ['unary', 5, unary], ['binary', 5, binary], ['reduce', 3, reduce], ['shape', 2, shapeOp],
  ['matmul', 1, matmul], ['linear', 1, linear], ['softmax', 1, softmax], ['loss', 2, loss], ['backward', 4, backward],
  ['optimizer', 2, optimizer], ['zeroGrad', 1, zeroGrad], ['dispose', 2, dispose], ['misuse', 5, misuse],
];
const STEPS = new Map(KINDS.map(([k, , f]) => [k, f]));

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.oneof(...KINDS.map(([k, weight]) => ({ arbitrary: fc.constant(k), weight }))),
  a: fc.nat(63), b: fc.nat(63), c: fc.nat(63), seed: fc.nat(0x7fffffff),
});

const totals = new Map<string, number>();
let runs = 0, steps = 0;

/** One run: the steps in order (synchronous), then everything freed, then the values compared. */
async function play(device: (typeof devices)[number], program: Step[]): Promise<void> {
  const other = devices.find((d) => d !== device) ?? null;
  const run = new Run(device, other);
  const base = Storage.live;
  try {
    // Two tensors to start from (one a parameter), so that short programs reach the ops.
    run.r = rng(program[0].seed);
    run.leaf(run.shape(program[0].a + 1), true);
    run.leaf(run.shape(program[0].b + 2), program[0].c % 2 === 0);
    program.forEach((s, i) => {
      run.r = rng(s.seed ^ (i * 0x9e3779b9));
      STEPS.get(s.kind)!(run, s);
    });
    run.readAll();
  } finally {
    // No await since the run began: Storage.live counts only this run's storage (no finalizer ran in between).
    run.disposeAll();
  }
  assert.is(Storage.live, base, `storage left alive after disposing everything the run made (${Storage.live - base})`);
  const got = await Promise.all(run.checks.map((c) => c.got));
  run.checks.forEach((c, i) => checkValues(c, got[i]));
  runs++;
  steps += program.length;
  for (const [k, n] of run.counts) totals.set(k, (totals.get(k) ?? 0) + n);
}

test(`fuzz: ${RUNS} random programs of valid and invalid calls on ${devices.join(' + ')} against a float64 model`, async () => {
  const t0 = performance.now();
  console.log(`[fuzz] fast-check seed ${TEST_SEED}, ${RUNS} runs (replay with LEPTON_TEST_SEED=${TEST_SEED}; LEPTON_FUZZ_RUNS sets the count)`);
  const details = await fc.check(fc.asyncProperty(fc.constantFrom(...devices), fc.array(step, { minLength: 1, maxLength: 24, size: 'medium' }), play),
    { numRuns: RUNS, seed: TEST_SEED | 0 });
  if (details.failed) {
    const [device, program] = details.counterexample!;
    const err = details.errorInstance as Error;
    assert.unreachable(`${err?.message ?? err}\n  seed ${details.seed}, path "${details.counterexamplePath}", shrunk ${details.numShrinks} times; `
      + `the shrunk program on ${device}:\n  ${program.map((x) => JSON.stringify({ ...x })).join('\n  ')}`);
  }
  const refused = [...totals].filter(([k]) => k.startsWith('refused')).reduce((a, [, n]) => a + n, 0);
  console.log(`[fuzz] ${runs} runs, ${steps} steps (${refused} refused calls) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`[fuzz] ${[...totals].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  assert.ok(refused > RUNS / 2, 'the programs exercise the refusals');
});

test.run();
