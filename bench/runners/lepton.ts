// lepton's configs: WASM on one thread, WASM on all threads, WebGPU.
import { describeDevice, init, matmul, nn, optim, scope, tensor, type DeviceName } from '../../src/index.js';
import { getBackend } from '../../src/backends/registry.js';
import { matmulInputs, mlpInputs, type Problem } from '../problems.js';
import { describe, readPlan, runConfig, wants, type Case } from '../harness.js';

const plan = readPlan();

function cases(device: DeviceName): Case {
  return {
    async prepare(p: Problem) {
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
      model.layers.forEach((l, i) => {
        l.weight.backend.write(l.weight.handle('bench', 'w'), layers[i].w);
        l.bias!.backend.write(l.bias!.handle('bench', 'b'), layers[i].b);
      });
      const opt = p.optimizer === 'sgd' ? new optim.SGD(model.parameters(), { lr: 0.01 }) : new optim.Adam(model.parameters(), { lr: 1e-3 });
      const x = tensor(X, [p.batch, p.sizes[0]], { device });
      return {
        run: async () => {
          const l = scope(() => {
            const out = nn.crossEntropy(model.forward(x), labels);
            opt.zeroGrad();
            out.backward();
            opt.step();
            return out;
          });
          const loss = (await l.data())[0];
          l.dispose();
          return loss;
        },
        dispose: () => { model.dispose(); opt.dispose(); x.dispose(); },
      };
    },
  };
}

const want = (c: string) => wants(plan, c);

if (want('lepton wasm 1T')) {
  await init({ backend: 'wasm', threads: 1 });
  describe('lepton wasm 1T', describeDevice('wasm'));
  await runConfig('lepton wasm 1T', cases('wasm'), plan);
}
if (want('lepton wasm MT')) {
  // A second WASM backend with every core; registry holds one per name, so make it directly.
  const { createWasmBackend } = await import('../../src/backends/wasm/backend.js');
  const mt = await createWasmBackend({ threads: 'auto' });
  const { useBackend } = await import('../../src/backends/registry.js');
  useBackend(mt);
  describe('lepton wasm MT', `${mt.description}, ${mt.threads} threads`);
  await runConfig('lepton wasm MT', cases('wasm'), plan);
}
if (want('lepton webgpu')) {
  try {
    // Autotune as a user on this adapter would get it (forced on for software adapters too, bounded).
    await init({ backend: 'webgpu', autotune: { budgetMs: plan.quick ? 1500 : 6000 } });
    const be = getBackend('webgpu') as { description: string; isFallbackAdapter?: boolean };
    describe('lepton webgpu', be.description);
    await runConfig('lepton webgpu', cases('webgpu'), plan, { fallback: be.isFallbackAdapter ?? false });
  } catch (e) {
    describe('lepton webgpu', `unavailable: ${(e as Error).message}`);
  }
}
