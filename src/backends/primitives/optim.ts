// Fused in-place optimizer updates (PyTorch's SGD and Adam / AdamW).
// Kernels: kernels-wgsl/optim.wgsl, kernels-as/optim.ts.
import { struct } from './declare.js';

export interface SgdParams {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

export interface AdamParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decay the weights directly instead of adding `wd * p` to the gradient. */
  decoupled: boolean;
  /** 1 - beta1^t and 1 - beta2^t for the step t being taken (t starts at 1). */
  biasCorrection1: number;
  biasCorrection2: number;
}

export interface OptimKernels<H> {
  /** In-place SGD update of `param` (n values); `velocity` is null when momentum is 0. */
  sgd(param: H, grad: H, velocity: H | null, n: number, p: SgdParams): void;
  /** In-place Adam / AdamW update of `param`, `m` and `v`. */
  adam(param: H, grad: H, m: H, v: H, n: number, p: AdamParams): void;
}

/** WebGPU uniform: lr, momentum and weightDecay as hi + lo f32 pairs (the kernel works in double-float). */
export const SgdUniform = struct('SgdUniform', {
  n: 'u32', lr: 'f32', momentum: 'f32', weightDecay: 'f32', nesterov: 'u32', lrLo: 'f32', momentumLo: 'f32', weightDecayLo: 'f32',
}, 'wgsl');
/** WebGPU uniform: 1 - beta and 1 - lr·wd come from the host in float64 (f32(1 - 0.9999) beats 1 - f32(0.9999)). */
export const AdamUniform = struct('AdamUniform', {
  n: 'u32', lr: 'f32', beta1: 'f32', beta2: 'f32', oneMinusBeta1: 'f32', oneMinusBeta2: 'f32',
  eps: 'f32', weightDecay: 'f32', decay: 'f32', decoupled: 'u32', biasCorrection1: 'f32', biasCorrection2: 'f32',
}, 'wgsl');

// WASM job descriptors; the kernels compute in f64 and take the hyperparameters so.
export const SgdJob = struct('SgdJob', {
  p: 'u32', g: 'u32', v: 'u32', n: 'u32', nesterov: 'u32', parts: 'u32',
  lr: 'f64', momentum: 'f64', weightDecay: 'f64',
}, 'wasm');
export const AdamJob = struct('AdamJob', {
  p: 'u32', g: 'u32', m: 'u32', v: 'u32', n: 'u32', decoupled: 'u32', parts: 'u32',
  lr: 'f64', beta1: 'f64', beta2: 'f64', eps: 'f64', weightDecay: 'f64', bc1: 'f64', bc2: 'f64',
}, 'wasm');

export const DECLS = [SgdUniform, AdamUniform, SgdJob, AdamJob];
