// Shared by the interop tests: lepton's side of a forward + backward that
// PyTorch repeats (torch_roundtrip.py), in PyTorch's layouts.
import * as lp from '../../src/index.js';
import type { DeviceName } from '../../src/index.js';
import { layoutsOf, permute } from '../../src/io/layouts.js';

const { nn, tensor } = lp;

/** Output, input gradient and parameter gradients (PyTorch's layouts) of cross-entropy on (x, labels). */
export async function results(model: lp.nn.Module, x: Float32Array, shape: number[], labels: number[], device: DeviceName) {
  const xt = tensor(x, shape, { device, requiresGrad: true });
  const out = model.forward(xt);
  const loss = nn.crossEntropy(out, labels);
  model.zeroGrad();
  loss.backward();
  const res: Record<string, Float32Array> = { out: await out.data(), 'grad.x': await xt.grad!.data() };
  const layouts = layoutsOf(model);
  for (const [k, p] of model.namedParameters()) {
    const g = await p.grad!.data(), perm = layouts.get(k)?.perm;
    res[`grad.${k}`] = perm ? permute(g, p.shape, perm) : g;
  }
  lp.dispose(xt, out, loss, xt.grad);
  return res;
}

export const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

