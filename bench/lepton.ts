// lepton's side of each problem: a setup that uploads inputs once, and a
// run() whose timed region ends with the result read back to the host.
import { matmul, nn, optim, randn, scope, type DeviceName } from '../src/index.js';
import type { Problem } from './problems.js';

export interface Prepared {
  run: () => Promise<void>;
  dispose: () => void;
}

export function prepare(p: Problem, device: DeviceName): Prepared {
  if (p.kind === 'matmul') {
    const a = randn([p.M, p.K], { device, seed: 1 }), b = randn([p.K, p.N], { device, seed: 2 });
    return {
      run: async () => {
        const c = matmul(a, b);
        await c.data();
        c.dispose();
      },
      dispose: () => { a.dispose(); b.dispose(); },
    };
  }
  const model = new nn.MLP(p.sizes, { activation: 'relu', seed: 1, device });
  const opt = p.optimizer === 'sgd' ? new optim.SGD(model.parameters(), { lr: 0.01 }) : new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = randn([p.batch, p.sizes[0]], { device, seed: 3 });
  const labels = Int32Array.from({ length: p.batch }, (_, i) => (i * 7) % p.sizes[p.sizes.length - 1]);
  return {
    run: async () => {
      const loss = scope(() => {
        const l = nn.crossEntropy(model.forward(x), labels);
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l;
      });
      await loss.data();
      loss.dispose();
    },
    dispose: () => { model.dispose(); opt.dispose(); x.dispose(); },
  };
}
