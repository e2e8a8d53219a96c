// TensorFlow.js 4.22 with its WASM (XNNPACK) and WebGPU backends.
import { createRequire } from 'node:module';
import { matmulInputs, mlpInputs, seqInputs, type Problem, type SeqProblem } from '../problems.js';
import { describe, isFallback, nodeWebGPU, readPlan, runConfig, wants, type Case } from '../harness.js';

const plan = readPlan();
const want = (c: string) => wants(plan, c);
const gpu = want('tfjs webgpu') ? await nodeWebGPU() : null; // before tfjs loads, so it sees navigator.gpu
const tf = await import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;

/** LayerNorm composed from tf.moments (tfjs has no fused layer-norm op), or softmaxCrossEntropy: forward and backward. */
function seqCase(p: SeqProblem) {
  const { x: X, g: G, w: W, b: B, labels } = seqInputs(p);
  const x = tf.tensor2d(X, [p.rows, p.cols]), g = tf.tensor2d(G, [p.rows, p.cols]);
  const w = tf.tensor1d(W), b = tf.tensor1d(B);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), p.cols);
  const grads = p.kind === 'layernorm'
    ? tf.grads((a: Tensor, ww: Tensor, bb: Tensor) => {
      const { mean, variance } = tf.moments(a, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(a, mean), tf.rsqrt(tf.add(variance, 1e-5))), ww), bb);
    })
    : tf.grads((a: Tensor) => tf.losses.softmaxCrossEntropy(y, a));
  return {
    run: async () => {
      const gs = p.kind === 'layernorm' ? grads([x, w, b], g) : grads([x]);
      const v = await gs[0].data();
      tf.dispose(gs);
      return v as Float32Array;
    },
    dispose: () => { tf.dispose([x, g, w, b, y]); },
  };
}

const cases: Case = {
    async prepare(p: Problem) {
      if (p.kind !== 'matmul' && p.kind !== 'mlp') return seqCase(p);
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
