// nn.utils.clipGradNorm / clipGradValue against float64 references on every
// backend: the returned total norm (p = 1, 2, 3, ∞) and the rescaled
// gradients, clipping and not, parameters without gradients skipped, and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';

const { tensor, nn } = lp;
const r = testRng('clip-grad');

/** Parameters of the given sizes with gradients g (set through backward of Σ w·g), and a parameter without one. */
function setup(device: lp.DeviceName, sizes: number[], scale: number) {
  const gs = sizes.map((n) => Float64Array.from(r.array(n, -scale, scale)));
  const ps = sizes.map((n) => tensor(new Float32Array(n), { device, requiresGrad: true }));
  lp.scope(() => { ps.map((p, i) => p.mul(tensor(Float32Array.from(gs[i]), { device })).sum()).reduce((a, b) => a.add(b)).backward(); });
  const idle = tensor([1, 2], { device, requiresGrad: true });
  return { gs: gs.map((g) => Float64Array.from(Float32Array.from(g))), ps, all: [ps[0], idle, ...ps.slice(1)], idle };
}

function refNorm(gs: Float64Array[], p: number): number {
  const flat = gs.flatMap((g) => [...g]);
  if (p === Infinity) return Math.max(...flat.map(Math.abs));
  return flat.reduce((s, x) => s + Math.abs(x) ** p, 0) ** (1 / p);
}

test('clipGradNorm: the total norm and the rescaled gradients against float64, for p = 1, 2, 3, ∞, clipping or not', async () => {
  for (const device of devices) {
    for (const p of [2, 1, 3, Infinity]) {
      for (const [maxNorm, scale] of [[0.5, 1], [1e4, 1], [0, 1]]) {
        const s = setup(device, [1, 37, 130, 5], scale);
        const want = refNorm(s.gs, p), coef = Math.min(1, maxNorm / (want + 1e-6));
        const total = nn.utils.clipGradNorm(s.all, maxNorm, { normType: p });
        assert.equal([...total.shape], []);
        const got = await total.item();
        assert.ok(Math.abs(got - want) <= 1e-5 * want, `${device} p=${p}: norm ${got} vs ${want}`);
        for (let i = 0; i < s.ps.length; i++) {
          const g = await s.ps[i].grad!.data(), ref = s.gs[i].map((x) => x * coef);
          const err = maxNorm === 0 ? Math.max(...g.map(Math.abs)) : relErr(g, ref);
          assert.ok(err < 2e-6, `${device} p=${p} max=${maxNorm} grad ${i}: err ${err}`);
        }
        assert.is(s.idle.grad, null, 'a parameter without a gradient is skipped');
        lp.dispose(total, s.ps, s.idle, s.ps.map((q) => q.grad));
      }
    }
  }
});

test('clipGradNorm: one tensor, no gradients at all (norm 0), and inside a scope the new gradients survive', async () => {
  for (const device of devices) {
    const w = tensor([3, 4], { device, requiresGrad: true });
    const none = nn.utils.clipGradNorm(w, 1);
    assert.is(await none.item(), 0);
    w.mul(tensor([3, 4], { device })).sum().backward();     // grad [3, 4], norm 5
    const total = lp.scope(() => nn.utils.clipGradNorm([w], 1));
    assert.is(await total.item(), 5);
    assert.ok(relErr(await w.grad!.data(), [3 / (5 + 1e-6), 4 / (5 + 1e-6)]) < 1e-6);
    lp.dispose(w, w.grad, total, none);
  }
});

test('clipGradValue clamps every gradient element to [−v, v] (NaN stays NaN)', async () => {
  for (const device of devices) {
    const s = setup(device, [9, 64], 2);
    nn.utils.clipGradValue(s.all, 0.75);
    for (let i = 0; i < 2; i++) assert.equal([...await s.ps[i].grad!.data()], [...Float32Array.from(s.gs[i].map((x) => Math.min(0.75, Math.max(-0.75, x))))]);
    const n = tensor([0, 0], { device, requiresGrad: true });
    n.mul(tensor([NaN, -5], { device })).sum().backward();
    nn.utils.clipGradValue([n], 1);
    assert.equal([...await n.grad!.data()], [NaN, -1]);
    lp.dispose(s.ps, s.idle, s.ps.map((q) => q.grad), n, n.grad);
  }
});

test('clipping errors', () => {
  const w = tensor([1], { requiresGrad: true });
  w.sum().backward();
  throwsLepton(() => nn.utils.clipGradNorm(w, -1), /nn.utils.clipGradNorm: argument 'maxNorm' must be a finite number >= 0, got -1/);
  throwsLepton(() => nn.utils.clipGradNorm(w, 1, { normType: 0 }), /option 'normType' must be a number > 0 or Infinity, got 0/);
  throwsLepton(() => nn.utils.clipGradNorm(w, 1, { norm: 2 } as never), /unknown option 'norm'/);
  throwsLepton(() => nn.utils.clipGradNorm([w, 3] as never, 1), /parameters\[1\] is not a Tensor \(got 3\)/);
  throwsLepton(() => nn.utils.clipGradNorm(5 as never, 1), /argument 'parameters' must be a tensor or an array of tensors/);
  throwsLepton(() => nn.utils.clipGradValue([w], NaN), /nn.utils.clipGradValue: argument 'clipValue' must be a finite number >= 0, got NaN/);
  if (devices.includes('webgpu')) {
    const u = tensor([1], { requiresGrad: true, device: 'webgpu' });
    u.sum().backward();
    throwsLepton(() => nn.utils.clipGradNorm([w, u], 1), /gradients are on different devices: parameters\[1\].grad \[1\] is on webgpu, an earlier one on wasm/);
    lp.dispose(u, u.grad);
  }
  lp.dispose(w, w.grad);
});

test.run();
