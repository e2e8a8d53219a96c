// Dispatch of the fused optimizer updates (kernels-wgsl/optim.wgsl).
import { AdamUniform, SgdUniform, type AdamParams, type SgdParams } from '../../primitives/optim.js';
import { params, WG, type GpuHandle, type GpuRuntime } from '../runtime.js';

/** x as hi + lo f32s (about 48 bits): the SGD kernel computes in double-float. */
const split = (x: number) => [Math.fround(x), Math.fround(x - Math.fround(x))];

export function sgd(rt: GpuRuntime, param: GpuHandle, grad: GpuHandle, velocity: GpuHandle | null, n: number, p: SgdParams): void {
  for (const h of [param, grad, velocity]) if (h) rt.check(h, n, 'sgd');
  rt.distinct('sgd', [param, grad, velocity]);
  const buffers = velocity ? [param.buffer, grad.buffer, velocity.buffer] : [param.buffer, grad.buffer];
  const four = !velocity && n % 4 === 0;
  const [lr, mu, wd] = [p.lr, p.momentum, p.weightDecay].map(split);
  rt.dispatch({ file: 'optim', entry: velocity ? 'sgd_momentum' : four ? 'sgd4' : 'sgd', constants: { WG } }, buffers,
    Math.ceil(n / (four ? 4 * WG : WG)), params(SgdUniform, {
      n, lr: lr[0], momentum: mu[0], weightDecay: wd[0], nesterov: p.nesterov ? 1 : 0, lrLo: lr[1], momentumLo: mu[1], weightDecayLo: wd[1],
    }));
}

export function adam(rt: GpuRuntime, param: GpuHandle, grad: GpuHandle, m: GpuHandle, v: GpuHandle, n: number, p: AdamParams): void {
  for (const h of [param, grad, m, v]) rt.check(h, n, 'adam');
  rt.distinct('adam', [param, grad, m, v]);
  rt.dispatch({ file: 'optim', entry: 'adam', constants: { WG } }, [param.buffer, grad.buffer, m.buffer, v.buffer], Math.ceil(n / WG),
    params(AdamUniform, {
      n, lr: p.lr, beta1: p.beta1, beta2: p.beta2, oneMinusBeta1: 1 - p.beta1, oneMinusBeta2: 1 - p.beta2, eps: p.eps,
      weightDecay: p.weightDecay, decay: 1 - p.lr * p.weightDecay, decoupled: p.decoupled ? 1 : 0,
      biasCorrection1: p.biasCorrection1, biasCorrection2: p.biasCorrection2,
    }));
}
