// The whole hand-off for the model `npm run demo` trains (the spiral MLP):
// --save writes safetensors, --onnx writes ONNX; lepton reloads the weights
// (same held-out accuracy as the demo printed), PyTorch loads them and
// matches lepton's outputs and gradients, ONNX Runtime runs the export and
// matches lepton's outputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import * as lp from '../../src/index.js';
import { relErr } from '../helpers/error.js';
import { havePython, runPython } from './python.js';
import { maxAbs, results } from './roundtrip.js';

const { nn, data, metrics, tensor, noGrad } = lp;
const DIR = 'test-output/interop';
mkdirSync(DIR, { recursive: true });
const W = `${DIR}/demo.safetensors`, O = `${DIR}/demo.onnx`;

test('npm run demo --save/--onnx: the trained spiral model reloads, and PyTorch and ONNX Runtime reproduce it', async () => {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--import', './tools/node-setup.mjs',
    'examples/demo.ts', '--backend', 'wasm', '--epochs', '3', '--save', W, '--onnx', O], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  const printed = Number(/held-out ([\d.]+)%/.exec(r.stdout)![1]);
  // The demo's held-out set (data.spiral(100, { seed: 2 })), through the reloaded weights.
  const test = data.spiral(100, { seed: 2 });
  const model = new nn.MLP([2, 64, 64, 3], { seed: 12345 });
  await lp.loadSafetensors(model, W);
  const logits = noGrad(() => model.eval().forward(tensor(test.x, [test.n, 2])));
  assert.is(((await metrics.accuracy(logits, test.y)) * 100).toFixed(1), printed.toFixed(1), 'the reloaded model scores what the demo printed');
  const want = await logits.data();
  logits.dispose();

  // ONNX Runtime on the exported file, all 300 held-out points in one batch (exported with batch 1).
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(O);
  const out = (await session.run({ input: new ort.Tensor('float32', Float32Array.from(test.x), [test.n, 2]) })).output.data as Float32Array;
  await session.release();
  const ortRel = relErr(out, want);
  assert.ok(ortRel < 1e-5, `ONNX Runtime vs lepton: ${ortRel}`);
  console.log(`  demo model, ONNX Runtime vs lepton on ${test.n} points: max |Δ| ${maxAbs(out, want).toExponential(2)} (relative ${ortRel.toExponential(2)})`);

  if (havePython(['torch', 'numpy'], "the demo model's PyTorch check (test/interop/demo.test.ts)")) {
    const x = Float32Array.from(test.x.slice(0, 64)), labels = Array.from(test.y.slice(0, 32)), shape = [32, 2];
    const weights = await lp.readSafetensors(W);
    await lp.writeSafetensors({
      ...Object.fromEntries(Object.entries(weights.tensors).map(([k, t]) => [`model.${k}`, { shape: t.shape, data: t.data }])),
      x: { shape, data: x }, labels: { shape: [32], data: labels, dtype: 'I64' },
    }, `${DIR}/demo-case.safetensors`, { metadata: { spec: JSON.stringify({ kind: 'mlp', sizes: [2, 64, 64, 3], activation: 'relu', seed: 1 }) } });
    runPython(['test/interop/torch_roundtrip.py', `${DIR}/demo-case.safetensors`, `${DIR}/demo-torch.safetensors`, `${DIR}/demo-torch-weights.safetensors`]);
    const torch = (await lp.readSafetensors(`${DIR}/demo-torch.safetensors`)).tensors;
    const mine = await results(model.train(), x, shape, labels, 'wasm');
    let worst = [0, 0];
    for (const [k, v] of Object.entries(mine)) {
      const rel = relErr(v, torch[`a.${k}`].data);
      worst = [Math.max(worst[0], maxAbs(v, torch[`a.${k}`].data)), Math.max(worst[1], rel)];
      assert.ok(rel < (k === 'out' ? 1e-5 : 5e-5), `${k}: PyTorch vs lepton relative error ${rel}`);
    }
    console.log(`  demo model in PyTorch vs lepton (outputs and gradients): max |Δ| ${worst[0].toExponential(2)} (relative ${worst[1].toExponential(2)})`);
  }
  model.dispose();
});

test.run();
