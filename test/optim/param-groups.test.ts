// Parameter groups: per-group hyperparameters against the float64 update
// rules (test/reference), defaults inherited from the options, groups equal to
// separate optimizers bit for bit, stateDict/loadStateDict with several
// groups (resume bit-identical; every mismatch refused whole), and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import * as ref from '../reference/kernels.js';

const { tensor, optim } = lp;
const r = testRng('param-groups');

/** Parameters with host copies, and constant gradients c (loss = Σ w·c, so grad = c exactly). */
function setup(device: lp.DeviceName, sizes: number[]) {
  const host = sizes.map((n) => r.array(n)), grads = sizes.map((n) => r.array(n));
  const ps = host.map((h) => tensor(h, { device, requiresGrad: true }));
  const cs = grads.map((g) => tensor(g, { device }));
  const backward = () => lp.scope(() => { ps.map((p, i) => p.mul(cs[i]).sum()).reduce((a, b) => a.add(b)).backward(); });
  return { host, grads, ps, cs, backward };
}

test('SGD groups: each group steps with its own lr, momentum and weight decay; unset values come from the options', async () => {
  for (const device of devices) {
    const s = setup(device, [7, 5, 3]);
    const opt = new optim.SGD([
      { params: [s.ps[0]], lr: 0.1, weightDecay: 0.01 },
      { params: [s.ps[1], s.ps[2]], nesterov: true },
    ], { lr: 0.05, momentum: 0.9 });
    assert.equal(opt.paramGroups.map(({ params, ...h }) => ({ ...h, n: params.length })), [
      { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: false, n: 1 },
      { lr: 0.05, momentum: 0.9, weightDecay: 0, nesterov: true, n: 2 },
    ]);
    const hyper = [{ lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: false }, { lr: 0.05, momentum: 0.9, weightDecay: 0, nesterov: true }];
    const group = [0, 1, 1];
    let p = s.host.map((h) => Float64Array.from(h)), v = s.host.map((h) => new Float64Array(h.length));
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad(); s.backward(); opt.step();
      const next = p.map((pi, i) => ref.sgd(pi, s.grads[i], v[i], hyper[group[i]]));
      p = next.map((n) => n.p); v = next.map((n) => n.v!);
    }
    for (let i = 0; i < 3; i++) {
      const err = relErr(await s.ps[i].data(), p[i]);
      assert.ok(err < 1e-6, `${device} param ${i}: rel err ${err}`);
    }
    opt.dispose(); lp.dispose(s.ps, s.cs);
  }
});

test('Adam groups equal separate optimizers bit for bit; a scheduler-style lr change reaches only its group', async () => {
  for (const device of devices) {
    const a = setup(device, [6, 4]);
    const b = { ps: a.host.map((h) => tensor(h, { device, requiresGrad: true })) };
    const grouped = new optim.AdamW([{ params: [a.ps[0]], lr: 0.01 }, { params: [a.ps[1]], betas: [0.5, 0.9], weightDecay: 0 }]);
    const one = new optim.AdamW([b.ps[0]], { lr: 0.01 }), two = new optim.AdamW([b.ps[1]], { betas: [0.5, 0.9], weightDecay: 0 });
    const stepAll = (lr1: number) => {
      grouped.paramGroups[1].lr = lr1; two.lr = lr1;
      const runs: [lp.optim.Optimizer, lp.Tensor[], number[]][] = [[grouped, a.ps, [0, 1]], [one, [b.ps[0]], [0]], [two, [b.ps[1]], [1]]];
      for (const [opt, ps, ci] of runs) {
        opt.zeroGrad();
        lp.scope(() => { ps.forEach((p, j) => p.mul(a.cs[ci[j]]).sum().backward()); });
        opt.step();
      }
    };
    for (const lr1 of [1e-3, 5e-4, 2e-3]) stepAll(lr1);
    for (let i = 0; i < 2; i++) assert.equal([...await a.ps[i].data()], [...await b.ps[i].data()], `${device} param ${i}`);
    assert.is(grouped.paramGroups[0].lr, 0.01, 'group 0 untouched');
    lp.dispose(a.ps, a.cs, b.ps); grouped.dispose(); one.dispose(); two.dispose();
  }
});

test('stateDict with several groups: ids numbered group after group; a reload resumes bit-identically', async () => {
  for (const device of devices) {
    const s = setup(device, [5, 3, 2]);
    const make = (ps: lp.Tensor[]) => new optim.Adam([{ params: [ps[0], ps[1]], lr: 0.02 }, { params: [ps[2]], lr: 0.005, eps: 1e-6 }]);
    const opt = make(s.ps);
    for (let k = 0; k < 2; k++) { opt.zeroGrad(); s.backward(); opt.step(); }
    const sd = opt.stateDict();
    assert.equal(sd.paramGroups, [
      { lr: 0.02, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [0, 1] },
      { lr: 0.005, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0, params: [2] },
    ]);
    assert.equal(Object.keys(sd.state), ['0', '1', '2']);
    // Fresh parameters and optimizer from the saved values; both go on for 2 steps.
    const copy = await Promise.all(s.ps.map(async (p) => tensor(await p.data(), { device, requiresGrad: true })));
    const fresh = make(copy);
    fresh.paramGroups[1].lr = 0.5;                 // overwritten by the load
    fresh.loadStateDict(sd);
    assert.is(fresh.paramGroups[1].lr, 0.005);
    assert.is(fresh.paramGroups[1].eps, 1e-6);
    for (let k = 0; k < 2; k++) {
      opt.zeroGrad(); s.backward(); opt.step();
      fresh.zeroGrad(); lp.scope(() => { copy.map((p, i) => p.mul(s.cs[i]).sum()).reduce((x, y) => x.add(y)).backward(); }); fresh.step();
    }
    for (let i = 0; i < 3; i++) assert.equal([...await copy[i].data()], [...await s.ps[i].data()], `${device} param ${i}`);
    // Mismatches are refused and change nothing.
    const before = fresh.stateDict();
    const bad = (patch: object) => ({ ...sd, ...patch }) as lp.optim.OptimizerStateDictInput;
    throwsLepton(() => fresh.loadStateDict(bad({ paramGroups: [sd.paramGroups[0]] })), /the state dict has 1 parameter group; this optimizer has 2/);
    throwsLepton(() => fresh.loadStateDict(bad({ paramGroups: [sd.paramGroups[0], { ...sd.paramGroups[1], params: [2, 3] }] })),
      /paramGroups\[1\].params must list 1 distinct integer ids \(one per parameter of group 1\), got 2 entries/);
    throwsLepton(() => fresh.loadStateDict(bad({ paramGroups: [sd.paramGroups[0], { ...sd.paramGroups[1], params: [1] }] })), /parameter id 1 is listed by two groups/);
    throwsLepton(() => fresh.loadStateDict(bad({ paramGroups: [sd.paramGroups[0], { ...sd.paramGroups[1], lr: -1 }] })), /paramGroups\[1\]: option 'lr' must be a finite number >= 0, got -1/);
    throwsLepton(() => fresh.loadStateDict(bad({ paramGroups: [sd.paramGroups[0], { ...sd.paramGroups[1], momentum: 0.9 }] })), /paramGroups\[1\] has unknown hyperparameter 'momentum'/);
    throwsLepton(() => fresh.loadStateDict(bad({ state: { ...sd.state, 2: { ...sd.state[2], expAvg: [1, 2, 3] } } })), /state.2.expAvg/);
    assert.equal(fresh.stateDict().paramGroups, before.paramGroups, 'unchanged');
    assert.equal([...await (fresh.stateDict().state[2].expAvg as lp.Tensor).data()], [...await (before.state[2].expAvg as lp.Tensor).data()]);
    lp.dispose(s.ps, s.cs, copy); opt.dispose(); fresh.dispose();
  }
});

test('a checkpoint file of a grouped optimizer and its scheduler resumes bit-identically', async () => {
  for (const device of devices) {
    const build = () => {
      const model = new lp.nn.MLP([3, 8, 2], { seed: 7, device });
      const named = [...model.namedParameters()];
      const opt = new optim.SGD([
        { params: named.filter(([n]) => n.endsWith('weight')).map(([, p]) => p), weightDecay: 0.01 },
        { params: named.filter(([n]) => n.endsWith('bias')).map(([, p]) => p), lr: 0.05 },
      ], { lr: 0.1, momentum: 0.9 });
      return { model, opt, sched: new optim.lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5 }) };
    };
    const x = tensor(r.array(12), [4, 3], { device }), y = [0, 1, 1, 0];
    const train = (m: ReturnType<typeof build>, steps: number) => {
      for (let k = 0; k < steps; k++) {
        lp.scope(() => { const l = lp.nn.crossEntropy(m.model.forward(x), y); m.opt.zeroGrad(); l.backward(); m.opt.step(); });
        m.sched.step();
      }
    };
    const a = build(), b = build();
    train(a, 5);
    train(b, 3);
    const bytes = await lp.saveCheckpoint({ model: b.model, optimizer: b.opt, metadata: { scheduler: JSON.stringify(b.sched.stateDict()) } });
    const c = build();
    const info = await lp.loadCheckpoint(bytes, { model: c.model, optimizer: c.opt });
    c.sched.loadStateDict(JSON.parse(info.metadata.scheduler));
    assert.equal(c.opt.paramGroups.map((g) => g.lr), b.opt.paramGroups.map((g) => g.lr));
    train(c, 2);
    const wa = await Promise.all(a.model.parameters().map((p) => p.data())), wc = await Promise.all(c.model.parameters().map((p) => p.data()));
    wa.forEach((w, i) => assert.equal([...wc[i]], [...w], `${device} parameter ${i}`));
    for (const m of [a, b, c]) { m.opt.dispose(); lp.dispose(m.model.parameters(), m.model.parameters().map((p) => p.grad)); }
    x.dispose();
  }
});

test('opt.lr sets every group; groups are checked again at step, naming the group; addParamGroup', () => {
  const [a, b, c] = [3, 2, 1].map((n) => tensor(new Float32Array(n).fill(1), { requiresGrad: true }));
  const opt = new optim.SGD([{ params: a, lr: 0.1 }, { params: [b], lr: 0.2 }]);
  opt.lr = 0.3;
  assert.equal(opt.paramGroups.map((g) => g.lr), [0.3, 0.3]);
  assert.is(opt.lr, 0.3);
  opt.paramGroups[1].momentum = 1.5;
  a.sum().backward();
  throwsLepton(() => opt.step(), /optim.SGD.step: paramGroups\[1\]: option 'momentum' must be a number in \[0, 1\), got 1.5/);
  assert.equal([...a.dataSync()], [1, 1, 1], 'a failed step updates nothing');
  opt.paramGroups[1].momentum = 0;
  opt.addParamGroup({ params: [c], lr: 1, momentum: 0.5, nesterov: true });
  assert.equal(opt.params, [a, b, c]);
  throwsLepton(() => opt.addParamGroup({ params: [a] }), /paramGroups\[3\].params\[0\] is the same tensor as paramGroups\[0\].params\[0\]/);
  assert.is(opt.paramGroups.length, 3, 'a refused group is not added');
  opt.step();
  assert.equal([...a.dataSync()], [0.7, 0.7, 0.7].map(Math.fround));
  lp.dispose(a, b, c, a.grad); opt.dispose();
});

test('parameter group errors', () => {
  const p = tensor([1, 2], { requiresGrad: true }), q = tensor([3], { requiresGrad: true });
  throwsLepton(() => new optim.SGD([{ params: [p] }, q] as never), /argument 'params' mixes parameter groups and other values: params\[1\] is a Tensor/);
  throwsLepton(() => new optim.SGD([{ params: [] }]), /optim.SGD: paramGroups\[0\].params is empty/);
  throwsLepton(() => new optim.SGD([{ params: 3 }] as never), /paramGroups\[0\].params must be a tensor or an array of tensors, got 3/);
  throwsLepton(() => new optim.SGD([{ params: [p] }, { params: [q, p] }]), /paramGroups\[1\].params\[1\] is the same tensor as paramGroups\[0\].params\[0\]/);
  throwsLepton(() => new optim.Adam([{ params: [p], learningRate: 0.1 }] as never), /optim.Adam paramGroups\[0\]: unknown option 'learningRate' \(did you mean 'lr'\?\)/);
  throwsLepton(() => new optim.Adam([{ params: [p], betas: [0.9, 1] }]), /optim.Adam paramGroups\[0\]: option 'betas' must be an array of 2 values/);
  throwsLepton(() => new optim.SGD([{ params: [p], nesterov: true }]), /optim.SGD: paramGroups\[0\]: option 'nesterov' needs momentum > 0/);
  throwsLepton(() => new optim.SGD([{ params: [p, 'w'] }] as never), /paramGroups\[0\].params\[1\] is not a Tensor \(got "w"\)/);
  throwsLepton(() => new optim.SGD([{ params: [p.mul(2)] }]), /paramGroups\[0\].params\[0\] \[2\] is not a leaf/);
  lp.dispose(p, q);
});

test.run();
