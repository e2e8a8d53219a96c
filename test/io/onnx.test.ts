// exportOnnx against the real consumers: every exported model runs in
// onnxruntime-web (Node, WASM) at batch sizes other than the one exported
// (the batch dimension is dynamic) and must give lepton's outputs to float32
// accuracy, on every backend; Debian's python3-onnx checker
// (check_model(full_check=True), strict shape inference) must accept it.
// A new layer joins with a CASES entry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import * as lp from '../../src/index.js';
import type { DeviceName } from '../../src/index.js';
import { decodeModel } from '../../src/io/onnx/proto.js';
import { devices } from '../helpers/backends.js';
import { relErr } from '../helpers/error.js';
import { testRng } from '../helpers/random.js';
import { havePython, runPython } from '../interop/python.js';

const { nn, exportOnnx, tensor, noGrad, LeptonError } = lp;
const rng = testRng('onnx');
const DIR = 'test-output/onnx';
mkdirSync(DIR, { recursive: true });
ort.env.wasm.numThreads = 1;

interface Case {
  name: string;
  build(device: DeviceName, seed: number): lp.nn.Module;
  /** The shape exported (batch first); runs use other batch sizes. */
  inputShape: number[];
  opset?: number;
  /** Node types the graph must have, in order. */
  nodes?: string[];
  /** The input is int64 token ids below this vocabulary size (an Embedding first); lepton gets them as nested rows. */
  ids?: number;
}

/** A forward's result as the exported value: a recurrent layer's sequence output (its state freed). */
function output(y: unknown): lp.Tensor {
  if (y instanceof lp.Tensor) return y;
  const [out, ...rest] = y as unknown[];
  for (const t of rest.flat()) (t as lp.Tensor).dispose();
  return out as lp.Tensor;
}

/** A LayerNorm/RMSNorm-like module's weight set to values other than ones (so Scale is checked). */
function randomWeight<M extends lp.nn.Module>(m: M, size: number, device: DeviceName, seed: number): M {
  m.loadStateDict({ weight: tensor(testRng(`w${seed}`).array(size, 0.5, 2), [size], { device }) });
  return m;
}

const CASES: Case[] = [
  { name: 'MLP [2, 64, 64, 3] relu (the demo)', inputShape: [64, 2], nodes: ['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm'],
    build: (device, seed) => new nn.MLP([2, 64, 64, 3], { activation: 'relu', seed, device }) },
  { name: 'MLP [5, 12, 7, 4] gelu (composed), sigmoid output', inputShape: [1, 5],
    build: (device, seed) => new nn.MLP([5, 12, 7, 4], { activation: 'gelu', outputActivation: 'sigmoid', seed, device }) },
  { name: 'MLP [5, 12, 4] gelu, opset 20 (one Gelu node)', inputShape: [3, 5], opset: 20, nodes: ['Gemm', 'Gelu', 'Gemm'],
    build: (device, seed) => new nn.MLP([5, 12, 4], { activation: 'gelu', seed, device }) },
  { name: 'MLP [3, 9, 2] tanh, tanh output', inputShape: [2, 3], nodes: ['Gemm', 'Tanh', 'Gemm', 'Tanh'],
    build: (device, seed) => new nn.MLP([3, 9, 2], { activation: 'tanh', outputActivation: 'tanh', seed, device }) },
  { name: 'Linear 6 → 3 without bias, relu', inputShape: [4, 6], nodes: ['Gemm', 'Relu'],
    build: (device, seed) => new nn.Linear(6, 3, { bias: false, activation: 'relu', seed, device }) },
  { name: 'Linear 4 → 5 on [batch, 3, 4] inputs', inputShape: [2, 3, 4], nodes: ['MatMul', 'Add', 'Sigmoid'],
    build: (device, seed) => new nn.Linear(4, 5, { activation: 'sigmoid', seed, device }) },
  // Image models: NHWC in and out, NCHW inside (Transpose at the edges and before Flatten).
  { name: 'CNN: Conv2d 5×5 relu → MaxPool2d → Conv2d 3×3 same stride 2 → Flatten → Dropout → Linear (the demo\'s kind)', inputShape: [2, 12, 12, 1],
    nodes: ['Transpose', 'Conv', 'Relu', 'MaxPool', 'Conv', 'Transpose', 'Flatten', 'Gemm'],
    build: (device, seed) => new nn.Sequential(
      new nn.Conv2d(1, 4, 5, { activation: 'relu', seed, device }), new nn.MaxPool2d(2),
      new nn.Conv2d(4, 6, 3, { padding: 'same', stride: 2, seed: seed + 1, device }), new nn.Flatten(), new nn.Dropout(0.5), new nn.Linear(2 * 2 * 6, 3, { seed, device })) },
  { name: 'CNN: grouped dilated Conv2d, BatchNorm2d (trained statistics), AvgPool2d padded, GlobalAvgPool2d', inputShape: [3, 9, 10, 4],
    nodes: ['Transpose', 'Conv', 'Tanh', 'BatchNormalization', 'AveragePool', 'MaxPool', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Sigmoid'],
    build: (device, seed) => {
      const m = new nn.Sequential(
        new nn.Conv2d(4, 6, [3, 2], { groups: 2, dilation: [2, 1], padding: [1, 0, 2, 1], activation: 'tanh', seed, device }),
        new nn.BatchNorm2d(6, { device }), new nn.AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }),
        new nn.MaxPool2d([2, 3], { stride: [1, 2], padding: [1, 1] }), new nn.GlobalAvgPool2d(), new nn.Linear(6, 2, { activation: 'sigmoid', seed, device }));
      // Training batches move BatchNorm's running statistics away from 0 and 1.
      for (let i = 0; i < 3; i++) noGrad(() => lp.scope(() => m.forward(lp.randn([4, 9, 10, 4], { device, seed: seed + i, mean: i, std: 2 })))).dispose();
      return m;
    } },
  // 10×9 → avgpool 3 / 2 pad 1 ceil (padding counted; the last row of windows hangs past the padding) → 6×5 → maxpool 2 ceil → 3×3.
  { name: 'CNN: AvgPool2d and MaxPool2d in ceil mode', inputShape: [2, 10, 9, 3],
    nodes: ['Transpose', 'Conv', 'AveragePool', 'MaxPool', 'Transpose', 'Flatten', 'Gemm'],
    build: (device, seed) => new nn.Sequential(
      new nn.Conv2d(3, 4, 1, { seed, device }), new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
      new nn.MaxPool2d(2, { ceilMode: true }), new nn.Flatten(), new nn.Linear(3 * 3 * 4, 2, { seed, device })) },
  // Ceil mode where PyTorch drops a last window that would start in the padding (ONNX's opset-17 ceil mode keeps it):
  // 5×7 → maxpool 2 pad 1 → 3×4 (not 4×5) → avgpool 2 pad 1 (padding counted) → 2×3, exported in floor mode with trimmed end padding.
  { name: 'CNN: ceil mode whose last window would start in the padding', inputShape: [2, 5, 7, 3],
    nodes: ['Transpose', 'Conv', 'MaxPool', 'AveragePool', 'Transpose', 'Flatten', 'Gemm'],
    build: (device, seed) => new nn.Sequential(
      new nn.Conv2d(3, 4, 1, { seed, device }), new nn.MaxPool2d(2, { padding: 1, ceilMode: true }),
      new nn.AvgPool2d(2, { padding: 1, ceilMode: true }), new nn.Flatten(), new nn.Linear(2 * 3 * 4, 2, { seed, device })) },
  // 11×10 → maxpool 3×3 dilation [2, 3] stride 1 pad 1 → 9×6 → maxpool 2 dilation 2 ceil → 4×3 (the last column of windows hangs past the input).
  { name: 'CNN: dilated MaxPool2d (and in ceil mode)', inputShape: [2, 11, 10, 2],
    nodes: ['Transpose', 'Conv', 'MaxPool', 'MaxPool', 'Transpose', 'Flatten', 'Gemm'],
    build: (device, seed) => new nn.Sequential(
      new nn.Conv2d(2, 3, 1, { seed, device }), new nn.MaxPool2d(3, { stride: 1, padding: 1, dilation: [2, 3] }),
      new nn.MaxPool2d(2, { dilation: 2, ceilMode: true }), new nn.Flatten(), new nn.Linear(4 * 3 * 3, 2, { seed, device })) },
  // Ceil mode, padding not counted: rows drop a window that would start in the padding, columns hang past it (floor mode, trimmed pads).
  { name: 'AvgPool2d [2, 3] / 2 pad 1 ceil mode without padding counted', inputShape: [2, 3, 6, 2], nodes: ['Transpose', 'AveragePool', 'Transpose'],
    build: () => new nn.AvgPool2d([2, 3], { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }) },
  // A decoder: 3×4 → ConvTranspose2d 4 / 2 pad 1 relu → 6×8 → grouped dilated ConvTranspose2d with outputPadding → 14×18.
  { name: 'ConvTranspose2d decoder: stride 2 relu, then grouped, dilated, outputPadding, bias-free', inputShape: [2, 3, 4, 4],
    nodes: ['Transpose', 'ConvTranspose', 'Relu', 'ConvTranspose', 'Transpose'],
    build: (device, seed) => {
      const m = new nn.Sequential(new nn.ConvTranspose2d(4, 4, 4, { stride: 2, padding: 1, activation: 'relu', seed, device }),
        new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1, dilation: 2, groups: 2, bias: false, seed: seed + 1, device }));
      // A bias other than zeros, so B is checked.
      m.loadStateDict({ '0.bias': tensor([0.5, -1, 2, 0.25], [4], { device }) }, { strict: false });
      return m;
    } },
  { name: 'Conv2d alone (depthwise, bias-free): NHWC output', inputShape: [1, 6, 7, 3], nodes: ['Transpose', 'Conv', 'Transpose'],
    build: (device, seed) => new nn.Conv2d(3, 6, 3, { groups: 3, bias: false, padding: 'same', seed, device }) },
  { name: 'LayerNorm [3, 4] with weight and bias', inputShape: [2, 3, 4], nodes: ['LayerNormalization'],
    build: (device, seed) => {
      const l = new nn.LayerNorm([3, 4], { eps: 1e-4, device });
      // Weights other than the initial ones and zeros, so Scale and B are checked.
      const r2 = testRng(`ln${seed}`);
      l.loadStateDict({ weight: tensor(r2.array(12, 0.5, 2), [3, 4], { device }), bias: tensor(r2.array(12), [3, 4], { device }) });
      return l;
    } },
  { name: 'LayerNorm 6 without affine parameters', inputShape: [5, 6], nodes: ['LayerNormalization'],
    build: (device) => new nn.LayerNorm(6, { elementwiseAffine: false, device }) },
  // Sequence layers: token ids in (int64), attention unfused (MatMul, Softmax, a constant causal mask).
  { name: 'Embedding 11 × 6 on token ids [batch, 5]', inputShape: [2, 5], ids: 11, nodes: ['Gather'],
    build: (device, seed) => new nn.Embedding(11, 6, { seed, device }) },
  { name: 'Sequential(Embedding, RMSNorm with weight, Linear)', inputShape: [3, 4], ids: 9, nodes: ['Gather', 'Mul', 'ReduceMean', 'Add', 'Sqrt', 'Div', 'Mul', 'MatMul', 'Add'],
    build: (device, seed) => new nn.Sequential(new nn.Embedding(9, 8, { seed, device }), randomWeight(new nn.RMSNorm(8, { eps: 1e-3, device }), 8, device, seed), new nn.Linear(8, 3, { seed, device })) },
  { name: 'RMSNorm 6 without weight, default eps, opset 18 (ReduceMean axes as an input)', inputShape: [2, 3, 6], opset: 18, nodes: ['Mul', 'ReduceMean', 'Add', 'Sqrt', 'Div'],
    build: (device) => new nn.RMSNorm(6, { elementwiseAffine: false, device }) },
  { name: 'MultiHeadAttention 8, 2 heads, not causal', inputShape: [2, 5, 8],
    build: (device, seed) => {
      // A non-zero in_proj_bias (it starts at zeros), so the bias Add is checked.
      const m = new nn.MultiHeadAttention(8, 2, { seed, device });
      m.loadStateDict({ in_proj_bias: tensor(testRng(`b${seed}`).array(24, -1, 1), [24], { device }) }, { strict: false });
      return m;
    } },
  { name: 'MultiHeadAttention 12, 4 heads, 2 key/value heads (grouped-query), causal, no bias', inputShape: [1, 4, 12],
    build: (device, seed) => new nn.MultiHeadAttention(12, 4, { numKVHeads: 2, causal: true, bias: false, seed, device }) },
  { name: 'TransformerBlock 16, 4 heads, causal, LayerNorm, GELU', inputShape: [2, 6, 16],
    build: (device, seed) => new nn.TransformerBlock(16, 4, { ffnDim: 24, seed, device }) },
  { name: 'TransformerBlock 12, 6 heads / 3 kv, not causal, RMSNorm', inputShape: [2, 3, 12],
    build: (device, seed) => new nn.TransformerBlock(12, 6, { numKVHeads: 3, causal: false, norm: 'rms', seed, device }) },
  // The addition demo's model (examples/transformer/model.ts: DEMO, READ_LEN 14): ids → logits.
  { name: 'TransformerLM vocab 12, dModel 64, 2 layers, 4 heads, ffn 256, 14 positions (the addition demo)', inputShape: [2, 14], ids: 12,
    build: (device, seed) => new nn.TransformerLM(12, { dModel: 64, numLayers: 2, numHeads: 4, ffnDim: 256, maxSeqLen: 14, dropout: 0, seed, device }) },
  { name: 'TransformerLM vocab 13, 2 layers, a prefix of maxSeqLen', inputShape: [2, 7], ids: 13,
    build: (device, seed) => new nn.TransformerLM(13, { dModel: 16, numLayers: 2, numHeads: 4, maxSeqLen: 9, seed, device }) },
  { name: 'TransformerLM vocab 10, RMSNorm, grouped-query, seq = maxSeqLen', inputShape: [1, 6], ids: 10,
    build: (device, seed) => new nn.TransformerLM(10, { dModel: 8, numLayers: 1, numHeads: 4, numKVHeads: 2, maxSeqLen: 6, norm: 'rms', seed, device }) },
  // Recurrent layers: one ONNX RNN/GRU/LSTM node per layer, the sequence output compared (forward's first element).
  // Time-major layers export dimension 0 (the seq) as the dynamic one, so runs 1 and 5 also cover seq 1.
  ...recurrentCases(),
];

/** RNN/GRU/LSTM cases with sizes drawn at random (fixed seed), hidden 7 and 1 among them. */
function recurrentCases(): Case[] {
  const r = testRng('onnx-rnn'), n = () => r.int(1, 9);
  const cases: Case[] = [];
  const add = (kind: 'RNN' | 'GRU' | 'LSTM', opts: lp.nn.ElmanRNNOptions, seqOrBatch: number, inSize = n(), hidden = n()) => {
    const L = opts.numLayers ?? 1;
    const nodes = Array.from({ length: L }, () => [kind, 'Transpose', 'Reshape']).flat();
    cases.push({
      name: `${kind} ${inSize} → ${hidden} ${JSON.stringify(opts)}`,
      inputShape: opts.batchFirst ? [2, seqOrBatch, inSize] : [seqOrBatch, 3, inSize],
      nodes: opts.batchFirst ? ['Transpose', ...nodes, 'Transpose'] : nodes,
      build: (device, seed) => new nn[kind](inSize, hidden, { ...opts, seed, device }),
    });
  };
  add('LSTM', {}, 4, n(), 7);
  add('LSTM', { numLayers: 2, bidirectional: true, batchFirst: true }, 3);
  add('LSTM', { bias: false, batchFirst: true }, 1, n(), 1);
  add('LSTM', { numLayers: 2, dropout: 0.5 }, 3);
  add('GRU', { numLayers: 2 }, 3, n(), 6);
  add('GRU', { bidirectional: true, batchFirst: true, bias: false }, 4);
  add('GRU', { batchFirst: true }, 1);
  add('RNN', { batchFirst: true }, 3);
  add('RNN', { nonlinearity: 'relu', numLayers: 2, bidirectional: true }, 2);
  add('RNN', { nonlinearity: 'relu', bias: false, batchFirst: true }, 5);
  return cases;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };
const files: string[] = [];
const checked = new Set<string>(); // files the onnx 1.12 checker knows the opset of

test('exported models run in onnxruntime-web with a dynamic batch and match lepton on every backend', async () => {
  let worstAbs = 0, worstRel = 0, worstRnnAbs = 0, worstRnnRel = 0;
  for (const [i, c] of CASES.entries()) {
    for (const device of devices) {
      const model = c.build(device, rng.int(1, 1e6)).eval();
      const path = `${DIR}/case-${i}-${device}.onnx`;
      const bytes = await exportOnnx(model, { inputShape: c.inputShape, opset: c.opset, path });
      assert.equal([...readFileSync(path)], [...bytes], 'the file holds the returned bytes');
      files.push(path);
      if ((c.opset ?? 17) <= 17) checked.add(path);
      const m = decodeModel(bytes) as { opsetImport: { version: number }[]; graph: { node: { opType: string }[]; input: { type: { tensorType: { shape: { dim: { dimParam?: string; dimValue?: number }[] } } } }[] } };
      assert.is(m.opsetImport[0].version, c.opset ?? 17);
      assert.equal(m.graph.input[0].type.tensorType.shape.dim[0], { dimParam: 'batch' }, 'the batch dimension is dynamic');
      if (c.nodes) assert.equal(m.graph.node.map((n) => n.opType), c.nodes);
      const session = await ort.InferenceSession.create(bytes);
      assert.equal([session.inputNames, session.outputNames], [['input'], ['output']]);
      for (const batch of [1, 5]) {
        const shape = [batch, ...c.inputShape.slice(1)];
        const size = shape.reduce((a, b) => a * b, 1);
        let r: ort.InferenceSession.ReturnType, mine: lp.Tensor;
        if (c.ids) {
          const ids = Array.from({ length: size }, () => rng.int(0, c.ids! - 1));
          r = await session.run({ input: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), shape) });
          const rows = Array.from({ length: shape[0] }, (_, b) => ids.slice(b * shape[1], (b + 1) * shape[1]));
          mine = noGrad(() => model.forward(rows as never));
        } else {
          const x = rng.array(size, -3, 3);
          r = await session.run({ input: new ort.Tensor('float32', x, shape) });
          mine = noGrad(() => output(model.forward(tensor(x, shape, { device }))));
        }
        const want = await mine.data();
        mine.dispose();
        assert.equal(r.output.dims, [...mine.shape]);
        const got = r.output.data as Float32Array;
        const rel = relErr(got, want), abs = maxAbs(got, want);
        worstAbs = Math.max(worstAbs, abs); worstRel = Math.max(worstRel, rel);
        if (/^(RNN|GRU|LSTM) /.test(c.name)) { worstRnnAbs = Math.max(worstRnnAbs, abs); worstRnnRel = Math.max(worstRnnRel, rel); }
        // Small outputs (an LSTM 6 → 1 without bias gave |y| ~1e-3, and ~1e-10 on another seed) make the relative
        // error rounding noise of the O(1) gates and states behind them: there the absolute difference decides,
        // at about two float32 ulps of 1 (one seed gave 4.4e-8, relative 3.6e-5).
        assert.ok(rel < 1e-5 || abs < 2.5e-7, `${c.name} on ${device}, batch ${batch}: ONNX Runtime vs lepton relative error ${rel} (max abs ${abs})`);
      }
      await session.release();
      model.dispose();
    }
  }
  console.log(`  onnxruntime-web ${ort.env.versions.web} vs lepton, ${CASES.length} models on ${devices.join(', ')}, batches 1 and 5: max |Δ| ${worstAbs.toExponential(2)}, relative ${worstRel.toExponential(2)}`
    + ` (recurrent layers: ${worstRnnAbs.toExponential(2)}, relative ${worstRnnRel.toExponential(2)})`);
});

test('recurrent layers export with a dynamic sequence length (batch first and time-major)', async () => {
  for (const device of devices) {
    for (const batchFirst of [true, false]) {
      const [I, H] = [rng.int(1, 6), rng.int(1, 6)];
      const m = new nn.GRU(I, H, { batchFirst, bidirectional: true, seed: rng.int(1, 1e6), device }).eval();
      const session = await ort.InferenceSession.create(await exportOnnx(m, { inputShape: batchFirst ? [2, 'seq', I] : ['seq', 2, I] }));
      for (const T of [1, 6]) {
        // Batch first keeps the batch dynamic (3 runs where 2 was exported); time-major fixes it at 2.
        const shape = batchFirst ? [3, T, I] : [T, 2, I], x = rng.array(shape[0] * shape[1] * I, -2, 2);
        const r = await session.run({ input: new ort.Tensor('float32', x, shape) });
        const [out, h] = noGrad(() => m.forward(tensor(x, shape, { device })));
        const want = await out.data();
        assert.equal(r.output.dims, [...out.shape]);
        const rel = relErr(r.output.data as Float32Array, want);
        assert.ok(rel < 1e-5, `GRU ${I} → ${H} batchFirst ${batchFirst} seq ${T} on ${device}: relative error ${rel}`);
        out.dispose(); h.dispose();
      }
      await session.release();
      m.dispose();
    }
  }
});

if (havePython(['onnx'], 'the ONNX checker (test/io/onnx.test.ts)')) {
  test("Debian's onnx checker accepts every exported model (full check, strict shape inference)", () => {
    const list = files.filter((f) => checked.has(f));
    assert.ok(list.length >= CASES.length, 'the export test ran first');
    const lines = runPython(['test/interop/onnx_check.py', ...list]).trim().split('\n').map((l) => JSON.parse(l));
    assert.is(lines.length, list.length);
    for (const r of lines) {
      assert.is(r.ir, 8, r.path);
      assert.is(r.opset, 17, r.path);
      assert.is(r.input[0], 'batch', r.path);
      assert.is(r.output[0], 'batch', `${r.path}: shape inference carries the dynamic batch to the output`);
    }
    console.log(`  onnx ${lines[0].onnx} checker: ${lines.length} models pass (opset 17; the opset-18 and -20 models run in ONNX Runtime only, onnx 1.12 knows opsets up to 17)`);
  });
}

async function rejects(p: Promise<unknown>, re: RegExp) {
  try { await p; } catch (e) {
    assert.instance(e, LeptonError, String(e));
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`no error, expected ${re}`);
}

test('exportOnnx errors name the layer, the shapes and the options', async () => {
  const m = new nn.MLP([3, 4, 2]);
  await rejects(exportOnnx(m, { inputShape: [2, 5] }), /exportOnnx: layer 'layers.0' \(Linear 3 → 4\) gets an input of shape \[batch, 5\]; needs \[\*, 3\]/);
  await rejects(exportOnnx(m, { inputShape: [] }), /option 'inputShape' must be a non-empty array of positive integers or dimension names, got \[\]/);
  await rejects(exportOnnx(m, { inputShape: [1, 3], opset: 13 }), /option 'opset' must be one of 17, 18, 19, 20, 21, got 13/);
  await rejects(exportOnnx(m, { inputShape: [1, 3], batch: 2 } as never), /unknown option 'batch'/);
  class Custom extends nn.Module { forward(x: lp.Tensor) { return x; } }
  await rejects(exportOnnx(new Custom(), { inputShape: [1, 3] }), /exportOnnx: no ONNX export for the model \(class Custom\); lepton exports Linear, MLP.*TransformerLM, RNN, GRU, LSTM\. A new layer/);
  // The list names what exports, not the recurrent cells that refuse.
  await rejects(exportOnnx(new Custom(), { inputShape: [1, 3] }), /^(?!.*Cell)/s);
  // A fixed batch when asked; a named dimension stays a name.
  const fixed = decodeModel(await exportOnnx(m, { inputShape: [2, 3], dynamicBatch: false })) as { graph: { input: { type: { tensorType: { shape: { dim: unknown[] } } } }[] } };
  assert.equal(fixed.graph.input[0].type.tensorType.shape.dim, [{ dimValue: 2 }, { dimValue: 3 }]);
  m.dispose();
  const cnn = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.Flatten(0));
  await rejects(exportOnnx(cnn, { inputShape: [1, 5, 5, 2] }), /exportOnnx: layer '0' \(Conv2d 3 → 4\) gets 2 channels; needs 3/);
  await rejects(exportOnnx(cnn, { inputShape: [1, 'h', 5, 3] }), /exportOnnx: layer '0' \(Conv2d 3 → 4\) needs fixed image sizes/);
  await rejects(exportOnnx(cnn, { inputShape: [1, 5, 5, 3] }), /exportOnnx: layer '1' \(Flatten\(0, -1\)\).*Flatten\(1, -1\)/);
  await rejects(exportOnnx(new nn.Conv2d(3, 4, 3), { inputShape: [1, 5, 3] }), /exportOnnx: layer 'the model' needs a 4-D image input/);
  await rejects(exportOnnx(new nn.BatchNorm2d(3, { trackRunningStats: false }), { inputShape: [1, 5, 5, 3] }), /no running statistics/);
  // 3 rows: the last window would start in the padding (dropped); 6 columns: the last window hangs past it.
  const pool = new nn.AvgPool2d([2, 3], { stride: 2, padding: 1, ceilMode: true });
  await rejects(exportOnnx(pool, { inputShape: [1, 3, 6, 2] }), /exportOnnx: layer 'the model' \(AvgPool2d\) \(ceil mode, padding counted\) has windows past the padding.* for a 3×6 input/);
  // (Without padding counted, the same layer exports in floor mode: a case of the ONNX Runtime comparison above.)
  await rejects(exportOnnx(new nn.ConvTranspose2d(2, 1, 3, { dilation: 2, outputPadding: 1 }), { inputShape: [1, 3, 3, 2] }),
    /exportOnnx: layer 'the model' \(ConvTranspose2d 2 → 1\) has outputPadding \[1, 1\] not below its stride \[1, 1\]/);
  cnn.dispose();
});

test('exportOnnx refuses what the sequence exports cannot express, naming the layer', async () => {
  // Recurrent layers: a wrong feature count or unbatched input is named; cells refuse.
  const rnn = new nn.Sequential(new nn.Embedding(5, 4), new nn.LSTM(6, 3));
  await rejects(exportOnnx(rnn, { inputShape: [1, 3] }), /exportOnnx: layer '1' \(LSTM 6 → 3\) gets an input of shape \[batch, 3, 4\]; needs \[seq, batch, 6\]/);
  rnn.dispose();
  const gru = new nn.GRU(4, 3, { batchFirst: true });
  await rejects(exportOnnx(gru, { inputShape: [1, 3, 5] }), /exportOnnx: layer 'the model' \(GRU 4 → 3\) gets an input of shape \[batch, 3, 5\]; needs \[batch, seq, 4\]/);
  await rejects(exportOnnx(gru, { inputShape: [3, 4] }), /gets an input of shape \[batch, 4\]; needs \[batch, seq, 4\] \(unbatched 2-D input does not export\)/);
  gru.dispose();
  const cell = new nn.Sequential(new nn.Linear(2, 3), new nn.LSTMCell(3, 3));
  await rejects(exportOnnx(cell, { inputShape: [1, 2] }), /exportOnnx: layer '1' \(LSTMCell\) is a single-step recurrent cell; exportOnnx exports the sequence layers \(nn.RNN, nn.GRU, nn.LSTM\), not cells/);
  cell.dispose();
  const late = new nn.Sequential(new nn.Linear(3, 3), new nn.Embedding(5, 4));
  await rejects(exportOnnx(late, { inputShape: [1, 3] }), /exportOnnx: layer '1' \(Embedding 5 × 4\) needs token ids; an Embedding must be the model's first layer/);
  late.dispose();
  const lm = new nn.TransformerLM(7, { dModel: 8, numLayers: 1, numHeads: 2, maxSeqLen: 4 });
  await rejects(exportOnnx(lm, { inputShape: [1, 5] }), /exportOnnx: layer 'the model' \(TransformerLM, maxSeqLen 4\) needs a fixed sequence length of at most 4, got 5/);
  await rejects(exportOnnx(lm, { inputShape: [1, 'seq'] }), /needs a fixed sequence length of at most 4, got seq/);
  await rejects(exportOnnx(lm, { inputShape: [1, 2, 3] }), /needs token ids \[batch, seq\], got \[batch, 2, 3\]/);
  lm.dispose();
  const mha = new nn.MultiHeadAttention(8, 2);
  await rejects(exportOnnx(mha, { inputShape: [1, 'seq', 8] }), /exportOnnx: layer 'the model' \(MultiHeadAttention 8, 2 heads\) needs a fixed sequence length/);
  await rejects(exportOnnx(mha, { inputShape: [1, 3, 6] }), /gets an input of shape \[batch, 3, 6\]; needs \[batch, seq, 8\]/);
  mha.dispose();
});

test.run();
