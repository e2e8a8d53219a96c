// Module.train()/eval() and the inference path: model.eval() + noGrad()
// records no graph and keeps nothing for gradients (counted in live device
// storages), on every backend; the graph a training forward keeps is the
// contrast that shows the count can fail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { Storage } from '../../src/tensor.js';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';

const { nn, tensor, noGrad, LeptonError } = lp;
const rng = testRng('inference');

test('train()/eval(): a training flag set on the whole tree (PyTorch semantics), namedModules()/children()', () => {
  const m = new nn.MLP([2, 3, 4, 5]);
  assert.is(m.training, true);
  assert.equal([...m.namedModules()].map(([n]) => n), ['', 'layers.0', 'layers.1', 'layers.2']);
  assert.equal([...m.namedChildren()].map(([n]) => n), ['layers.0', 'layers.1', 'layers.2']);
  assert.ok(m.children().every((c, i) => c === m.layers[i]));
  assert.equal([...m.namedModules('net')].map(([n]) => n)[1], 'net.layers.0');
  assert.is(m.eval(), m, 'eval() returns the module');
  assert.ok(m.modules().every((x) => x.training === false));
  m.layers[1].train();
  assert.equal(m.modules().map((x) => x.training), [false, false, true, false], 'train() on a child reaches only its subtree');
  m.train();
  assert.ok(m.modules().every((x) => x.training));
  m.train(false);
  assert.ok(m.modules().every((x) => !x.training));
  try { m.train('no' as never); assert.unreachable(); } catch (e) { assert.instance(e, LeptonError); assert.match((e as Error).message, /train: argument 'mode' must be a boolean, got string/); }
  m.dispose();
});

test('eval() + noGrad(): the forward keeps only its output: no graph, no saved tensors, on every backend', async () => {
  for (const device of devices) {
    for (const activation of ['gelu', 'relu', 'tanh'] as const) {
      const m = new nn.MLP([6, 16, 16, 3], { activation, device, seed: rng.int(1, 1e6) }).eval();
      const x = tensor(rng.array(8 * 6), [8, 6], { device });
      const live = Storage.live;
      const y = noGrad(() => m.forward(x));
      assert.is(y.gradFn, null);
      assert.is(y.requiresGrad, false);
      assert.is(Storage.live - live, 1, `${device} ${activation}: only the output is alive after an inference forward`);
      const values = await y.data();
      y.dispose();
      assert.is(Storage.live, live, `${device} ${activation}: nothing left after the output is freed`);
      // The contrast: with gradients on, the forward's graph holds its saved tensors.
      const t = m.forward(x);
      assert.ok(t.gradFn, 'a forward with gradients on records a graph');
      assert.ok(Storage.live - live > 1, `${device} ${activation}: the training forward keeps saved tensors (${Storage.live - live} storages)`);
      assert.ok(relErr(await t.data(), values) < 1e-6, 'same values either way');
      t.dispose();
      assert.is(Storage.live, live, 'disposing the output releases its graph');
      x.dispose();
      m.dispose();
    }
  }
});

test.run();
