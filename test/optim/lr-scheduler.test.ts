// Learning-rate schedules against PyTorch's own values (test/fixtures/
// lr-schedules.json, written by lr-schedules.py with torch 1.13: get_last_lr()
// and OneCycleLR's momenta, step by step, two parameter groups), the
// optimizer actually stepping with the scheduled lr, resuming from a state
// dict, and every bad schedule refused with a LeptonError.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { throwsLepton } from '../helpers/throws.js';
import '../helpers/backends.js';   // initialises the backends

const { tensor, optim } = lp;
const S = optim.lrScheduler;
type Case = { lrs: number[][]; momenta?: number[][] };
const torch = JSON.parse(readFileSync(new URL('../fixtures/lr-schedules.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };

/** The fixture's optimizer: SGD, momentum 0.9, groups with lr 0.1 and 0.02. */
function sgd(opts: { momentum?: number } = {}) {
  const ps = [tensor([0], { requiresGrad: true }), tensor([0], { requiresGrad: true })];
  return new optim.SGD([{ params: [ps[0]], lr: 0.1 }, { params: [ps[1]], lr: 0.02 }], { lr: 0.1, momentum: opts.momentum ?? 0.9 });
}

const MAKE: Record<string, (o: lp.optim.Optimizer) => lp.optim.lrScheduler.LRScheduler> = {
  StepLR: (o) => new S.StepLR(o, { stepSize: 3, gamma: 0.5 }),
  MultiStepLR: (o) => new S.MultiStepLR(o, { milestones: [2, 5, 9], gamma: 0.3 }),
  ExponentialLR: (o) => new S.ExponentialLR(o, { gamma: 0.9 }),
  CosineAnnealingLR: (o) => new S.CosineAnnealingLR(o, { tMax: 10, etaMin: 0.001 }),
  LinearLR: (o) => new S.LinearLR(o, { startFactor: 0.25, totalIters: 4 }),
  LambdaLR: (o) => new S.LambdaLR(o, { lrLambda: (t) => 0.95 ** t }),
  SequentialLR: (o) => new S.SequentialLR(o, {
    schedulers: [new S.LinearLR(o, { startFactor: 0.1, totalIters: 3 }), new S.CosineAnnealingLR(o, { tMax: 8 })], milestones: [3],
  }),
  OneCycleLR: (o) => new S.OneCycleLR(o, { maxLr: [1.0, 0.5], totalSteps: 20 }),
  'OneCycleLR-linear-3phase': (o) => new S.OneCycleLR(o, { maxLr: 0.4, totalSteps: 17, annealStrategy: 'linear', threePhase: true, pctStart: 0.25 }),
};

const close = (got: number[], want: number[], where: string) => {
  assert.is(got.length, want.length, where);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= 1e-12 * Math.max(Math.abs(want[i]), 1e-3), `${where}[${i}]: ${g} vs PyTorch ${want[i]}`));
};

test('every schedule gives PyTorch\'s learning rates (and OneCycleLR its momenta), step by step, per group', () => {
  assert.equal(Object.keys(MAKE).sort(), Object.keys(torch.cases).sort());
  for (const [name, make] of Object.entries(MAKE)) {
    const want = torch.cases[name], opt = sgd(), s = make(opt);
    // OneCycleLR's step totalSteps (after the last batch) holds the final lr, where PyTorch's overshoots: checked below.
    const steps = name.startsWith('OneCycleLR') ? want.lrs.length - 1 : want.lrs.length;
    for (let t = 0; t < steps; t++) {
      if (t > 0) s.step();
      assert.is(s.lastEpoch, t);
      close(s.getLastLr(), want.lrs[t], `${name} step ${t}`);
      close(opt.paramGroups.map((g) => g.lr), want.lrs[t], `${name} step ${t}: the optimizer's lr`);
      if (want.momenta) close(opt.paramGroups.map((g) => g.momentum), want.momenta[t], `${name} step ${t}: momentum`);
    }
    if (steps < want.lrs.length) {
      s.step();
      close(s.getLastLr(), want.lrs[steps - 1], `${name} step ${steps} keeps step ${steps - 1}'s lr`);
    }
    lp.dispose(opt.params);
  }
});

test('the optimizer steps with the scheduled lr (SGD: Δw = −lr·g); OneCycleLR cycles Adam\'s betas[0]', async () => {
  const w = tensor([1, 1], { requiresGrad: true });
  const opt = new optim.SGD([w], { lr: 1 });
  const s = new S.StepLR(opt, { stepSize: 1, gamma: 0.5 });
  const expect = [1, 1];
  for (let k = 0; k < 4; k++) {
    opt.zeroGrad();
    w.mul(tensor([1, 2])).sum().backward();    // grad [1, 2]
    opt.step();
    expect[0] -= 0.5 ** k; expect[1] -= 2 * 0.5 ** k;
    s.step();
  }
  assert.equal([...await w.data()], expect.map(Math.fround));
  const adam = new optim.Adam([w], { betas: [0.9, 0.99] });
  const oc = new S.OneCycleLR(adam, { maxLr: 0.01, totalSteps: 10 });
  assert.equal(adam.paramGroups[0].betas, [0.95, 0.99]);
  for (let k = 0; k < 2; k++) oc.step();
  assert.equal(adam.paramGroups[0].betas, [0.85, 0.99], 'momentum at its base at the lr peak (step 0.3 · 10 − 1 = 2, as PyTorch counts)');
  close(oc.getLastLr(), [0.01], 'peak');
  lp.dispose(w, w.grad); opt.dispose(); adam.dispose();
});

test('stateDict / loadStateDict: a scheduler rebuilt from a checkpoint goes on exactly as the uninterrupted one', () => {
  for (const name of ['StepLR', 'CosineAnnealingLR', 'SequentialLR', 'OneCycleLR']) {
    const optA = sgd(), a = MAKE[name](optA);
    for (let k = 0; k < 5; k++) a.step();
    const sd = JSON.parse(JSON.stringify(a.stateDict()));  // survives JSON (checkpoint metadata)
    const optB = sgd(), b = MAKE[name](optB);
    b.loadStateDict(sd);
    assert.is(b.lastEpoch, 5);
    close(b.getLastLr(), a.getLastLr(), `${name} restored`);
    close(optB.paramGroups.map((g) => g.lr), a.getLastLr(), `${name}: the optimizer's lr restored`);
    for (let k = 0; k < 6; k++) {
      a.step(); b.step();
      close(b.getLastLr(), a.getLastLr(), `${name} after ${k + 1} more`);
      close(optB.paramGroups.map((g) => g.momentum), optA.paramGroups.map((g) => g.momentum), `${name} momentum`);
    }
    lp.dispose(optA.params, optB.params);
  }
  // A bad state changes nothing.
  const opt = sgd(), s = new S.StepLR(opt, { stepSize: 2 });
  s.step();
  const good = s.stateDict();
  throwsLepton(() => s.loadStateDict({ ...good, type: 'lrScheduler.ExponentialLR' }), /the state is of a "lrScheduler.ExponentialLR" scheduler; this one is lrScheduler.StepLR/);
  throwsLepton(() => s.loadStateDict({ ...good, lastEpoch: -2 }), /'lastEpoch' must be a non-negative integer, got -2/);
  throwsLepton(() => s.loadStateDict({ ...good, baseLrs: [0.1] }), /'baseLrs' must hold 2 finite numbers >= 0/);
  throwsLepton(() => s.loadStateDict({ ...good, lastLr: [0.1, NaN] }), /'lastLr' must hold 2 finite numbers >= 0/);
  assert.equal(s.stateDict(), good);
  assert.equal(opt.paramGroups.map((g) => g.lr), [0.1, 0.02]);
  lp.dispose(opt.params);
});

test('bad schedules are LeptonErrors naming the scheduler and option', () => {
  const opt = sgd();
  throwsLepton(() => new S.StepLR({} as never, { stepSize: 1 }), /lrScheduler.StepLR: argument 'optimizer' must be an optimizer/);
  throwsLepton(() => new S.StepLR(opt, {} as never), /lrScheduler.StepLR: option 'stepSize' is required/);
  throwsLepton(() => new S.StepLR(opt, { stepSize: 0 }), /option 'stepSize' must be a positive integer, got 0/);
  throwsLepton(() => new S.StepLR(opt, { stepSize: 2, gama: 0.1 } as never), /unknown option 'gama' \(did you mean 'gamma'\?\)/);
  throwsLepton(() => new S.MultiStepLR(opt, { milestones: [5, 2] }), /option 'milestones' must be an array of increasing positive integers/);
  throwsLepton(() => new S.ExponentialLR(opt, { gamma: -0.5 }), /option 'gamma' must be a finite number > 0, got -0.5/);
  throwsLepton(() => new S.CosineAnnealingLR(opt, { tMax: 10, etaMin: -1 }), /option 'etaMin' must be a finite number >= 0/);
  throwsLepton(() => new S.LinearLR(opt, { startFactor: 0 }), /option 'startFactor' must be a number in \(0, 1\], got 0/);
  throwsLepton(() => new S.LambdaLR(opt, { lrLambda: [(t) => t] }), /option 'lrLambda' has 1 functions; the optimizer has 2 parameter groups/);
  const neg = new S.LambdaLR(opt, { lrLambda: (t) => 1 - t });
  throwsLepton(() => { neg.step(); neg.step(); }, /lrScheduler.LambdaLR.step: the schedule gives group 0 the learning rate -0.1 at step 2; needs a finite number >= 0/);
  assert.equal(opt.paramGroups.map((g) => g.lr), [0, 0], 'step 1 (factor 0) applied, the refused step 2 not');
  const other = sgd();
  throwsLepton(() => new S.SequentialLR(opt, { schedulers: [new S.LinearLR(other)], milestones: [] }), /schedulers\[0\] \(lrScheduler.LinearLR\) drives another optimizer/);
  throwsLepton(() => new S.SequentialLR(opt, { schedulers: [new S.LinearLR(opt), new S.ExponentialLR(opt, { gamma: 0.9 })], milestones: [] }),
    /option 'milestones' has 0 entries; 2 schedulers need 1/);
  throwsLepton(() => new S.OneCycleLR(opt, { maxLr: 1 }), /needs option 'totalSteps', or both 'epochs' and 'stepsPerEpoch'/);
  throwsLepton(() => new S.OneCycleLR(opt, { maxLr: [1], totalSteps: 5 }), /option 'maxLr' has 1 values; the optimizer has 2 parameter groups/);
  throwsLepton(() => new S.OneCycleLR(opt, { maxLr: 1, totalSteps: 5, annealStrategy: 'cosine' as never }), /option 'annealStrategy' must be one of 'cos', 'linear'/);
  const oc = new S.OneCycleLR(opt, { maxLr: 1, epochs: 2, stepsPerEpoch: 2 });
  for (let k = 0; k < 4; k++) oc.step();
  throwsLepton(() => oc.step(), /lrScheduler.OneCycleLR.step: tried to step 5 times; the cycle has totalSteps = 4/);
  const plain = new optim.Adam([tensor([1], { requiresGrad: true })]);
  new S.OneCycleLR(plain, { maxLr: 1, totalSteps: 3, cycleMomentum: false });
  const s = new S.ExponentialLR(opt, { gamma: 0.5 });
  opt.addParamGroup({ params: [tensor([1], { requiresGrad: true })] });
  throwsLepton(() => s.step(), /the optimizer has 3 parameter groups, the scheduler was made for 2; make a new scheduler after addParamGroup/);
  lp.dispose(opt.params, other.params, plain.params);
});

test.run();
