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
import * as S from '../reference/seq.js';

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

test.run();
