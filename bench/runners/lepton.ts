// lepton's configs: WASM on one thread, WASM on all threads, WebGPU, through
// lepton's public API only.
import {
  attention, conv2d, crossEntropy, describeDevice, getDeviceProperties, init, layerNorm, matmul, memory, nn, optim, resetPeakMemoryStats, scope, setBackendOptions, tensor, type DeviceName, type Tensor,
} from 'lepton';
import { mnistCnn } from '../../examples/mnist-model.js';
import { cnnInputs, type CnnProblem } from '../cnn-problem.js';
import { transformerInputs, transformerStateDict, type TransformerProblem } from '../transformer-problem.js';
import { additionModel, answerLoss, DEMO } from '../../examples/transformer/model.js';
import { convInputs, type ConvProblem } from '../conv-problems.js';
import { attentionInputs, matmulInputs, mlpInputs, seqInputs, type AttentionProblem, type Problem, type SeqProblem } from '../problems.js';
import { describe, readPlan, runConfig, wants, type Case } from '../harness.js';

const plan = readPlan();

/** Peak bytes of tensor storage while `run` runs, above what was live before: lepton's public memory(). */
async function peakDuring(device: DeviceName, run: () => Promise<void>): Promise<number> {
  const before = memory(device).numBytes;
  resetPeakMemoryStats(device);
  await run();
  return memory(device).peakBytes - before;
}

/** Attention forward (read back the output) or forward + backward (read back dq, dk, dv). */
function attentionCase(p: AttentionProblem, device: DeviceName) {
  const { q: Q, k: K, v: V, g: G } = attentionInputs(p);
  const shape = [1, p.heads, p.seq, p.headDim];
  const grad = p.backward;
  const q = tensor(Q, shape, { device, requiresGrad: grad }), k = tensor(K, shape, { device, requiresGrad: grad });
  const v = tensor(V, shape, { device, requiresGrad: grad }), g = tensor(G, shape, { device });
  const call = async () => {
    const y = attention(q, k, v);
    if (!grad) {
      const out = await y.data();
      y.dispose();
      return out;
    }
    y.backward(g);
    y.dispose();
    const [dq] = await Promise.all([q.grad!.data(), k.grad!.data(), v.grad!.data()]);
    for (const t of [q, k, v]) { t.grad!.dispose(); t.grad = null; }
    return dq;
  };
  return {
    run: call,
    peak: () => peakDuring(device, async () => { await call(); }),
    dispose: () => { for (const t of [q, k, v, g]) t.dispose(); },
  };
}

/** LayerNorm or cross-entropy, forward and backward; returns the input gradient's values. */
function seqCase(p: SeqProblem, device: DeviceName) {
  const { x: X, g: G, w: W, b: B, labels } = seqInputs(p);
  const x = tensor(X, [p.rows, p.cols], { device, requiresGrad: true });
  const w = tensor(W, [p.cols], { device, requiresGrad: true }), b = tensor(B, [p.cols], { device, requiresGrad: true });
  const g = tensor(G, [p.rows, p.cols], { device });
  const ids = Array.from(labels);
  return {
    run: async () => {
      scope(() => {
        if (p.kind === 'layernorm') layerNorm(x, p.cols, w, b).backward(g);
        else crossEntropy(x, ids).backward();
      });
      const v = await x.grad!.data();
      for (const t of [x, w, b]) { t.grad?.dispose(); t.grad = null; }
      return v;
    },
    dispose: () => { for (const t of [x, w, b, g]) t.dispose(); },
  };
}

function cases(device: DeviceName): Case {
  return {
    async prepare(p: Problem) {
      if (p.kind === 'conv') return convCase(p, device);
      if (p.kind === 'cnn') return cnnCase(p, device);
      if (p.kind === 'transformer') return transformerCase(p, device);
      if (p.kind === 'attention') return attentionCase(p, device);
      if (p.kind !== 'matmul' && p.kind !== 'mlp') return seqCase(p, device);
      if (p.kind === 'matmul') {
        const { a: A, b: B } = matmulInputs(p);
        const a = tensor(A, [p.M, p.K], { device }), b = tensor(B, [p.K, p.N], { device });
        return {
          run: async () => {
            const c = matmul(a, b);
            const v = await c.data();
            c.dispose();
            return v;
          },
          dispose: () => { a.dispose(); b.dispose(); },
        };
      }
      const { x: X, labels, layers } = mlpInputs(p);
      const model = new nn.MLP(p.sizes, { activation: 'relu', device });
      // Same starting weights as every other library.
      model.loadStateDict(Object.fromEntries(layers.flatMap((l, i) => [[`layers.${i}.weight`, l.w], [`layers.${i}.bias`, l.b]])));
      const opt = p.optimizer === 'sgd' ? new optim.SGD(model.parameters(), { lr: 0.01 }) : new optim.Adam(model.parameters(), { lr: 1e-3 });
      const x = tensor(X, [p.batch, p.sizes[0]], { device });
      return {
        run: () => trainStep(opt, () => nn.crossEntropy(model.forward(x), labels)),
        dispose: () => { model.dispose(); opt.dispose(); x.dispose(); },
      };
    },
  };
}

/** conv2d 'same' at stride 1: the forward, or forward + backward (both gradients) from a given dy. */
function convCase(p: ConvProblem, device: DeviceName) {
  const { x: X, w: W, dy: DY, wShape } = convInputs(p);
  const x = tensor(X, [p.N, p.H, p.W, p.C], { device, requiresGrad: p.backward });
  const w = tensor(W, wShape, { device, requiresGrad: p.backward });
  const dy = tensor(DY, [p.N, p.H, p.W, p.O], { device });
  const opts = { padding: 'same' as const, groups: p.depthwise ? p.C : 1 };
  return {
    run: async () => {
      const y = conv2d(x, w, null, opts);
      if (!p.backward) {
        const v = await y.data();
        y.dispose();
        return v;
      }
      y.backward(dy);
      y.dispose();
      const [gx] = await Promise.all([x.grad!.data(), w.grad!.data()]);
      x.grad!.dispose(); w.grad!.dispose();
      x.grad = null; w.grad = null;
      return gx;
    },
    dispose: () => { x.dispose(); w.dispose(); dy.dispose(); },
  };
}

/** One SGD step of the MNIST demo's CNN (its own layers; Dropout(0) stands in for the demo's dropout). */
function cnnCase(p: CnnProblem, device: DeviceName) {
  const i = cnnInputs(p);
  const model = mnistCnn({ device, dropout: 0 });
  model.loadStateDict({ '0.weight': i.w1, '0.bias': i.b1, '2.weight': i.w2, '2.bias': i.b2, '5.weight': i.w3, '5.bias': i.b3, '7.weight': i.w4, '7.bias': i.b4 });
  const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
  const x = tensor(i.x, [p.batch, 28, 28, 1], { device });
  return {
    run: () => trainStep(opt, () => nn.crossEntropy(model.forward(x), i.labels)),
    dispose: () => { model.dispose(); opt.dispose(); x.dispose(); },
  };
}

/** One SGD step of the addition demo's transformer (its own model and answer-position loss; dropout 0 as in the demo). */
function transformerCase(p: TransformerProblem, device: DeviceName) {
  const i = transformerInputs(p);
  const model = additionModel({ ...DEMO, dModel: p.dModel, numHeads: p.heads, ffnDim: p.ffn, numLayers: p.layers, device });
  model.loadStateDict(transformerStateDict(i));
  const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
  const rows = Array.from({ length: p.batch }, (_, b) => i.ids.subarray(b * p.seq, (b + 1) * p.seq));
  return {
    run: () => trainStep(opt, () => answerLoss(model, rows, i.labels)),
    dispose: () => { model.dispose(); opt.dispose(); },
  };
}

/** One training step as a user writes it: loss, zeroGrad, backward, step in a scope; the loss read back. */
async function trainStep(opt: { zeroGrad(): void; step(): void }, loss: () => Tensor): Promise<number> {
  const l = scope(() => {
    const out = loss();
    opt.zeroGrad();
    out.backward();
    opt.step();
    return out;
  });
  const v = (await l.data())[0];
  l.dispose();
  return v;
}

const want = (c: string) => wants(plan, c);

const wasm = (['lepton wasm 1T', 'lepton wasm MT'] as const).filter(want);
if (wasm.length) {
  // A WASM backend's workers start with it. Run alone (as run.ts does), 1T starts without any (a
  // private memory, what init({ threads: 1 }) gives a user); next to MT it caps the threads at 1.
  await init({ backend: 'wasm', threads: wasm.includes('lepton wasm MT') ? 'auto' : 1 });
  for (const config of wasm) {
    const props = setBackendOptions('wasm', { threads: config === 'lepton wasm 1T' ? 1 : 'auto' });
    describe(config, config === 'lepton wasm 1T'
      ? `${describeDevice('wasm')}${props.maxThreads > 1 ? `, 1 of ${props.maxThreads} threads` : ''}`
      : `${describeDevice('wasm')}, ${props.maxThreads} threads`);
    await runConfig(config, cases('wasm'), plan);
  }
}
if (want('lepton webgpu')) {
  try {
    // Autotune as a user on this adapter would get it (forced on for software adapters too, bounded).
    await init({ backend: 'webgpu', autotune: { budgetMs: plan.quick ? 1500 : 6000 }, recovery: process.env.LEPTON_RECOVERY !== 'off' });
    const gpu = getDeviceProperties('webgpu');
    describe('lepton webgpu', gpu.description);
    await runConfig('lepton webgpu', cases('webgpu'), plan, { fallback: gpu.fallbackAdapter });
  } catch (e) {
    describe('lepton webgpu', `unavailable: ${(e as Error).message}`);
  }
}
