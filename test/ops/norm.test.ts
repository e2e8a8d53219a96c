import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { layerNorm, rmsNorm } from '../../src/ops/norm.js';
import { LayerNorm, RMSNorm } from '../../src/nn/norm.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import type { Nd } from '../reference/ops.js';
import * as S from '../reference/seq.js';

const r = testRng('ops-norm');
const nd = (data: Float64Array, shape: number[]): Nd => ({ data, shape });

/** Gradient scales: dx relative to its terms (it cancels), dw and db relative to Σ|g|·(|x̂| + 1). */
function scales(x: Nd, w: Nd | null, g: Nd, cols: number, eps: number, rms: boolean) {
  const rows = x.data.length / cols;
  const { mean, rstd } = S.norm(x.data, null, null, rows, cols, eps, rms);
  const dx = new Float64Array(x.data.length), dw = new Float64Array(cols);
  for (let i = 0; i < x.data.length; i++) {
    const row = Math.floor(i / cols), c = i % cols;
    const terms = (Math.abs(x.data[i]) + Math.abs(mean[row])) * rstd[row];
    dx[i] = rstd[row] * (Math.abs(g.data[i] * (w ? w.data[c] : 1)) + terms + 1);
    dw[c] += Math.abs(g.data[i]) * (terms + 1);
  }
  return { dx, dw };
}

test('layerNorm and rmsNorm: forward, gradients of x, weight and bias, finite differences', async () => {
  const cases: [number[], number[]][] = [[[3, 5], [5]], [[2, 3, 4], [3, 4]], [[1, 1], [1]], [[4, 7], [7]], [[2, 2, 9], [9]], [[6], [6]], [[5, 33], [33]]];
  for (const rms of [false, true]) {
    for (const [shape, ns] of cases) {
      for (const affine of [0, 1, 2]) {
        const cols = ns.reduce((a, d) => a * d, 1);
        const eps = rms ? 1e-6 : 1e-5;
        const inputs = [rnd(r, shape, -2, 2)];
        if (affine >= 1) inputs.push(rnd(r, ns, -2, 2));
        if (affine >= 2 && !rms) inputs.push(rnd(r, ns, -1, 1));
        const w = affine >= 1 ? 1 : -1, b = affine >= 2 && !rms ? 2 : -1;
        const rows = inputs[0].data.length / cols;
        await checkOp({
          name: `${rms ? 'rmsNorm' : 'layerNorm'} ${JSON.stringify(shape)} over ${JSON.stringify(ns)}${w > 0 ? ' w' : ''}${b > 0 ? ' b' : ''}`,
          inputs,
          lib: (xs) => (rms ? rmsNorm(xs[0], ns, w > 0 ? xs[w] : null, eps) : layerNorm(xs[0], ns, w > 0 ? xs[w] : null, b > 0 ? xs[b] : null, eps)),
          ref: (xs) => nd(S.norm(xs[0].data, w > 0 ? xs[w].data : null, b > 0 ? xs[b].data : null, rows, cols, eps, rms).y, shape),
          vjp: (xs, g) => {
            const v = S.normVjp(xs[0].data, w > 0 ? xs[w].data : null, g.data, rows, cols, eps, rms);
            return [nd(v.dx, shape), ...(w > 0 ? [nd(v.dw, ns)] : []), ...(b > 0 ? [nd(v.db, ns)] : [])];
          },
          gradScale: (xs, g) => {
            const s = scales(xs[0], w > 0 ? xs[w] : null, g, cols, eps, rms);
            return [nd(s.dx, shape), ...(w > 0 ? [nd(s.dw, ns)] : []), ...(b > 0 ? [nd(s.dw, ns)] : [])];
          },
        }, r, 'norm');
      }
    }
  }
});

test('only the inputs that need a gradient get one (weight without x, bias alone)', async () => {
  const x = rnd(r, [3, 6]), w = rnd(r, [6]), b = rnd(r, [6]);
  for (const grads of [[false, true, false], [false, false, true], [true, false, false]]) {
    await checkOp({
      name: `layerNorm grads ${grads}`, inputs: [x, w, b], grads,
      lib: ([a, ww, bb]) => layerNorm(a, 6, ww, bb),
      ref: ([a, ww, bb]) => nd(S.norm(a.data, ww.data, bb.data, 3, 6, 1e-5, false).y, [3, 6]),
      vjp: ([a, ww], g) => { const v = S.normVjp(a.data, ww.data, g.data, 3, 6, 1e-5, false); return [nd(v.dx, [3, 6]), nd(v.dw, [6]), nd(v.db, [6])]; },
    }, r, 'norm');
  }
});

test('nn.LayerNorm and nn.RMSNorm: PyTorch parameter names and defaults', async () => {
  for (const device of devices) {
    const ln = new LayerNorm([4], { device });
    assert.equal(Object.keys(ln.stateDict()), ['weight', 'bias']);
    assert.equal(Array.from(await ln.weight!.data()), [1, 1, 1, 1]);
    assert.equal(Array.from(await ln.bias!.data()), [0, 0, 0, 0]);
    assert.equal(new LayerNorm(4, { bias: false, device }).bias, null);
    assert.equal(Object.keys(new LayerNorm(4, { elementwiseAffine: false, device }).stateDict()), []);
    const rn = new RMSNorm(4, { device });
    assert.equal(Object.keys(rn.stateDict()), ['weight']);
    const x = tensor([[1, 2, 3, 4], [-1, 0, 1, 100]], { device });
    const y = await ln.forward(x).data(), z = await rn.forward(x).data();
    const ey = S.norm(await x.data(), null, null, 2, 4, 1e-5, false).y, ez = S.norm(await x.data(), null, null, 2, 4, 2 ** -23, true).y;
    for (let i = 0; i < 8; i++) {
      assert.ok(Math.abs(y[i] - ey[i]) < 1e-5, `${device} layerNorm ${i}: ${y[i]} vs ${ey[i]}`);
      assert.ok(Math.abs(z[i] - ez[i]) < 1e-5, `${device} rmsNorm ${i}: ${z[i]} vs ${ez[i]}`);
    }
  }
});

test('bad arguments are LeptonErrors naming the op and argument', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  throwsLepton(() => layerNorm(x, [2]), /layerNorm.*'normalizedShape' \[2\] must match the last 1 dimension\(s\) of x \[2, 3\]/);
  throwsLepton(() => layerNorm(x, [2, 2, 3]), /normalizedShape/);
  throwsLepton(() => layerNorm(x, 0), /positive integer/);
  throwsLepton(() => layerNorm(x, 3, tensor([1, 1])), /'weight' has shape \[2\]; needs \[3\]/);
  throwsLepton(() => layerNorm(x, 3, null, tensor([[1, 1, 1]])), /'bias' has shape \[1, 3\]; needs \[3\]/);
  throwsLepton(() => layerNorm(x, 3, null, null, -1), /'eps' must be a finite number >= 0, got -1/);
  throwsLepton(() => rmsNorm(x, 3, null, NaN), /rmsNorm.*'eps'/);
  throwsLepton(() => new LayerNorm(4, { epsilon: 1 } as never), /unknown option 'epsilon'/);
  throwsLepton(() => new RMSNorm([]), /nn.RMSNorm.*normalizedShape/);
});

test.run();
