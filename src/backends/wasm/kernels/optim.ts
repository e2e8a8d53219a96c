// The fused optimizer updates on WASM (kernels-as/optim.ts); long parameters split over the threads.
import { AdamJob, SgdJob, type AdamParams, type SgdParams } from '../../primitives/optim.js';
import type { WasmHandle, WasmRuntime } from '../runtime.js';

/** Flop-equivalents per value for the thread split: 4-7 streams of f64 arithmetic. */
const SGD_COST = 60, ADAM_COST = 150;
const LINE = 16;

export function sgd(rt: WasmRuntime, param: WasmHandle, grad: WasmHandle, velocity: WasmHandle | null, n: number, p: SgdParams): void {
  for (const [h, what] of [[param, 'param'], [grad, 'grad'], [velocity, 'velocity']] as const) if (h) rt.check(h, n, `sgd ${what}`);
  if (n <= 0) return;
  const parts = rt.partsFor(n * SGD_COST, Math.ceil(n / LINE));
  rt.job('sgd', SgdJob, {
    p: param.ptr, g: grad.ptr, v: velocity ? velocity.ptr : 0, n, nesterov: +p.nesterov, parts,
    lr: p.lr, momentum: p.momentum, weightDecay: p.weightDecay,
  }, parts);
}

export function adam(rt: WasmRuntime, param: WasmHandle, grad: WasmHandle, m: WasmHandle, v: WasmHandle, n: number, p: AdamParams): void {
  for (const [h, what] of [[param, 'param'], [grad, 'grad'], [m, 'm'], [v, 'v']] as const) rt.check(h, n, `adam ${what}`);
  if (n <= 0) return;
  const parts = rt.partsFor(n * ADAM_COST, Math.ceil(n / LINE));
  rt.job('adam', AdamJob, {
    p: param.ptr, g: grad.ptr, m: m.ptr, v: v.ptr, n, decoupled: +p.decoupled, parts,
    lr: p.lr, beta1: p.beta1, beta2: p.beta2, eps: p.eps, weightDecay: p.weightDecay, bc1: p.biasCorrection1, bc2: p.biasCorrection2,
  }, parts);
}
