// jax-js 0.1.25 on its WASM and WebGPU devices, eager and under jit().
import { matmulInputs, mlpInputs, type Problem } from '../problems.js';
import { describe, isFallback, nodeWebGPU, readPlan, runConfig, shimNavigator, wants, type Case } from '../harness.js';

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

function cases(device: 'wasm' | 'webgpu', useJit: boolean): Case {
  return {
    async prepare(p: Problem) {
      jax.defaultDevice(device);
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
