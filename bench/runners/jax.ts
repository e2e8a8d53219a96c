// jax-js 0.1.25 on its WASM and WebGPU devices, eager and under jit().
import { cnnInputs, type CnnProblem } from '../cnn-problem.js';
import { transformerInputs, type TransformerProblem } from '../transformer-problem.js';
import { ANSWER_LEN, PROMPT_LEN } from '../../examples/addition/data.js';
import { convInputs, toNCHW, toOIHW, type ConvProblem } from '../conv-problems.js';
import { attentionInputs, matmulInputs, mlpInputs, type AttentionProblem, type Problem } from '../problems.js';
import { describe, isFallback, nodeWebGPU, readPlan, runConfig, shimNavigator, wants, type Case } from '../harness.js';

// jax-js keeps its WASM heap private: capture each WebAssembly.Memory it makes, whose size only grows,
// so its growth over a call bounds what the call allocated from above (the bench's peak memory).
const memories: WebAssembly.Memory[] = [];
const NativeMemory = WebAssembly.Memory;
(WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = function Memory(desc: WebAssembly.MemoryDescriptor) {
  const m = new NativeMemory(desc);
  memories.push(m);
  return m;
} as unknown as typeof WebAssembly.Memory;
const heapBytes = () => memories.reduce((n, m) => n + m.buffer.byteLength, 0);

const plan = readPlan();
const want = (c: string) => wants(plan, c);
const gpu = want('jax webgpu') || want('jax webgpu jit') ? await nodeWebGPU() : null;
// jax-js's init() reads navigator (absent in Node 20) even for WASM alone.
if (!gpu) await shimNavigator(null);
const jax = await import('@jax-js/jax');
const np = jax.numpy;
type Arr = import('@jax-js/jax').Array;
const devices = await jax.init();

type Params = { w: Arr; b: Arr }[];

/**
 * jax.lax.convGeneralDilated (NCHW, OIHW: the same numbers, transposed) with 'SAME' padding; the backward
 * as jax.grad of <conv(x, w), dy> with respect to x and w (the product with dy and its sum are small next to the conv).
 */
function convCase(p: ConvProblem, useJit: boolean) {
  const { x: X, w: W, dy: DY } = convInputs(p);
  const I = p.depthwise ? 1 : p.C;
  const x = np.array(toNCHW(X, p.N, p.H, p.W, p.C)).reshape([p.N, p.C, p.H, p.W]);
  const w = np.array(toOIHW(W, p.K, I, p.O)).reshape([p.O, I, p.K, p.K]);
  const dy = np.array(toNCHW(DY, p.N, p.H, p.W, p.O)).reshape([p.N, p.O, p.H, p.W]);
  const conv = (a: Arr, b: Arr) => jax.lax.convGeneralDilated(a, b, [1, 1], 'SAME', { featureGroupCount: p.depthwise ? p.C : 1 });
  if (!p.backward) {
    const f = useJit ? jax.jit(conv) : conv;
    return { run: async () => (await f(x.ref, w.ref).data()) as Float32Array, dispose: () => { x.dispose(); w.dispose(); dy.dispose(); } };
  }
  const g = jax.grad((a: Arr, b: Arr, d: Arr) => conv(a, b).mul(d).sum(), { argnums: [0, 1] });
  const f = useJit ? jax.jit(g) : g;
  return {
    run: async () => {
      const [gx, gw] = f(x.ref, w.ref, dy.ref) as unknown as [Arr, Arr];
      const [vx] = await Promise.all([gx.data(), gw.data()]);
      return vx as Float32Array;
    },
    dispose: () => { x.dispose(); w.dispose(); dy.dispose(); },
  };
}

/**
 * The demo's CNN step, JAX-style: NCHW convolutions (OIHW weights), 2×2 max
 * pools as a max over a reshape, the activations transposed to NHWC before
 * the flatten (lepton's order, so the dense weights and the loss agree), SGD.
 */
function cnnCase(p: CnnProblem, useJit: boolean) {
  const i = cnnInputs(p), B = p.batch;
  let params: Arr[] = [np.array(i.w1oihw).reshape([32, 1, 5, 5]), np.array(i.b1).reshape([1, 32, 1, 1]), np.array(i.w2oihw).reshape([64, 32, 5, 5]),
    np.array(i.b2).reshape([1, 64, 1, 1]), np.array(i.w3).reshape([1024, 128]), np.array(i.b3), np.array(i.w4).reshape([128, 10]), np.array(i.b4)];
  const x = np.array(i.x).reshape([B, 1, 28, 28]); // C = 1: NHWC and NCHW hold the same numbers
  const y = jax.nn.oneHot(np.array(i.labels, { dtype: np.int32 }), 10);
  const pool = (h: Arr, C: number, S: number) => np.max(h.reshape([B, C, S / 2, 2, S / 2, 2]), [3, 5]);
  const lossFn = (ps: Arr[], xb: Arr, yb: Arr) => {
    let h = jax.nn.relu(jax.lax.convGeneralDilated(xb, ps[0], [1, 1], 'VALID').add(ps[1]));
    h = pool(h, 32, 24);
    h = jax.nn.relu(jax.lax.convGeneralDilated(h, ps[2], [1, 1], 'VALID').add(ps[3]));
    h = np.transpose(pool(h, 64, 8), [0, 2, 3, 1]).reshape([B, 1024]);
    const logits = np.matmul(jax.nn.relu(np.matmul(h, ps[4]).add(ps[5])), ps[6]).add(ps[7]);
    return jax.nn.logSoftmax(logits, -1).mul(yb).sum().mul(-1 / B);
  };
  const sgdStep = (ps: Arr[], xb: Arr, yb: Arr) => {
    const [loss, g] = jax.valueAndGrad(lossFn)(jax.tree.ref(ps), xb, yb);
    return [loss, jax.tree.map((w: Arr, gw: Arr) => w.sub(gw.mul(0.01)), ps, g)] as [Arr, Arr[]];
  };
  const step = useJit ? jax.jit(sgdStep) : sgdStep;
  return {
    run: async () => {
      let l: Arr;
      [l, params] = step(params, x.ref, y.ref) as unknown as [Arr, Arr[]];
      return ((await l.data()) as Float32Array)[0];
    },
    dispose: () => { jax.tree.dispose(params); x.dispose(); y.dispose(); },
  };
}

/** softmax(q·kᵀ·scale)·v composed from jax-js ops; fwd+bwd through valueAndGrad of <out, g>. */
function attentionCase(p: AttentionProblem, device: 'wasm' | 'webgpu', useJit: boolean) {
  const { q: Q, k: K, v: V, g: G, scale } = attentionInputs(p);
  const shape = [p.heads, p.seq, p.headDim];
  const q = np.array(Q).reshape(shape), k = np.array(K).reshape(shape), v = np.array(V).reshape(shape), g = np.array(G).reshape(shape);
  const attn = (qa: Arr, ka: Arr, va: Arr) => np.matmul(jax.nn.softmax(np.matmul(qa, ka.transpose([0, 2, 1])).mul(scale), -1), va);
  const fwd = useJit ? jax.jit(attn) : attn;
  const loss = (qa: Arr, ka: Arr, va: Arr, ga: Arr) => attn(qa, ka, va).mul(ga).sum();
  const gradFn = jax.grad(loss, { argnums: [0, 1, 2] } as never) as unknown as (a: Arr, b: Arr, c: Arr, d: Arr) => Arr[];
  const both = useJit ? jax.jit(gradFn) : gradFn;
  const call = async () => {
    if (!p.backward) return (await fwd(q.ref, k.ref, v.ref).data()) as Float32Array;
    const [dq, dk, dv] = both(q.ref, k.ref, v.ref, g.ref);
    const out = (await dq.data()) as Float32Array;
    await dk.data(); await dv.data();
    return out;
  };
  return {
    run: call,
    // Only the WASM heap is visible; its growth during one call (0 when an earlier, larger call already grew it).
    peak: device === 'wasm' ? async () => { const before = heapBytes(); await call(); return heapBytes() - before || null; } : undefined,
    dispose: () => { for (const a of [q, k, v, g]) a.dispose(); },
  };
}

/**
 * The addition demo's transformer step, JAX-style: a pure loss over a flat list of
 * parameters (embeddings as oneHot(ids)·table, LayerNorm from mean and variance,
 * attention from matmul + softmax with an additive causal mask, tanh-GELU), its
 * value and gradient, and a functional SGD update. Every array an op reads more
 * than once is passed as `.ref` (jax-js consumes its arguments).
 */
function transformerCase(p: TransformerProblem, useJit: boolean) {
  const i = transformerInputs(p);
  const { batch: B, seq: S, dModel: d, heads: H, vocab: V, ffn: F } = p, D = d / H, N = B * S, A = ANSWER_LEN;
  const a = (x: Float32Array, shape: number[]) => np.array(x).reshape(shape);
  let params: Arr[] = [a(i.tok, [V, d]), a(i.pos, [S, d]), a(i.normW, [d]), a(i.normB, [d]), a(i.head, [d, V]), ...i.layers.flatMap((l) => [
    a(l.wIn, [d, 3 * d]), a(l.bIn, [3 * d]), a(l.wOut, [d, d]), a(l.bOut, [d]), a(l.w1, [d, F]), a(l.b1, [F]), a(l.w2, [F, d]), a(l.b2, [d]),
    a(l.n1w, [d]), a(l.n1b, [d]), a(l.n2w, [d]), a(l.n2b, [d])])];
  const ids = jax.nn.oneHot(np.array(i.ids, { dtype: np.int32 }), V), y = jax.nn.oneHot(np.array(i.labels, { dtype: np.int32 }), V);
  const mask = a(i.causal, [S, S]);
  const ln = (x: Arr, w: Arr, b: Arr) => {
    const xc = x.ref.sub(np.mean(x, -1, { keepdims: true }));
    const variance = np.mean(xc.ref.mul(xc.ref), -1, { keepdims: true });
    return xc.div(np.sqrt(variance.add(1e-5))).mul(w).add(b);
  };
  const part = (qkv: Arr, k: number) => qkv.slice([], [], [k * H, (k + 1) * H], []).transpose([0, 2, 1, 3]);
  const lossFn = (ps: Arr[], idsb: Arr, yb: Arr, mb: Arr) => {
    const [tok, pos, nw, nb, head] = ps;
    let x = np.matmul(idsb, tok).reshape([B, S, d]).add(pos).reshape([N, d]);
    for (let l = 0; l < p.layers; l++) {
      const [wIn, bIn, wOut, bOut, w1, b1, w2, b2, n1w, n1b, n2w, n2b] = ps.slice(5 + 12 * l, 17 + 12 * l);
      const qkv = np.matmul(ln(x.ref, n1w, n1b), wIn).add(bIn).reshape([B, S, 3 * H, D]);
      const q = part(qkv.ref, 0), k = part(qkv.ref, 1), v = part(qkv, 2);
      const scores = np.matmul(q, k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(D)).add(l < p.layers - 1 ? mb.ref : mb);
      const o = np.matmul(jax.nn.softmax(scores, -1), v).transpose([0, 2, 1, 3]).reshape([N, d]);
      x = x.add(np.matmul(o, wOut).add(bOut));
      x = x.add(np.matmul(jax.nn.gelu(np.matmul(ln(x.ref, n2w, n2b), w1).add(b1)), w2).add(b2));
    }
    const logits = np.matmul(ln(x, nw, nb), head).reshape([B, S, V]).slice([], [PROMPT_LEN - 1, PROMPT_LEN - 1 + A], []).reshape([B * A, V]);
    return jax.nn.logSoftmax(logits, -1).mul(yb).sum().mul(-1 / (B * A));
  };
  const sgdStep = (ps: Arr[], idsb: Arr, yb: Arr, mb: Arr) => {
    const [loss, g] = jax.valueAndGrad(lossFn)(jax.tree.ref(ps), idsb, yb, mb);
    return [loss, jax.tree.map((w: Arr, gw: Arr) => w.sub(gw.mul(0.01)), ps, g)] as [Arr, Arr[]];
  };
  const step = useJit ? jax.jit(sgdStep) : sgdStep;
  return {
    run: async () => {
      let l: Arr;
      [l, params] = step(params, ids.ref, y.ref, mask.ref) as unknown as [Arr, Arr[]];
      return ((await l.data()) as Float32Array)[0];
    },
    dispose: () => { jax.tree.dispose(params); ids.dispose(); y.dispose(); mask.dispose(); },
  };
}

function cases(device: 'wasm' | 'webgpu', useJit: boolean): Case {
  return {
    async prepare(p: Problem) {
      jax.defaultDevice(device);
      if (p.kind === 'conv') return convCase(p, useJit);
      if (p.kind === 'cnn') return cnnCase(p, useJit);
      if (p.kind === 'attention') return attentionCase(p, device, useJit);
      if (p.kind === 'transformer') return transformerCase(p, useJit);
      if (p.kind !== 'matmul' && p.kind !== 'mlp') return { skip: 'not written for jax-js yet' };
      if (p.kind === 'matmul') {
        const { a: A, b: B } = matmulInputs(p);
        const a = np.array(A).reshape([p.M, p.K]), b = np.array(B).reshape([p.K, p.N]);
        const f = useJit ? jax.jit((x: Arr, y: Arr) => np.matmul(x, y)) : (x: Arr, y: Arr) => np.matmul(x, y);
        return { run: async () => (await f(a.ref, b.ref).data()) as Float32Array, dispose: () => { a.dispose(); b.dispose(); } };
      }
      const { x: X, labels, layers } = mlpInputs(p);
      let params: Params = layers.map((l) => ({ w: np.array(l.w).reshape([l.in, l.out]), b: np.array(l.b) }));
      const x = np.array(X).reshape([p.batch, p.sizes[0]]);
      const y = jax.nn.oneHot(np.array(labels, { dtype: np.int32 }), p.sizes[p.sizes.length - 1]);
      // JAX-style: a pure loss, its value and gradient, and a functional update.
      const lossFn = (ps: Params, xb: Arr, yb: Arr) => {
        let h = xb;
        ps.forEach((l, i) => {
          const z = np.matmul(h, l.w).add(l.b);
          h = i < ps.length - 1 ? jax.nn.relu(z) : z;
        });
        return jax.nn.logSoftmax(h, -1).mul(yb).sum().mul(-1 / p.batch);
      };
      const lr = p.optimizer === 'sgd' ? 0.01 : 1e-3;
      let state = p.optimizer === 'adam'
        ? { m: jax.tree.map((t: Arr) => np.zerosLike(t.ref), params), v: jax.tree.map((t: Arr) => np.zerosLike(t.ref), params), t: np.array([0]) }
        : null;
      // jax-js arrays are reference counted: every call consumes its arguments, `.ref` keeps one.
      const sgdStep = (ps: Params, xb: Arr, yb: Arr) => {
        const [loss, g] = jax.valueAndGrad(lossFn)(jax.tree.ref(ps), xb, yb);
        return [loss, jax.tree.map((w: Arr, gw: Arr) => w.sub(gw.mul(lr)), ps, g)] as [Arr, Params];
      };
      const adamStep = (ps: Params, st: NonNullable<typeof state>, xb: Arr, yb: Arr) => {
        const [loss, g] = jax.valueAndGrad(lossFn)(jax.tree.ref(ps), xb, yb);
        const t = st.t.add(1);
        const m = jax.tree.map((mi: Arr, gi: Arr) => mi.mul(0.9).add(gi.mul(0.1)), st.m, jax.tree.ref(g));
        const v = jax.tree.map((vi: Arr, gi: Arr) => vi.mul(0.999).add(gi.ref.mul(gi).mul(0.001)), st.v, g);
        const bc1 = np.array([1]).sub(np.power(np.array([0.9]), t.ref)), bc2 = np.array([1]).sub(np.power(np.array([0.999]), t.ref));
        const next = jax.tree.map((w: Arr, mi: Arr, vi: Arr) =>
          w.sub(mi.div(bc1.ref).mul(lr).div(np.sqrt(vi.div(bc2.ref)).add(1e-8))), ps, jax.tree.ref(m), jax.tree.ref(v));
        bc1.dispose(); bc2.dispose();
        return [loss, next, { m, v, t }] as [Arr, Params, { m: Params; v: Params; t: Arr }];
      };
      const step = p.optimizer === 'sgd' ? (useJit ? jax.jit(sgdStep) : sgdStep) : (useJit ? jax.jit(adamStep) : adamStep);
      return {
        run: async () => {
          let l: Arr;
          if (state) {
            [l, params, state] = (step as typeof adamStep)(params, state, x.ref, y.ref) as unknown as [Arr, Params, NonNullable<typeof state>];
          } else {
            [l, params] = (step as typeof sgdStep)(params, x.ref, y.ref) as unknown as [Arr, Params];
          }
          return ((await l.data()) as Float32Array)[0];
        },
        dispose: () => { jax.tree.dispose(params); if (state) jax.tree.dispose(state); x.dispose(); y.dispose(); },
      };
    },
  };
}

for (const [config, device, useJit] of [['jax wasm', 'wasm', false], ['jax wasm jit', 'wasm', true], ['jax webgpu', 'webgpu', false], ['jax webgpu jit', 'webgpu', true]] as const) {
  if (!want(config)) continue;
  if (!devices.includes(device)) { describe(config, `unavailable: jax.init() gave ${devices.join(', ')}`); continue; }
  const fallback = device === 'webgpu' && gpu ? await isFallback(gpu) : false;
  describe(config, device === 'wasm' ? `wasm, ${typeof Worker === 'undefined' ? '1 thread (no Worker global in Node)' : 'threaded'}` : `Dawn${fallback ? ' on a fallback (CPU) adapter' : ''}`);
  await runConfig(config, cases(device, useJit), plan, { fallback });
}
