// TensorFlow.js 4.22 with its WASM (XNNPACK) and WebGPU backends.
import { createRequire } from 'node:module';
import { cnnInputs } from '../cnn-problem.js';
import { transformerInputs, type TransformerProblem } from '../transformer-problem.js';
import { ANSWER_LEN, PROMPT_LEN } from '../../examples/addition/data.js';
import { convInputs } from '../conv-problems.js';
import { attentionInputs, matmulInputs, mlpInputs, seqInputs, type AttentionProblem, type Problem, type SeqProblem } from '../problems.js';
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

/** The addition demo's transformer step from tfjs ops (attention from matMul + softmax, LayerNorm from moments), SGD through minimize. */
function transformerCase(p: TransformerProblem) {
  const i = transformerInputs(p);
  const { batch: B, seq: S, dModel: d, heads: H, vocab: V } = p, D = d / H, N = B * S;
  const vars: import('@tensorflow/tfjs').Variable[] = [];
  const v = (a: Float32Array, shape: number[]) => { const t = tf.variable(tf.tensor(a, shape)); vars.push(t); return t; };
  const tok = v(i.tok, [V, d]), pos = v(i.pos, [S, d]), head = v(i.head, [d, V]), nw = v(i.normW, [d]), nb = v(i.normB, [d]);
  const layers = i.layers.map((l) => ({
    wIn: v(l.wIn, [d, 3 * d]), bIn: v(l.bIn, [3 * d]), wOut: v(l.wOut, [d, d]), bOut: v(l.bOut, [d]), w1: v(l.w1, [d, p.ffn]), b1: v(l.b1, [p.ffn]),
    w2: v(l.w2, [p.ffn, d]), b2: v(l.b2, [d]), n1w: v(l.n1w, [d]), n1b: v(l.n1b, [d]), n2w: v(l.n2w, [d]), n2b: v(l.n2b, [d]),
  }));
  // The embedding lookup as oneHot(ids)·table: tfjs-wasm has no gradient kernel for gather (UnsortedSegmentSum).
  const ids = tf.oneHot(tf.tensor1d(i.ids, 'int32'), V).toFloat(), mask = tf.tensor2d(i.causal, [S, S]), y = tf.oneHot(tf.tensor1d(i.labels, 'int32'), V);
  const ln = (x: Tensor, w: Tensor, b: Tensor) => { const { mean, variance } = tf.moments(x, -1, true); return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(w).add(b); };
  const gelu = (x: Tensor) => x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
  const part = (qkv: Tensor, k: number) => qkv.slice([0, 0, k * H, 0], [B, S, H, D]).transpose([0, 2, 1, 3]);
  const opt = tf.train.sgd(0.01);
  const lossFn = () => {
    let x: Tensor = tf.matMul(ids, tok).reshape([B, S, d]).add(pos);
    for (const l of layers) {
      const qkv = ln(x.reshape([N, d]), l.n1w, l.n1b).matMul(l.wIn).add(l.bIn).reshape([B, S, 3 * H, D]);
      const att = tf.softmax(tf.matMul(part(qkv, 0), part(qkv, 1), false, true).mul(1 / Math.sqrt(D)).add(mask));
      const o = tf.matMul(att, part(qkv, 2)).transpose([0, 2, 1, 3]).reshape([N, d]);
      x = x.add(o.matMul(l.wOut).add(l.bOut).reshape([B, S, d]));
      const m = gelu(ln(x.reshape([N, d]), l.n2w, l.n2b).matMul(l.w1).add(l.b1)).matMul(l.w2).add(l.b2);
      x = x.add(m.reshape([B, S, d]));
    }
    const logits = ln(x.reshape([N, d]), nw, nb).matMul(head).reshape([B, S, V]).slice([0, PROMPT_LEN - 1, 0], [B, ANSWER_LEN, V]);
    return tf.losses.softmaxCrossEntropy(y, logits.reshape([B * ANSWER_LEN, V])) as import('@tensorflow/tfjs').Scalar;
  };
  return {
    run: async () => { const cost = opt.minimize(lossFn, true)!; const loss = (await cost.data())[0]; cost.dispose(); return loss; },
    dispose: () => { tf.dispose([...vars, ids, mask, y]); opt.dispose(); },
  };
}

const cases: Case = {
    async prepare(p: Problem) {
      if (p.kind === 'conv') {
        // tf.conv2d / tf.depthwiseConv2d, NHWC and HWIO as lepton; the backward through tf.grads with dy given.
        const { x: X, w: W, dy: DY, wShape } = convInputs(p);
        const x = tf.tensor4d(X, [p.N, p.H, p.W, p.C]), dy = tf.tensor4d(DY, [p.N, p.H, p.W, p.O]);
        const w = p.depthwise ? tf.tensor4d(W, [p.K, p.K, p.C, 1]) : tf.tensor4d(W, wShape);
        const conv = (a: Tensor, b: Tensor) => (p.depthwise
          ? tf.depthwiseConv2d(a as import('@tensorflow/tfjs').Tensor4D, b as import('@tensorflow/tfjs').Tensor4D, 1, 'same')
          : tf.conv2d(a as import('@tensorflow/tfjs').Tensor4D, b as import('@tensorflow/tfjs').Tensor4D, 1, 'same'));
        const grads = tf.grads(conv);
        const dispose = () => { x.dispose(); w.dispose(); dy.dispose(); };
        if (!p.backward) return { run: async () => { const y = conv(x, w); const v = await y.data(); y.dispose(); return v; }, dispose };
        return {
          run: async () => {
            const [gx, gw] = grads([x, w], dy);
            const [v] = await Promise.all([gx.data(), gw.data()]);
            gx.dispose(); gw.dispose();
            return v;
          },
          dispose,
        };
      }
      if (p.kind === 'cnn') {
        // The demo's CNN with tf.conv2d / tf.maxPool (NHWC as lepton, so the flatten order matches), SGD through minimize.
        const i = cnnInputs(p);
        const v = [tf.tensor4d(i.w1, [5, 5, 1, 32]), tf.tensor1d(i.b1), tf.tensor4d(i.w2, [5, 5, 32, 64]), tf.tensor1d(i.b2),
          tf.tensor2d(i.w3, [1024, 128]), tf.tensor1d(i.b3), tf.tensor2d(i.w4, [128, 10]), tf.tensor1d(i.b4)].map((t) => tf.variable(t));
        const x = tf.tensor4d(i.x, [p.batch, 28, 28, 1]), y = tf.oneHot(tf.tensor1d(i.labels, 'int32'), 10);
        const opt = tf.train.sgd(0.01);
        type T4 = import('@tensorflow/tfjs').Tensor4D;
        const lossFn = () => {
          let h = tf.relu(tf.add(tf.conv2d(x, v[0] as T4, 1, 'valid'), v[1])) as T4;
          h = tf.maxPool(h, 2, 2, 'valid');
          h = tf.relu(tf.add(tf.conv2d(h, v[2] as T4, 1, 'valid'), v[3])) as T4;
          h = tf.maxPool(h, 2, 2, 'valid');
          const f = tf.relu(tf.add(tf.matMul(tf.reshape(h, [p.batch, 1024]), v[4]), v[5]));
          return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(f, v[6]), v[7])) as import('@tensorflow/tfjs').Scalar;
        };
        return {
          run: async () => { const cost = opt.minimize(lossFn, true)!; const loss = (await cost.data())[0]; cost.dispose(); return loss; },
          dispose: () => { for (const t of v) t.dispose(); x.dispose(); y.dispose(); opt.dispose(); },
        };
      }
      if (p.kind === 'attention') return attentionCase(p);
      if (p.kind === 'transformer') return transformerCase(p);
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
