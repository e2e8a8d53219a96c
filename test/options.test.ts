// Options at the API boundary: every public function that takes an options
// object refuses an unknown name and a value of the wrong kind with a
// LeptonError naming the option and what it accepts. Also the optimizers'
// hyperparameters and parameter lists, activation names, reduction axes and
// a second init() whose options conflict with the running backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../src/index.js';
import { Storage } from '../src/tensor.js';
import { devices } from './helpers/backends.js';
import { rejectsLepton, throwsLepton } from './helpers/throws.js';

const { tensor, nn, optim, data } = lp;
const values = (t: lp.Tensor | null) => (t ? [...t.dataSync()] : null);

class WithBuffer extends nn.Module {
  constructor(buffer: lp.Tensor, opts: unknown) {
    super();
    this.registerBuffer('b', buffer, opts as { persistent?: boolean });
  }
  forward(x: lp.Tensor) { return x; }
}

/**
 * Every public function or constructor that takes an options object, called
 * with `opts`; the tensors they take are made once, up front (`made`).
 */
function callers(made: lp.Tensor[]): [string, (opts: unknown) => unknown][] {
  const x = tensor([[1, 2]]), w = tensor([1], { requiresGrad: true }), buffer = tensor([1]);
  const loss = w.sum(), model = new nn.Linear(1, 1);
  made.push(x, w, buffer, loss, ...model.parameters());
  const p = () => [w];
  const o = (v: unknown) => v as never;
  return [
    ['tensor', (v) => tensor([1], o(v))],
    ['tensor', (v) => tensor([1], [1], o(v))],
    ['zeros', (v) => lp.zeros([1], o(v))],
    ['ones', (v) => lp.ones([1], o(v))],
    ['full', (v) => lp.full([1], 2, o(v))],
    ['randn', (v) => lp.randn([1], o(v))],
    ['rand', (v) => lp.rand([1], o(v))],
    ['backward', (v) => loss.backward(undefined, o(v))],
    ['crossEntropy', (v) => lp.crossEntropy(x, [0], o(v))],
    ['mse', (v) => lp.mse(x, x, o(v))],
    ['nn.Linear', (v) => new nn.Linear(2, 1, o(v))],
    ['nn.MLP', (v) => new nn.MLP([2, 1], o(v))],
    ['registerBuffer', (v) => new WithBuffer(buffer, v)],
    ['loadStateDict', (v) => model.loadStateDict({}, o(v))],
    ['optim.SGD', (v) => new optim.SGD(p(), o(v))],
    ['optim.Adam', (v) => new optim.Adam(p(), o(v))],
    ['optim.AdamW', (v) => new optim.AdamW(p(), o(v))],
    ['data.DataLoader', (v) => new data.DataLoader(new data.TensorDataset([1, 2]), o(v))],
    ['data.spiral', (v) => data.spiral(2, o(v))],
    ['setBackendOptions', (v) => lp.setBackendOptions('wasm', o(v))],
  ];
}

test('every options object: an unknown name and a non-object are LeptonErrors naming what is accepted', () => {
  const made: lp.Tensor[] = [];
  const all = callers(made);
  const live = Storage.live;
  for (const [op, call] of all) {
    const escaped = op.replace('.', '\\.');
    throwsLepton(() => call({ bogusOption: 1 }), new RegExp(`^${escaped}: unknown option 'bogusOption'; the options are: \\w`), op);
    throwsLepton(() => call(7), new RegExp(`^${escaped}: argument 'options' must be an object`), `${op} with 7`);
    // tensor(data, array) reads the array as a shape.
    throwsLepton(() => call(['x']), new RegExp(`^${escaped}: argument '(options' must be an object|shape' has size x)`), `${op} with an array`);
    throwsLepton(() => call({ toString: 1 }), /unknown option 'toString'/, `${op} with an own 'toString'`);
  }
  assert.is(Storage.live, live, 'no refused call allocated anything');
  lp.dispose(made);
});

test('options with a wrong kind of value name the option and what it accepts', () => {
  const x = tensor([[1, 2]]);
  throwsLepton(() => lp.crossEntropy(x, [0], { reduction: 'avg' } as never), /crossEntropy: option 'reduction' must be one of 'mean', 'sum', 'none', got "avg"/);
  throwsLepton(() => lp.mse(x, x, { reductions: 'sum' } as never), /mse: unknown option 'reductions' \(did you mean 'reduction'\?\)/);
  throwsLepton(() => new nn.Linear(2, 3, { bias: 'no' } as never), /nn.Linear: option 'bias' must be a boolean/);
  throwsLepton(() => new nn.Linear(2, 3, { init: 'toString' } as never), /nn.Linear: option 'init' must be one of 'he', 'xavier', 'zeros', got "toString"/);
  throwsLepton(() => new nn.MLP([2, 3], { seed: 'x' } as never), /nn.MLP: option 'seed' must be a finite number, got "x"/);
  throwsLepton(() => data.spiral(3, { classes: 0 }), /data.spiral: option 'classes' must be an integer >= 2, got 0/);
  throwsLepton(() => data.spiral(3, { noise: -1 }), /data.spiral: option 'noise' must be a finite number >= 0, got -1/);
  x.dispose();
});

test("activation names are looked up as own names: 'toString', '__proto__', 'constructor' are refused", () => {
  const x = tensor([[1, 2]]), w = tensor([[1], [2]]);
  for (const act of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
    throwsLepton(() => new nn.Linear(2, 3, { activation: act } as never), /nn.Linear: option 'activation' must be one of 'none', 'relu'/, act);
    throwsLepton(() => new nn.MLP([2, 3, 1], { activation: act } as never), /nn.MLP: option 'activation' must be one of/, act);
    throwsLepton(() => new nn.MLP([2, 3, 1], { outputActivation: act } as never), /nn.MLP: option 'outputActivation' must be one of/, act);
    throwsLepton(() => lp.linear(x, w, null, act as never), /linear: argument 'act' must be one of/, act);
  }
  lp.dispose(x, w);
});

test('reductions: axis and keepDims are positional and checked', () => {
  const t = tensor([[1, 2], [3, 4]]);
  throwsLepton(() => lp.mean(t, { axis: 1 } as never), /mean: argument 'axis' must be an integer or an array of integers, got an object; the axis is positional: mean\(x, 1, true\)/);
  throwsLepton(() => t.sum('0' as never), /sum: argument 'axis' must be an integer or an array of integers, got "0"/);
  throwsLepton(() => t.max([0, 0.5]), /max: argument 'axis' must be an integer or an array of integers, got \[0, 0.5\]$/);
  throwsLepton(() => t.sum(0, 'yes' as never), /sum: argument 'keepDims' must be a boolean, got "yes"/);
  throwsLepton(() => lp.softmax(t, { axis: 0 } as never), /softmax: argument 'axis' must be an integer, got an object/);
  throwsLepton(() => lp.argmax(t, { axis: 0 } as never), /argmax: argument 'axis' must be an integer/);
  assert.equal(values(lp.mean(t, [0, 1], true)), [2.5]);
  t.dispose();
});

test('optimizers: lr is validated when set, every hyperparameter again at step(); a failed step changes nothing', () => {
  const w = tensor([1, 2], { requiresGrad: true });
  w.square().sum().backward();
  const sgd = new optim.SGD([w], { lr: 0.5, momentum: 0.9 });
  throwsLepton(() => { sgd.lr = NaN; }, /optim.SGD: option 'lr' must be a finite number >= 0, got NaN/);
  throwsLepton(() => { sgd.lr = -1; }, /optim.SGD: option 'lr' must be a finite number >= 0, got -1/);
  assert.is(sgd.lr, 0.5, 'the refused value was not kept');
  (sgd as unknown as { momentum: number }).momentum = 2; // past TypeScript's readonly
  throwsLepton(() => sgd.step(), /optim.SGD.step: option 'momentum' must be a number in \[0, 1\), got 2/);
  assert.equal(values(w), [1, 2], 'no parameter updated');
  (sgd as unknown as { momentum: number }).momentum = 0.9;
  sgd.lr = 0.25;
  sgd.step();
  assert.equal(values(w), [0.5, 1], 'w − 0.25 · 2w');
  const adam = new optim.Adam([w]);
  throwsLepton(() => { adam.lr = Infinity; }, /optim.Adam: option 'lr'/);
  lp.dispose(w, w.grad);
  sgd.dispose(); adam.dispose();
});

test('optimizers: parameter lists and gradient shapes', () => {
  const p = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true }), q = tensor([1], { requiresGrad: true });
  throwsLepton(() => new optim.SGD([p, q, p]), /optim.SGD: params\[2\] is the same tensor as params\[0\]; a parameter may appear only once/);
  throwsLepton(() => new optim.Adam([]), /optim.Adam: argument 'params' is empty/);
  throwsLepton(() => new optim.SGD([p.mul(2)]), /optim.SGD: params\[0\] .*is not a leaf/);
  throwsLepton(() => new optim.Adam([p], { learningRate: 0.1 } as never), /optim.Adam: unknown option 'learningRate' \(did you mean 'lr'\?\); the options are: lr, betas, eps, weightDecay/);
  throwsLepton(() => new optim.Adam([p], { betas: 0.9 } as never), /optim.Adam: option 'betas' must be an array of 2 values/);
  throwsLepton(() => new optim.SGD([p], { nesterov: 1 } as never), /optim.SGD: option 'nesterov' must be a boolean/);
  throwsLepton(() => new optim.SGD([p], { weight_decay: 0.1 } as never), /unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/);
  const opt = new optim.Adam([p, q]);
  q.grad = tensor([1], { requiresGrad: false });
  p.grad = tensor([[1, 1], [1, 1], [1, 1]]); // the right size, the wrong shape
  throwsLepton(() => opt.step(), /optim.Adam.step: params\[0\].grad has shape \[3, 2\]; needs \[2, 3\]/);
  assert.equal(values(p), [1, 2, 3, 4, 5, 6]);
  assert.equal(values(q), [1], 'the other parameter was not updated either');
  p.grad.dispose();
  p.grad = null;
  opt.step();
  assert.ok(Math.abs(values(q)![0] - (1 - 1e-3)) < 1e-6, 'the first Adam step is lr · sign(g): the failed step did not count');
  lp.dispose(p, q, q.grad);
  opt.dispose();
});

test('modules: registerParameter and registerModule take a Tensor and an nn.Module', () => {
  class Bad extends nn.Module {
    constructor(what: 'param' | 'module') {
      super();
      if (what === 'param') this.registerParameter('w', [1, 2] as never);
      else this.registerModule('m', { forward: (x: lp.Tensor) => x } as never);
    }
    forward(x: lp.Tensor) { return x; }
  }
  throwsLepton(() => new Bad('param'), /^registerParameter: parameter 'w' must be a Tensor, got \[1, 2\]/);
  throwsLepton(() => new Bad('module'), /^registerModule: module 'm' must be an nn.Module, got an object/);
});

test('a second init() with options that conflict with the running backend is an error', async () => {
  await lp.init({ backend: 'wasm' });
  const props = lp.getDeviceProperties('wasm');
  await lp.init({ backend: 'wasm', threads: props.maxThreads }); // what it runs with: fine
  await lp.init({ backend: 'wasm', simd: props.simd });
  const other = props.maxThreads === 1 ? 2 : 1;
  let err: unknown = null;
  await lp.init({ backend: 'wasm', threads: other }).catch((e) => { err = e; });
  assert.instance(err, lp.LeptonError);
  assert.match(String(err), new RegExp(`init: option 'threads' is ${other}, but the WASM backend already runs with threads 'auto' \\(${props.maxThreads}\\).*setBackendOptions\\('wasm', \\{ threads: ${other} \\}\\)`));
  err = null;
  await lp.init({ backend: 'wasm', simd: props.simd === 'relaxed' ? 'simd' : 'relaxed' }).catch((e) => { err = e; });
  assert.match(String(err), /init: option 'simd' is '\w+', but the WASM backend already runs/);
  err = null;
  await lp.init({ backend: 'wasm', threads: 0 }).catch((e) => { err = e; });
  assert.match(String(err), /init: option 'threads' must be 'auto' or a positive integer, got 0/);
  await rejectsLepton(() => lp.init({ backend: 'wasm', thread: 2 } as never), /init: unknown option 'thread' \(did you mean 'threads'\?\)/);
  await rejectsLepton(() => lp.init('wasm' as never), /init: argument 'options' must be an object .*got "wasm"/);
  if (devices.includes('webgpu')) {
    err = null;
    await lp.init({ backend: 'webgpu', powerPreference: 'low-power' }).catch((e) => { err = e; });
    assert.match(String(err), /init: option 'powerPreference' is 'low-power', but the WebGPU backend already runs with powerPreference unset/);
  }
  assert.is(lp.currentDevice(), 'wasm');
});

test.run();
