// TensorFlow.js 4.22 with its WASM (XNNPACK) and WebGPU backends.
import { createRequire } from 'node:module';
import { attentionInputs, matmulInputs, mlpInputs, type AttentionProblem, type Problem } from '../problems.js';
import { describe, isFallback, nodeWebGPU, readPlan, runConfig, wants, type Case } from '../harness.js';

const plan = readPlan();
const want = (c: string) => wants(plan, c);
const gpu = want('tfjs webgpu') ? await nodeWebGPU() : null; // before tfjs loads, so it sees navigator.gpu
const tf = await import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;

/** softmax(q·kᵀ·scale)·v composed from tfjs ops; fwd+bwd through tf.grads with dy = g. */
function attentionCase(p: AttentionProblem) {
  const { q: Q, k: K, v: V, g: G, scale } = attentionInputs(p);
  const shape: [number, number, number] = [p.heads, p.seq, p.headDim];
  const q = tf.tensor3d(Q, shape), k = tf.tensor3d(K, shape), v = tf.tensor3d(V, shape), g = tf.tensor3d(G, shape);
  const attn = (qa: Tensor, ka: Tensor, va: Tensor) => tf.matMul(tf.softmax(tf.mul(tf.matMul(qa, ka, false, true), scale)), va);
  const grads = tf.grads((qa: Tensor, ka: Tensor, va: Tensor) => attn(qa, ka, va));
  const call = async () => {
    if (!p.backward) { const y = attn(q, k, v); const out = await y.data(); y.dispose(); return out; }
    const [dq, dk, dv] = grads([q, k, v], g);
    const out = await dq.data();
    await dk.data(); await dv.data();
    tf.dispose([dq, dk, dv]);
    return out;
  };
  return {
    run: call,
    // tfjs's own count of tensor bytes: the peak during one call, above what was allocated before it.
    peak: async () => { const before = tf.memory().numBytes; const info = await tf.profile(async () => { await call(); }); return info.peakBytes - before; },
    dispose: () => { tf.dispose([q, k, v, g]); },
  };
}

const cases: Case = {
    async prepare(p: Problem) {
      if (p.kind === 'attention') return attentionCase(p);
      if (p.kind === 'matmul') {
        const { a: A, b: B } = matmulInputs(p);
        const a = tf.tensor2d(A, [p.M, p.K]), b = tf.tensor2d(B, [p.K, p.N]);
        return { run: async () => { const c = tf.matMul(a, b); const v = await c.data(); c.dispose(); return v; }, dispose: () => { a.dispose(); b.dispose(); } };
      }
      const { x: X, labels, layers } = mlpInputs(p);
      const vars = layers.map((l) => ({ w: tf.variable(tf.tensor2d(l.w, [l.in, l.out])), b: tf.variable(tf.tensor1d(l.b)) }));
      const x = tf.tensor2d(X, [p.batch, p.sizes[0]]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), p.sizes[p.sizes.length - 1]);
      const opt = p.optimizer === 'sgd' ? tf.train.sgd(0.01) : tf.train.adam(1e-3);
      const lossFn = () => {
        let h: Tensor = x;
        vars.forEach((v, i) => {
          const z = tf.add(tf.matMul(h, v.w), v.b);
          h = i < vars.length - 1 ? tf.relu(z) : z;
        });
        return tf.losses.softmaxCrossEntropy(y, h) as import('@tensorflow/tfjs').Scalar;
      };
      return {
        run: async () => {
          const cost = opt.minimize(lossFn, true)!;
          const loss = (await cost.data())[0];
          cost.dispose();
          return loss;
        },
        dispose: () => { for (const v of vars) { v.w.dispose(); v.b.dispose(); } x.dispose(); y.dispose(); opt.dispose(); },
      };
    },
};

if (want('tfjs wasm')) {
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  // In Node the .wasm files are read from the package folder.
  setWasmPaths(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/\\]*$/, ''));
  await tf.setBackend('wasm');
  await tf.ready();
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  describe('tfjs wasm', `XNNPACK, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, ${threads ? 'threaded build' : '1 thread'}`);
  await runConfig('tfjs wasm', cases, plan);
}
if (want('tfjs webgpu')) {
  if (!gpu) describe('tfjs webgpu', 'unavailable: no WebGPU in this process');
  else {
    await import('@tensorflow/tfjs-backend-webgpu');
    if (await tf.setBackend('webgpu')) {
      await tf.ready();
      const fallback = await isFallback(gpu);
      describe('tfjs webgpu', `Dawn${fallback ? ' on a fallback (CPU) adapter' : ''}`);
      await runConfig('tfjs webgpu', cases, plan, { fallback });
    } else describe('tfjs webgpu', 'unavailable: setBackend failed');
  }
}
