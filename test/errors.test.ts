// Misuse at the API boundary: each case throws a LeptonError that says what to
// do, and the failed call changes nothing (values, .grad, live storage).
// Autograd (backward's forms, a second backward, a failure midway), creation
// from host data, noGrad / scope with async functions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../src/index.js';
import { record } from '../src/autograd.js';
import { unaryRaw } from '../src/ops/elementwise.js';
import { Storage } from '../src/tensor.js';
import { devices } from './helpers/backends.js';
import { throwsLepton } from './helpers/throws.js';

const { tensor, randn, rand, zeros } = lp;

const values = (t: lp.Tensor | null) => (t ? [...t.dataSync()] : null);

test('a second backward() through a freed graph is an error, and changes nothing', () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const loss = x.square().sum();
  loss.backward();
  const g = values(x.grad), live = Storage.live;
  throwsLepton(() => loss.backward(), /backward: .*already freed by an earlier backward\(\).*retainGraph: true/);
  assert.equal(values(x.grad), g, 'the gradient did not change');
  assert.is(loss.grad, null, 'the non-leaf root got no .grad');
  assert.is(Storage.live, live, 'nothing allocated');
  lp.dispose(x, x.grad, loss);
});

test('backward() through a graph another backward() freed is an error naming the op', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.exp();
  const a = y.sum(), b = y.mul(3).sum();
  a.backward(); // frees y's node (exp) on the way to x
  const g = values(x.grad);
  throwsLepton(() => b.backward(), /backward: the graph through 'exp' .*already freed/);
  assert.equal(values(x.grad), g);
  assert.is(y.grad, null, 'the intermediate did not become a leaf');
  lp.dispose(x, x.grad, y, a, b);
});

test("backward's PyTorch forms: (), (grad), (grad, { retainGraph }), ({ retainGraph }), (null)", () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const loss = x.mul(2).sum();
  loss.backward({ retainGraph: true });
  loss.backward(undefined, { retainGraph: true });
  loss.backward(null, { retainGraph: true });
  const seed = tensor(0.5);
  loss.backward(seed, { retainGraph: true });
  loss.backward(seed);
  assert.equal(values(x.grad), [8, 8, 8], '2 · (1 + 1 + 1 + 0.5 + 0.5)');
  assert.not.ok(seed.isDisposed, "the caller's gradient is not taken");
  lp.dispose(x, x.grad, loss, seed);
});

test('backward with a wrong argument is a LeptonError, and changes nothing', () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const loss = x.mul(2).sum();
  const live = Storage.live;
  throwsLepton(() => loss.backward(1 as never), /backward: argument 'grad' must be a Tensor .*got 1/);
  throwsLepton(() => loss.backward([1] as never), /backward: argument 'grad' must be a Tensor .*got \[1\]/);
  throwsLepton(() => loss.backward(undefined, { retainGraph: 'yes' } as never), /backward: option 'retainGraph' must be a boolean .*got "yes"/);
  throwsLepton(() => loss.backward({ retain_graph: true } as never), /backward: unknown option 'retain_graph' \(did you mean 'retainGraph'\?\)/);
  throwsLepton(() => loss.backward(undefined, 5 as never), /backward: argument 'options' must be an object/);
  throwsLepton(() => loss.backward(tensor([1, 2, 3]) as never), /argument 'grad' has shape \[3\], needs \[\]/);
  const gone = tensor(1);
  gone.dispose();
  throwsLepton(() => loss.backward(gone), /backward: argument 'grad' .*was disposed/);
  assert.is(x.grad, null);
  assert.is(Storage.live, live + 1, 'only the refused [3] gradient made by this test is alive');
  loss.backward(); // the graph is intact
  assert.equal(values(x.grad), [2, 2, 2]);
  lp.dispose(x, x.grad, loss);
});

/** An op whose gradient formula throws while `broken.on`, and passes g through otherwise. */
function flaky(x: lp.Tensor, broken: { on: boolean }) {
  return record('flaky', unaryRaw('copy', x), [x], [], (g) => {
    if (broken.on) throw new Error('simulated failure inside a gradient formula');
    return [unaryRaw('copy', g)];
  });
}

test('a backward that fails midway has accumulated nothing; a retry counts once', () => {
  for (const retainGraph of [true, false]) {
    const w1 = tensor([1, 2], { requiresGrad: true }), w2 = tensor([3, 4], { requiresGrad: true });
    w1.mul(10).sum().backward(); // an earlier gradient, which must stay as it is
    const broken = { on: true };
    // Reverse topological order reaches w1 (through the sum) before the failing node.
    const loss = lp.add(flaky(w2, broken).sum(), w1.mul(w1).sum());
    const live = Storage.live;
    try {
      loss.backward({ retainGraph });
      assert.unreachable('should throw');
    } catch (e) {
      assert.match(String(e), /simulated failure/);
    }
    assert.equal(values(w1.grad), [10, 10], `retainGraph ${retainGraph}: w1.grad unchanged after the failure`);
    assert.is(w2.grad, null);
    assert.is(Storage.live, live, `retainGraph ${retainGraph}: the failed backward left no gradient alive`);
    broken.on = false;
    if (retainGraph) {
      loss.backward();
      assert.equal(values(w1.grad), [12, 14], 'counted once: 10 + 2·w1');
      assert.equal(values(w2.grad), [1, 1]);
    } else {
      // Part of the graph was freed before the failure: a retry is refused, never double-counted.
      throwsLepton(() => loss.backward(), /backward: .*already freed by an earlier backward\(\)/);
      assert.equal(values(w1.grad), [10, 10]);
    }
    lp.dispose(w1, w2, w1.grad, w2.grad, loss);
  }
});

test('backward through a graph whose saved tensor an optimizer step or loadStateDict updated in place is an error', () => {
  const w = tensor([1, 2], { requiresGrad: true });
  w.sum().backward(); // w.grad = [1, 1]
  const loss = w.square().sum(); // square saves w
  const unsaved = w.mul(3).sum(); // a number operand: nothing saved
  const opt = new lp.optim.SGD([w], { lr: 0.5 });
  opt.step(); // w = [0.5, 1.5]
  throwsLepton(() => loss.backward(), /^backward: a tensor the gradient of 'square' reads \(shape \[2\]\) was modified in place after the forward .*Call backward\(\) before step\(\)/);
  assert.equal(values(w.grad), [1, 1], 'nothing accumulated (before: the gradient of the new values, 2 · [0.5, 1.5])');
  unsaved.backward();
  assert.equal(values(w.grad), [4, 4], 'a graph that saved nothing of w still runs');
  // loadStateDict writes in place too: the second layer saved its weight for the hidden activation's gradient.
  const model = new lp.nn.MLP([2, 3, 1], { seed: 1 });
  const out = model.forward(tensor([[1, 2]])).sum();
  model.loadStateDict(model.stateDict());
  throwsLepton(() => out.backward(), /^backward: a tensor the gradient of 'linear' reads \(shape \[3, 1\]\) was modified in place/);
  assert.ok(model.parameters().every((p) => p.grad === null));
  lp.dispose(w, w.grad, loss, unsaved, out);
  model.dispose();
});

test("tensor() refuses strings, array-likes without numbers and non-numeric typed arrays", () => {
  throwsLepton(() => tensor('abc' as never), /tensor: argument 'data' must be a number, an array or a typed array, got "abc"/);
  throwsLepton(() => tensor('123' as never), /tensor: argument 'data' .*got "123"/);
  throwsLepton(() => tensor({ length: 3 } as never), /tensor: argument 'data' has no number at index 0/);
  throwsLepton(() => tensor(new BigInt64Array(2) as never), /tensor: argument 'data' .*BigInt64Array/);
  throwsLepton(() => tensor(new DataView(new ArrayBuffer(8)) as never), /tensor: argument 'data' .*DataView/);
  throwsLepton(() => tensor([1, 2], 2 as never), /tensor: argument 'options' must be an object .*got 2/);
  throwsLepton(() => tensor([1, 2], [2], [2] as never), /tensor: argument 'options' must be an object .*got \[2\]/);
  // Still accepted: array-likes of numbers, typed arrays of any numeric kind.
  assert.equal(values(tensor({ length: 2, 0: 5, 1: 6 } as ArrayLike<number>)), [5, 6]);
  assert.equal(values(tensor(Uint8Array.of(1, 255))), [1, 255]);
});

test('creation options: names, types and distribution parameters are checked', () => {
  throwsLepton(() => tensor([1], { devcie: 'wasm' } as never), /tensor: unknown option 'devcie' \(did you mean 'device'\?\); the options are: requiresGrad, device/);
  throwsLepton(() => tensor([1], { requiresGrad: 'yes' } as never), /tensor: option 'requiresGrad' must be a boolean .*got "yes"/);
  throwsLepton(() => zeros([2], { requiresGrad: 1 } as never), /zeros: option 'requiresGrad' must be a boolean/);
  throwsLepton(() => lp.ones([2], { device: 'cuda' } as never), /ones: option 'device' must be one of 'wasm', 'webgpu', got "cuda"/);
  throwsLepton(() => lp.full([2], 1, { seed: 1 } as never), /full: unknown option 'seed'/);
  throwsLepton(() => randn([2], { std: NaN }), /randn: option 'std' must be a finite number >= 0, got NaN/);
  throwsLepton(() => randn([2], { std: -1 }), /randn: option 'std' must be a finite number >= 0, got -1/);
  throwsLepton(() => randn([2], { mean: Infinity }), /randn: option 'mean' must be a finite number, got Infinity/);
  throwsLepton(() => randn([2], { low: 0 } as never), /randn: unknown option 'low'/);
  throwsLepton(() => rand([2], { high: Infinity }), /rand: option 'high' must be a finite number, got Infinity/);
  throwsLepton(() => rand([2], { low: 1, high: 1 }), /rand: needs low < high, got low 1, high 1/);
  throwsLepton(() => randn([2], { seed: NaN }), /randn: option 'seed' must be a finite number, got NaN/);
  const live = Storage.live;
  const z = randn([1000], { std: 0, mean: 2 });
  assert.ok(values(z)!.every((v) => v === 2), 'std 0 is a constant (as PyTorch)');
  z.dispose();
  assert.is(Storage.live, live);
});

test('noGrad and scope refuse an async function before running it', () => {
  let ran = false;
  const body = async () => { ran = true; await null; return 1; };
  throwsLepton(() => lp.noGrad(body as never), /noGrad: the function is async.*noGrad\(\(\) => \.\.\.\) around the synchronous part/);
  throwsLepton(() => lp.scope(body as never), /scope: the function is async/);
  assert.not.ok(ran, 'the body did not start');
  throwsLepton(() => lp.noGrad(5 as never), /noGrad: argument 'fn' must be a function, got 5/);
  throwsLepton(() => lp.scope(null as never), /scope: argument 'fn' must be a function, got null/);
  // A plain function that returns a Promise (e.g. async code compiled to generators) is caught afterwards.
  const w = tensor([1], { requiresGrad: true });
  let inner: lp.Tensor | null = null;
  throwsLepton(() => lp.noGrad(() => { inner = w.mul(2); return Promise.resolve(inner); }), /noGrad: the function returned a Promise/);
  assert.is(lp.isGradEnabled(), true, 'recording is back on');
  throwsLepton(() => lp.scope(() => Promise.resolve(1)), /scope: the function returned a Promise/);
  lp.dispose(w, inner);
  // Synchronous functions keep working.
  assert.is(lp.noGrad(() => 3), 3);
});

test('tensors on two devices and freed arguments stay LeptonErrors', () => {
  if (devices.length < 2) return;
  const a = tensor([1, 2], { device: 'wasm', requiresGrad: true }), b = tensor([1, 2], { device: 'webgpu' });
  const loss = a.sum();
  const g = tensor(1, { device: 'webgpu' });
  throwsLepton(() => loss.backward(g), /backward: argument 'grad' is on webgpu, the tensor on wasm/);
  throwsLepton(() => a.add(b), /add: tensors are on different devices/);
  assert.is(a.grad, null);
  lp.dispose(a, b, g, loss);
});

test.run();
