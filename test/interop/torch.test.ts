// lepton ⇄ PyTorch, against the real thing (Debian's python3-torch):
//   A. lepton writes a model's weights (saveSafetensors); PyTorch builds the
//      same architecture, loads them strictly (read with numpy) and runs
//      forward + cross-entropy + backward on the same input: outputs and
//      gradients must match lepton's to float32 accuracy;
//   B. PyTorch writes its own initial weights (a small Python writer of the
//      format); lepton loads them and must reproduce PyTorch's results.
// A new architecture joins with one CASES entry here and one builder in
// torch_roundtrip.py (e.g. the CNN once nn.Conv2d lands).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync } from 'node:fs';
import * as lp from '../../src/index.js';
import type { DeviceName } from '../../src/index.js';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { havePython, runPython } from './python.js';
import { maxAbs, results } from './roundtrip.js';

const { nn } = lp;
const rng = testRng('torch-interop');
const DIR = 'test-output/interop';
mkdirSync(DIR, { recursive: true });

interface Case {
  name: string;
  /** What torch_roundtrip.py builds (its BUILDERS[kind]). */
  spec: { kind: string; seed: number } & Record<string, unknown>;
  build(device: DeviceName, seed: number): lp.nn.Module;
  input: number[];
  classes: number;
}

const mlp = (name: string, sizes: number[], activation: lp.Activation, outputActivation: lp.Activation = 'none'): Case => ({
  name, spec: { kind: 'mlp', sizes, activation, outputActivation, seed: 7 }, input: [9, sizes[0]], classes: sizes.at(-1)!,
  build: (device, seed) => new nn.MLP(sizes, { activation, outputActivation, seed, device }),
});
// A CNN as PyTorch builds it (torch_roundtrip.py's CNN): lepton's NHWC input, permuted to NCHW for PyTorch's layers.
type Layer = { type: 'conv'; cin: number; cout: number; k: number; stride?: number; padding?: number; dilation?: number; groups?: number; bias?: boolean; act?: lp.Activation }
  | { type: 'convT'; cin: number; cout: number; k: number; stride?: number; padding?: number; outputPadding?: number; dilation?: number; groups?: number; bias?: boolean; act?: lp.Activation }
  | { type: 'maxpool' | 'avgpool'; k: number; stride?: number; padding?: number; ceilMode?: boolean; dilation?: number; countIncludePad?: boolean } | { type: 'bn'; c: number } | { type: 'flatten' }
  | { type: 'linear'; in: number; out: number; act?: lp.Activation };
const cnn = (name: string, input: number[], layers: Layer[], classes: number): Case => ({
  name, spec: { kind: 'cnn', layers, seed: 11 }, input, classes,
  build: (device, seed) => new nn.Sequential(...layers.map((l, i) => {
    const s = seed + i;
    switch (l.type) {
      case 'conv': return new nn.Conv2d(l.cin, l.cout, l.k, { stride: l.stride, padding: l.padding, dilation: l.dilation, groups: l.groups, bias: l.bias, activation: l.act, seed: s, device });
      case 'convT': return new nn.ConvTranspose2d(l.cin, l.cout, l.k, { stride: l.stride, padding: l.padding, outputPadding: l.outputPadding, dilation: l.dilation, groups: l.groups, bias: l.bias, activation: l.act, seed: s, device });
      case 'maxpool': return new nn.MaxPool2d(l.k, { stride: l.stride, padding: l.padding, ceilMode: l.ceilMode, dilation: l.dilation });
      case 'avgpool': return new nn.AvgPool2d(l.k, { stride: l.stride, padding: l.padding, ceilMode: l.ceilMode, countIncludePad: l.countIncludePad });
      case 'bn': return new nn.BatchNorm2d(l.c, { device });
      case 'flatten': return new nn.Flatten();
      case 'linear': return new nn.Linear(l.in, l.out, { activation: l.act, seed: s, device });
    }
  })),
});
const CASES: Case[] = [
  mlp('MLP [5, 16, 12, 3] relu', [5, 16, 12, 3], 'relu'),
  mlp('MLP [4, 10, 10, 4] gelu, sigmoid output', [4, 10, 10, 4], 'gelu', 'sigmoid'),
  mlp('MLP [2, 64, 64, 3] tanh (the demo\'s shape)', [2, 64, 64, 3], 'tanh'),
  cnn('CNN conv 5×5 relu → maxpool → conv 3×3 pad 1 relu → maxpool → flatten → linear (the MNIST demo\'s kind)', [4, 12, 12, 1], [
    { type: 'conv', cin: 1, cout: 4, k: 5, act: 'relu' }, { type: 'maxpool', k: 2 },
    { type: 'conv', cin: 4, cout: 6, k: 3, padding: 1, act: 'relu' }, { type: 'maxpool', k: 2 }, { type: 'flatten' }, { type: 'linear', in: 2 * 2 * 6, out: 5 },
  ], 5),
  cnn('CNN grouped strided dilated conv tanh → BatchNorm2d (training) → avgpool padded → flatten → linear', [3, 9, 9, 4], [
    { type: 'conv', cin: 4, cout: 6, k: 3, stride: 2, padding: 2, dilation: 2, groups: 2, act: 'tanh' }, { type: 'bn', c: 6 },
    { type: 'avgpool', k: 3, stride: 2, padding: 1 }, { type: 'flatten' }, { type: 'linear', in: 3 * 3 * 6, out: 3 },
  ], 3),
  // 10×10 → conv 3×3 → 8×8 → avgpool 3 / 2 pad 1 ceil → 5×5 (the last windows hang past the padding) → maxpool 2 ceil → 3×3.
  cnn('CNN ceil mode: conv relu → avgpool 3×3 stride 2 pad 1 ceil (padding counted) → maxpool 2×2 ceil → flatten → linear', [2, 10, 10, 2], [
    { type: 'conv', cin: 2, cout: 3, k: 3, act: 'relu' }, { type: 'avgpool', k: 3, stride: 2, padding: 1, ceilMode: true },
    { type: 'maxpool', k: 2, ceilMode: true }, { type: 'flatten' }, { type: 'linear', in: 3 * 3 * 3, out: 4 },
  ], 4),
  // A decoder: 3×3 → convT 4 / 2 pad 1 → 6×6 → grouped convT 3 / 2 pad 1 outputPadding 1, dilation 2 → 14×14 ((6 − 1)·2 − 2·1 + 2·(3 − 1) + 1 + 1).
  cnn('CNN decoder: ConvTranspose2d 4×4 stride 2 relu → grouped dilated ConvTranspose2d with outputPadding → flatten → linear', [2, 3, 3, 4], [
    { type: 'convT', cin: 4, cout: 4, k: 4, stride: 2, padding: 1, act: 'relu' },
    { type: 'convT', cin: 4, cout: 2, k: 3, stride: 2, padding: 1, outputPadding: 1, dilation: 2, groups: 2, act: 'tanh' },
    { type: 'flatten' }, { type: 'linear', in: 14 * 14 * 2, out: 3 },
  ], 3),
  // 11×11 → maxpool 3×3 dilation 2 stride 1 pad 1 → 9×9 → maxpool 2 dilation 3 → 3×3.
  cnn('CNN dilated max pooling: conv tanh → maxpool 3×3 dilation 2 pad 1 → maxpool 2×2 dilation 3 → flatten → linear', [2, 11, 11, 1], [
    { type: 'conv', cin: 1, cout: 2, k: 1, act: 'tanh' }, { type: 'maxpool', k: 3, stride: 1, padding: 1, dilation: 2 },
    { type: 'maxpool', k: 2, dilation: 3 }, { type: 'flatten' }, { type: 'linear', in: 3 * 3 * 2, out: 3 },
  ], 3),
];

if (havePython(['torch', 'numpy'], 'the PyTorch round trip (test/interop/torch.test.ts)')) {
  test('PyTorch loads lepton\'s weights and matches its outputs and gradients; lepton loads PyTorch\'s and matches PyTorch', async () => {
    const files = CASES.map((c, i) => ({ c, inp: `${DIR}/case-${i}.safetensors`, out: `${DIR}/torch-${i}.safetensors`, weights: `${DIR}/torch-weights-${i}.safetensors` }));
    const data = [];
    for (const { c, inp } of files) {
      const seed = rng.int(1, 1e6);
      const model = c.build('wasm', seed);
      const x = rng.array(c.input.reduce((a, b) => a * b, 1), -2, 2);
      const labels = Array.from({ length: c.input[0] }, () => rng.int(0, c.classes - 1));
      const weights = await lp.readSafetensors(await lp.saveSafetensors(model));
      await lp.writeSafetensors({
        ...Object.fromEntries(Object.entries(weights.tensors).map(([k, t]) => [`model.${k}`, { shape: t.shape, data: t.data }])),
        x: { shape: c.input, data: x }, labels: { shape: [labels.length], data: labels, dtype: 'I64' },
      }, inp, { metadata: { spec: JSON.stringify(c.spec) } });
      data.push({ seed, x, labels });
      model.dispose();
    }
    const info = JSON.parse(runPython(['test/interop/torch_roundtrip.py', ...files.flatMap((f) => [f.inp, f.out, f.weights])]).trim().split('\n').pop()!);
    // Per direction and kind: [max abs, max relative].
    const worst = { a: { out: [0, 0], grad: [0, 0] }, b: { out: [0, 0], grad: [0, 0] } };
    for (const [i, { c, inp, out, weights }] of files.entries()) {
      const torch = (await lp.readSafetensors(out)).tensors;
      for (const device of devices) {
        for (const dir of ['a', 'b'] as const) {
          const model = c.build(device, data[i].seed + 1); // other initial weights: the load must set them all
          if (dir === 'a') {
            const t = (await lp.readSafetensors(inp)).tensors;
            await lp.writeSafetensors(Object.fromEntries(Object.entries(t).filter(([k]) => k.startsWith('model.')).map(([k, v]) => [k.slice(6), { shape: v.shape, data: v.data }])), `${DIR}/lepton-${i}.safetensors`);
            await lp.loadSafetensors(model, `${DIR}/lepton-${i}.safetensors`);
          } else {
            await lp.loadSafetensors(model, weights); // written by PyTorch's side, strict
          }
          const mine = await results(model, data[i].x, c.input, data[i].labels, device);
          for (const [k, v] of Object.entries(mine)) {
            const ref = torch[`${dir}.${k}`];
            assert.ok(ref, `${c.name}: PyTorch wrote no ${dir}.${k}`);
            assert.equal(ref.shape.reduce((a, b) => a * b, 1), v.length, `${c.name} ${k}: sizes`);
            const rel = relErr(v, ref.data), abs = maxAbs(v, ref.data);
            const kind = k === 'out' ? 'out' : 'grad';
            const w = worst[dir];
            w[kind] = [Math.max(w[kind][0], abs), Math.max(w[kind][1], rel)];
            assert.ok(rel < (kind === 'out' ? 1e-5 : 5e-5), `${c.name} on ${device}, direction ${dir}, ${k}: relative error ${rel} (max abs ${abs})`);
          }
          model.dispose();
        }
      }
    }
    const fmt = (w: number[]) => `max |Δ| ${w[0].toExponential(2)} (relative ${w[1].toExponential(2)})`;
    console.log(`  PyTorch ${info.torch}, ${CASES.length} models on ${devices.join(', ')}:`);
    console.log(`    lepton → PyTorch: outputs ${fmt(worst.a.out)}, gradients ${fmt(worst.a.grad)}`);
    console.log(`    PyTorch → lepton: outputs ${fmt(worst.b.out)}, gradients ${fmt(worst.b.grad)}`);
    assert.ok(readFileSync(files[0].weights).length > 8);
  });
}

test.run();
