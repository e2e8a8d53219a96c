// onnxruntime-web 1.30 (WASM execution provider) on a one-node MatMul model.
// The thread count is fixed per process (ort.env is read once), so the
// orchestrator starts this runner once per thread count: BENCH_ORT_THREADS.
import * as ort from 'onnxruntime-web';
import { convInputs, toNCHW, toOIHW } from '../conv-problems.js';
import { convModel, matmulModel } from '../onnx-model.js';
import { matmulInputs, type Problem } from '../problems.js';
import { describe, readPlan, runConfig } from '../harness.js';

const plan = readPlan();
const threads = Number(process.env.BENCH_ORT_THREADS ?? 1);
const config = `ort wasm ${threads}T`;
ort.env.wasm.numThreads = threads;
describe(config, `MLAS, ${threads} thread${threads > 1 ? 's' : ''}, one MatMul node`);

await runConfig(config, {
  async prepare(p: Problem) {
    if (p.kind === 'conv') {
      if (p.backward) return { skip: 'inference only (no training)' };
      // One Conv node, NCHW / OIHW: the same numbers as the others, transposed.
      const group = p.depthwise ? p.C : 1, I = p.C / group;
      const session = await ort.InferenceSession.create(convModel(p.N, p.C, p.H, p.W, p.O, p.K, group), { executionProviders: ['wasm'] });
      const { x, w } = convInputs(p);
      const feeds = {
        X: new ort.Tensor('float32', toNCHW(x, p.N, p.H, p.W, p.C), [p.N, p.C, p.H, p.W]),
        Wt: new ort.Tensor('float32', toOIHW(w, p.K, I, p.O), [p.O, I, p.K, p.K]),
      };
      return { run: async () => (await session.run(feeds)).Y.data as Float32Array, dispose: () => { void session.release(); } };
    }
    if (p.kind !== 'matmul') return { skip: p.kind === 'mlp' ? 'inference only (no training)' : 'a MatMul model only' };
    const session = await ort.InferenceSession.create(matmulModel(p.M, p.K, p.N), { executionProviders: ['wasm'] });
    const { a, b } = matmulInputs(p);
    const feeds = { A: new ort.Tensor('float32', a, [p.M, p.K]), B: new ort.Tensor('float32', b, [p.K, p.N]) };
    return { run: async () => (await session.run(feeds)).C.data as Float32Array, dispose: () => { void session.release(); } };
  },
}, plan);
