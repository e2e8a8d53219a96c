// crossEntropy with class ids runs the fused kernels: large vocabularies,
// reductions, and the memory it keeps (no probability tensor).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { memory, resetPeakMemoryStats } from '../../src/memory-stats.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { mul } from '../../src/ops/elementwise.js';
import { reshape } from '../../src/ops/shape.js';
import * as optim from '../../src/optim/index.js';
import { relErr } from '../helpers/error.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import type { Nd } from '../reference/ops.js';
import * as R from '../reference/ops.js';
import * as S from '../reference/seq.js';
import { throwsLepton } from '../helpers/throws.js';

const r = testRng('ops-xent');
const nd = (data: Float64Array, shape: number[]): Nd => ({ data, shape });

function expected(x: Nd, labels: number[], reduction: 'mean' | 'sum' | 'none', g: Nd | null) {
  const [N, C] = x.shape;
  const loss = S.xentForward(x.data, labels, N, C);
  const value = reduction === 'none' ? loss : Float64Array.of(loss.reduce((a, b) => a + b, 0) / (reduction === 'mean' ? N : 1));
  const gRow = g ? (reduction === 'none' ? g.data : Array(N).fill(g.data[0] / (reduction === 'mean' ? N : 1))) : [];
  return { value: nd(value, reduction === 'none' ? [N] : []), dx: g ? nd(S.xentVjp(x.data, labels, gRow, N, C), [N, C]) : null };
}

test('crossEntropy with class ids over large vocabularies (mean, sum, none): loss and gradient', async () => {
  for (const [N, C] of [[3, 32000], [1, 50000], [5, 4099], [2, 7], [9, 1]]) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const labels = Array.from({ length: N }, () => r.int(0, C - 1));
      await checkOp({
        name: `crossEntropy [${N}, ${C}] ${reduction}`, inputs: [rnd(r, [N, C], -6, 6)],
        lib: ([x]) => crossEntropy(x, labels, { reduction }),
        ref: ([x]) => expected(x, labels, reduction, null).value,
        vjp: ([x], g) => [expected(x, labels, reduction, g).dx!],
        gradScale: ([x], g) => {
          const dx = expected(x, labels, reduction, g).dx!;
          // p − 1 at the target cancels: accurate relative to g (its two terms' size).
          return [nd(dx.data.map((v, i) => Math.abs(v) + Math.abs(reduction === 'none' ? g.data[Math.floor(i / C)] : g.data[0] / N)), [N, C])];
        },
      }, r, 'crossEntropy');
    }
  }
});

test('the fused crossEntropy keeps no probability tensor: forward and backward stay far under N×C extra floats', async () => {
  for (const device of devices) {
    const N = 4, C = device === 'wasm' ? 50000 : 20000;
    const x = tensor(r.array(N * C, -3, 3), [N, C], { device, requiresGrad: true });
    const labels = Array.from({ length: N }, () => r.int(0, C - 1));
    // Logits as a model makes them: an op's fresh output (a leaf would be copied: see the next test).
    const logits = mul(x, 1);
    const base = memory(device).numBytes;
    resetPeakMemoryStats(device);
    const loss = crossEntropy(logits, labels);
    logits.dispose();
    // Kept for backward: the loss, the targets and each row's log-sum-exp pair, a few floats per row.
    const kept = memory(device).numBytes - base;
    assert.ok(kept <= 16 * N * 4, `${device}: forward keeps ${kept} bytes`);
    loss.backward();
    // Peak: the logits' gradient and x's (N×C each) and the few floats per row, never a third N×C tensor.
    const peak = memory(device).peakBytes - base;
    assert.ok(peak < N * C * 4 * 2.5, `${device}: peak ${peak} bytes over the logits, N×C is ${N * C * 4}`);
    const [got] = await loss.data();
    const want = S.xentForward(await x.data(), labels, N, C).reduce((a, b) => a + b, 0) / N;
    assert.ok(Math.abs(got - want) < 1e-5 * want, `${device}: ${got} vs ${want}`);
    loss.dispose(); x.grad!.dispose(); x.dispose();
  }
});

test('logits that are a leaf (or its view) may be updated in place before backward: the gradient uses the forward\'s values', async () => {
  for (const device of devices) {
    const N = 3, C = 5;
    const X = r.array(N * C, -2, 2);
    const labels = [1, 4, 0];
    for (const view of [false, true]) {
      const x = tensor(X, [N, C], { device, requiresGrad: true });
      const loss = crossEntropy(view ? reshape(x, [N, C]) : x, labels);
      const opt = new optim.SGD([x], { lr: 1 });
      x.grad = tensor(new Float32Array(N * C).fill(1), [N, C], { device });
      opt.step(); // x changes in place after the forward
      x.grad.dispose(); x.grad = null;
      loss.backward();
      const want = S.xentVjp(X, labels, Array(N).fill(1 / N), N, C);
      const got = await x.grad!.data();
      assert.ok(relErr(got, want) < 1e-5, `${device}${view ? ' view' : ''}: ${got} vs ${want}`);
      loss.dispose(); x.grad!.dispose(); x.dispose();
    }
  }
});

test('crossEntropy with ignoreIndex and labelSmoothing (PyTorch\'s ignore_index, label_smoothing): loss and gradient against float64', async () => {
  for (const [N, C] of [[6, 5], [9, 1000], [4, 3], [1, 7]]) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      for (const [ignoreIndex, labelSmoothing] of [[-100, 0.1], [1, 0], [2, 0.3], [undefined, 1]] as const) {
        const ign = ignoreIndex ?? -100;
        // Rows of the ignored id now and then (never all of them: the mean's divisor stays finite here).
        const labels = Array.from({ length: N }, (_, i) => (i > 0 && r.next() < 0.4 ? ign : r.int(0, C - 1)));
        if (labels[0] === ign) labels[0] = (ign + 1) % C;
        const kept = labels.filter((v) => v !== ign).length;
        const eps = labelSmoothing;
        const rows = (x: Nd) => S.xentOptionsForward(x.data, labels, N, C, eps, ign);
        const div = reduction === 'mean' ? kept : 1;
        const gRowOf = (g: Nd) => (reduction === 'none' ? g.data : Array(N).fill(g.data[0] / div));
        await checkOp({
          name: `crossEntropy [${N}, ${C}] ${reduction} ignoreIndex ${ignoreIndex} labelSmoothing ${eps}`, inputs: [rnd(r, [N, C], -4, 4)],
          lib: ([x]) => crossEntropy(x, labels, { reduction, ignoreIndex, labelSmoothing }),
          ref: ([x]) => (reduction === 'none' ? nd(rows(x), [N]) : nd(Float64Array.of(rows(x).reduce((a, b) => a + b, 0) / div), [])),
          vjp: ([x], g) => [nd(S.xentOptionsVjp(x.data, labels, gRowOf(g), N, C, eps, ign), [N, C])],
          gradScale: ([x], g) => {
            const dx = S.xentOptionsVjp(x.data, labels, gRowOf(g), N, C, eps, ign);
            const gr = gRowOf(g);
            return [nd(dx.map((v, i) => Math.abs(v) + Math.abs(gr[Math.floor(i / C)])), [N, C])];
          },
        }, r, 'crossEntropy');
      }
    }
  }
});

test('ignoreIndex with ids in a tensor: the mean divides by the rows kept, counted on the device where the ids stay there', async () => {
  for (const device of devices) {
    const N = 5, C = 4, X = r.array(N * C, -2, 2), labels = [3, -100, 0, -100, 2];
    const want = S.xentOptionsForward(X, labels, N, C, 0.1, -100).reduce((a, b) => a + b, 0) / 3;
    const wantDx = S.xentOptionsVjp(X, labels, Array(N).fill(1 / 3), N, C, 0.1, -100);
    for (const ids of [labels, tensor(labels, [N], { device })]) {
      const x = tensor(X, [N, C], { device, requiresGrad: true });
      const loss = crossEntropy(x, ids, { labelSmoothing: 0.1 });
      loss.backward();
      const [got] = await loss.data(), dx = await x.grad!.data();
      assert.ok(Math.abs(got - want) < 1e-5 * want, `${device} ${ids instanceof Array ? 'array' : 'tensor'}: ${got} vs ${want}`);
      assert.ok(relErr(dx, wantDx) < 1e-5, `${device}: gradient ${dx} vs ${wantDx}`);
      loss.dispose(); x.grad!.dispose(); x.dispose();
    }
    // Every row ignored: the mean is 0/0 = NaN, as PyTorch's, and the gradient 0.
    const x = tensor(X.slice(0, 2 * C), [2, C], { device, requiresGrad: true });
    for (const ids of [[-100, -100], tensor([-100, -100], [2], { device })]) {
      const loss = crossEntropy(x, ids);
      loss.backward();
      assert.ok(Number.isNaN(await loss.item()), `${device}: all ignored`);
      assert.ok([...await x.grad!.data()].every((v) => v === 0), `${device}: all ignored, gradient 0`);
      x.grad!.dispose(); x.grad = null; loss.dispose();
    }
    x.dispose();
  }
});

test('labelSmoothing on probability targets: the target becomes (1 − ε)·t + ε/C (ignoreIndex applies to class ids only)', async () => {
  const N = 4, C = 6, eps = 0.2;
  const probs = Float64Array.from({ length: N * C }, () => r.next());
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += probs[i * C + c];
    for (let c = 0; c < C; c++) probs[i * C + c] /= s;
  }
  const smoothed = (t: Nd) => nd(t.data.map((v) => (1 - eps) * v + eps / C), t.shape);
  await checkOp({
    name: `crossEntropy probabilities [${N}, ${C}] labelSmoothing ${eps}`, inputs: [rnd(r, [N, C], -3, 3), nd(Float64Array.from(probs, Math.fround), [N, C])],
    lib: ([x, t]) => crossEntropy(x, t, { labelSmoothing: eps, ignoreIndex: 0 }),
    ref: ([x, t]) => R.crossEntropyForward(x, smoothed(t)),
    vjp: ([x, t], g) => {
      const [dx, dt] = R.crossEntropyVjp(x, smoothed(t), g);
      return [dx, nd(dt.data.map((v) => v * (1 - eps)), dt.shape)];
    },
    gradScale: ([x, t], g) => {
      const [dx, dt] = R.crossEntropyVjp(x, smoothed(t), g, 'mean', true);
      return [dx, nd(dt.data.map((v) => v * (1 - eps)), dt.shape)];
    },
  }, r, 'crossEntropy');
});

test('crossEntropy options are checked: ignoreIndex an integer within ±2^24, labelSmoothing in [0, 1], PyTorch\'s spellings suggested', () => {
  const x = tensor([[1, 2, 3], [3, 2, 1]]);
  throwsLepton(() => crossEntropy(x, [0, 1], { ignoreIndex: 0.5 }), /crossEntropy: option 'ignoreIndex' must be an integer in \[-16777216, 16777216\], got 0.5/);
  throwsLepton(() => crossEntropy(x, [0, 1], { labelSmoothing: 1.5 }), /crossEntropy: option 'labelSmoothing' must be a number in \[0, 1\], got 1.5/);
  throwsLepton(() => crossEntropy(x, [0, 1], { labelSmoothing: -0.1 }), /option 'labelSmoothing'/);
  throwsLepton(() => crossEntropy(x, [0, -1]), /argument 'labels' has class id -1 at index 1; needs an integer in \[0, 2\] for logits \[2, 3\] \(or the ignoreIndex -100\)/);
  throwsLepton(() => crossEntropy(x, [0, -100], { ignoreIndex: -1 }), /class id -100 at index 1; .*\(or the ignoreIndex -1\)/);
  // PyTorch's spellings are suggested (the options' convention), not taken silently.
  throwsLepton(() => crossEntropy(x, [0, 1], { ignore_index: 1 } as never), /unknown option 'ignore_index' \(did you mean 'ignoreIndex'\?\)/);
  throwsLepton(() => crossEntropy(x, [0, 1], { label_smoothing: 0.1 } as never), /unknown option 'label_smoothing' \(did you mean 'labelSmoothing'\?\)/);
  x.dispose();
});

test.run();
