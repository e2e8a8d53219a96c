// nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.Flatten and nn.Sequential on
// every backend: forward and gradients (of the input and of the module's own
// parameters) against the float64 references, PyTorch's state-dict keys,
// train()/eval() reaching every child, and shape errors that name the layer
// and the dimension before any kernel runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import type { Activation } from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { rnd } from '../helpers/grad.js';
import { checkLayer } from '../helpers/layer.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import * as C from '../reference/conv.js';
import { linearForward, linearVjp, type Nd } from '../reference/ops.js';

const { nn, zeros } = lp;
const r = testRng('nn-conv-layers');

interface ConvCase { x: number[]; cin: number; cout: number; k: number | [number, number]; o: lp.nn.Conv2dLayerOptions; act: Activation }
const CONV: ConvCase[] = [
  { x: [2, 6, 5, 3], cin: 3, cout: 4, k: 3, o: {}, act: 'none' },
  { x: [1, 7, 7, 2], cin: 2, cout: 5, k: 5, o: { padding: 'same' }, act: 'relu' },
  { x: [2, 8, 7, 4], cin: 4, cout: 6, k: [3, 2], o: { stride: 2, padding: 1, groups: 2 }, act: 'tanh' },
  { x: [1, 9, 9, 3], cin: 3, cout: 3, k: 3, o: { dilation: 2, groups: 3, bias: false }, act: 'sigmoid' },
  { x: [3, 4, 4, 5], cin: 5, cout: 2, k: 1, o: {}, act: 'gelu' },
  { x: [1, 3, 4, 2], cin: 2, cout: 3, k: [5, 6], o: { padding: [1, 1, 1, 1] }, act: 'none' },
];

test('nn.Conv2d (stride, padding, dilation, groups, bias, activation): forward and gradients of x, weight and bias', async () => {
  for (const c of CONV) for (const device of devices) {
    const m = new nn.Conv2d(c.cin, c.cout, c.k, { ...c.o, activation: c.act, device, seed: r.int(1, 1e6) });
    const [kh, kw] = typeof c.k === 'number' ? [c.k, c.k] : c.k;
    const wShape = [kh, kw, c.cin / (c.o.groups ?? 1), c.cout];
    assert.equal([...m.weight.shape], wShape, 'HWIO weight');
    assert.is(m.bias === null, c.o.bias === false);
    const x = rnd(r, c.x), w = rnd(r, wShape, -0.5, 0.5), b = c.o.bias === false ? null : rnd(r, [c.cout]);
    const o = { stride: c.o.stride, padding: c.o.padding as C.ConvOpts['padding'], dilation: c.o.dilation, groups: c.o.groups };
    await checkLayer({
      name: `Conv2d(${c.cin}, ${c.cout}, ${JSON.stringify(c.k)}, ${JSON.stringify(c.o)}) ${c.act} x${JSON.stringify(c.x)}`, device, module: m,
      state: b ? { weight: w, bias: b } : { weight: w }, x,
      ref: C.conv2dForward(x, w, b, o, c.act),
      vjp: (g): Record<string, Nd> => {
        const [gx, gw, gb] = C.conv2dVjp(x, w, b, o, c.act, g);
        return b ? { x: gx, weight: gw, bias: gb } : { x: gx, weight: gw };
      },
      tol: 1e-4,
    }, r, 'nn.Conv2d');
  }
});

test('nn.MaxPool2d, nn.AvgPool2d (stride defaults to the kernel, ceil mode), nn.Flatten: forward and input gradient', async () => {
  for (const device of devices) {
    for (const [xs, k, o] of [[[2, 6, 6, 3], 2, {}], [[1, 7, 5, 2], 3, { stride: 2, padding: 1 }], [[2, 5, 8, 1], [2, 3], { stride: [1, 2] }],
      [[1, 8, 7, 2], 3, { stride: 2, padding: 1, ceilMode: true }]] as const) {
      const x = rnd(r, [...xs]);
      const geo = C.poolGeom([...xs], { kernelSize: k, ...o });
      const ys = [geo.N, geo.Ho, geo.Wo, geo.C];
      await checkLayer({
        name: `MaxPool2d(${JSON.stringify(k)}, ${JSON.stringify(o)}) x${JSON.stringify(xs)}`, device, module: new nn.MaxPool2d(k, o), state: {}, x,
        ref: { data: C.maxPool(x.data, geo).y, shape: ys }, vjp: (g) => ({ x: { data: C.maxPoolBackward(x.data, g.data, geo), shape: [...xs] } }),
      }, r, 'nn.MaxPool2d');
      for (const countIncludePad of [true, false]) {
        await checkLayer({
          name: `AvgPool2d(${JSON.stringify(k)}, ${JSON.stringify(o)}, countIncludePad ${countIncludePad}) x${JSON.stringify(xs)}`, device,
          module: new nn.AvgPool2d(k, { ...o, countIncludePad }), state: {}, x,
          ref: { data: C.avgPool(x.data, geo, countIncludePad), shape: ys }, vjp: (g) => ({ x: { data: C.avgPoolBackward(g.data, geo, countIncludePad), shape: [...xs] } }),
        }, r, 'nn.AvgPool2d');
      }
    }
    {
      const xs = [2, 8, 7, 2], o = { stride: 2, padding: 1, dilation: [2, 3] as [number, number], ceilMode: true };
      const x = rnd(r, xs), geo = C.poolGeom(xs, { kernelSize: 3, ...o });
      await checkLayer({
        name: `MaxPool2d(3, ${JSON.stringify(o)}) x${JSON.stringify(xs)}`, device, module: new nn.MaxPool2d(3, o), state: {}, x,
        ref: { data: C.maxPool(x.data, geo).y, shape: [geo.N, geo.Ho, geo.Wo, geo.C] }, vjp: (g) => ({ x: { data: C.maxPoolBackward(x.data, g.data, geo), shape: xs } }),
      }, r, 'nn.MaxPool2d');
    }
    const x = rnd(r, [2, 3, 4, 5]);
    for (const [s, e, shape] of [[1, -1, [2, 60]], [0, 1, [6, 4, 5]], [2, 3, [2, 3, 20]]] as const) {
      await checkLayer({
        name: `Flatten(${s}, ${e})`, device, module: new nn.Flatten(s, e), state: {}, x,
        ref: { data: x.data, shape: [...shape] }, vjp: (g) => ({ x: { data: g.data, shape: x.shape } }),
      }, r, 'nn.Flatten');
    }
  }
});

test('nn.Sequential: a small CNN (Conv2d relu → MaxPool2d → Flatten → Linear) against the composed references; PyTorch\'s keys', async () => {
  for (const device of devices) {
    const model = new nn.Sequential(
      new nn.Conv2d(2, 4, 3, { padding: 'same', activation: 'relu', device }),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(3 * 3 * 4, 5, { device }),
    );
    assert.equal(Object.keys(model.stateDict()), ['0.weight', '0.bias', '3.weight', '3.bias']);
    assert.is(model.length, 4);
    assert.instance(model.at(-1), nn.Linear);
    assert.equal([...model].map((m) => m.constructor.name), ['Conv2d', 'MaxPool2d', 'Flatten', 'Linear']);
    const x = rnd(r, [3, 6, 7, 2]);
    const w1 = rnd(r, [3, 3, 2, 4], -0.5, 0.5), b1 = rnd(r, [4]), w2 = rnd(r, [36, 5], -0.3, 0.3), b2 = rnd(r, [5]);
    const o = { padding: 'same' as const };
    const z1 = C.conv2dForward(x, w1, b1, o, 'relu');
    const geo = C.poolGeom(z1.shape, { kernelSize: 2 });
    const f: Nd = { data: C.maxPool(z1.data, geo).y, shape: [3, 36] };
    await checkLayer({
      name: 'Sequential CNN', device, module: model, state: { '0.weight': w1, '0.bias': b1, '3.weight': w2, '3.bias': b2 }, x,
      ref: linearForward(f, w2, b2, 'none'),
      vjp: (g) => {
        const [gf, gw2, gb2] = linearVjp(f, w2, b2, 'none', g);
        const gz1 = C.maxPoolBackward(z1.data, gf.data, geo);
        const [gx, gw1, gb1] = C.conv2dVjp(x, w1, b1, o, 'relu', { data: gz1, shape: z1.shape });
        return { x: gx, '0.weight': gw1, '0.bias': gb1, '3.weight': gw2, '3.bias': gb2 };
      },
      tol: 1e-4,
    }, r, 'nn.Sequential');
  }
});

test('train() / eval() reach every child of a Sequential; Dropout in eval returns its input', () => {
  const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.Sequential(new nn.Dropout(0.5), new nn.BatchNorm2d(2)));
  assert.ok(model.modules().every((m) => m.training));
  model.eval();
  assert.ok(model.modules().every((m) => !m.training));
  const x = zeros([1, 4, 4, 2]);
  assert.is(model.at(1).forward(x) === x, false, 'BatchNorm makes a new tensor');
  assert.is((model.at(1) as lp.nn.Sequential).at(0).forward(x), x);
  model.train();
  assert.ok(model.modules().every((m) => m.training));
  x.dispose();
  model.dispose();
});

test('shape errors name the layer and the dimension, before any kernel runs', () => {
  const x = zeros([2, 5, 5, 3]);
  throwsLepton(() => new nn.Conv2d(4, 6, 3).forward(x), /nn\.Conv2d.*input has 3 channels.*inChannels = 4/);
  throwsLepton(() => new nn.Conv2d(3, 6, 3).forward(zeros([5, 5, 3])), /nn\.Conv2d.*4-D \[N, H, W, C\].*\[5, 5, 3\]/);
  throwsLepton(() => new nn.Conv2d(3, 6, 3, { groups: 2 }), /nn\.Conv2d.*groups = 2 does not divide inChannels = 3/);
  throwsLepton(() => new nn.Conv2d(4, 6, 3, { groups: 4 }), /nn\.Conv2d.*groups = 4 does not divide outChannels = 6/);
  throwsLepton(() => new nn.Conv2d(3, 6, 7).forward(x), /nn\.Conv2d.*output height would be -1.*kernel height 7 is larger than the padded input height 5/);
  throwsLepton(() => new nn.Conv2d(3, 6, 3, { dilation: 3 }).forward(x), /nn\.Conv2d.*effective kernel height 7/);
  throwsLepton(() => new nn.Conv2d(3, 6, 0), /nn\.Conv2d.*'kernelSize'/);
  throwsLepton(() => new nn.Conv2d(3, 6, 3, { padding: 'full' as never }), /nn\.Conv2d.*padding/);
  throwsLepton(() => new nn.Conv2d(3, 6, 3, { strides: 2 } as never), /nn\.Conv2d.*strides.*stride/);
  throwsLepton(() => new nn.MaxPool2d(3, { padding: 2 }).forward(x), /maxPool2d.*padding \[2, 2\] must be at most half the kernel size/);
  throwsLepton(() => new nn.MaxPool2d(6).forward(x), /maxPool2d.*output height would be 0/);
  throwsLepton(() => new nn.AvgPool2d(2, { countIncludePad: 1 as never }), /nn\.AvgPool2d.*countIncludePad/);
  throwsLepton(() => new nn.Sequential(new nn.Flatten(), {} as never), /nn\.Sequential.*argument 1 must be an nn\.Module/);
  throwsLepton(() => new nn.Flatten(0.5), /nn\.Flatten.*startDim/);
  x.dispose();
});

test.run();
