// In-place optimiser steps, as PyTorch defines them (see test/reference).
//
// The arithmetic runs in f64 (two lanes at a time) and rounds once per stored
// value. An update is often nearly as large as the parameter it changes, so
// p - step cancels: in f32, a step computed with a few roundings would show
// up as a large relative error in the small result. In f64 only the final
// rounding remains. These kernels are bound by memory traffic (4-7 streams),
// so the narrower lanes cost little.

/** Loads 2 (or 1, the tail) floats at `p` as f64x2. */
import { AdamJob, SgdJob } from '../build/gen/optim';
import { partStart } from './parts';

// @ts-ignore: decorator
@inline function load2(p: usize, count: i32): v128 {
  return f64x2.promote_low_f32x4(count == 2 ? v128.load64_zero(p) : v128.load32_zero(p));
}

/** Stores 2 (or 1) f64 lanes at `p` as floats. */
// @ts-ignore: decorator
@inline function store2(p: usize, x: v128, count: i32): void {
  const f = f32x4.demote_f64x2_zero(x);
  if (count == 2) v128.store64_lane(p, f, 0);
  else v128.store32_lane(p, f, 0);
}

// @ts-ignore: decorator
@inline function sgdAt(
  p: usize, g: usize, v: usize, count: i32, hasV: bool, nesterov: bool, lr: v128, mom: v128, wd: v128,
): void {
  const pv = load2(p, count);
  let d = f64x2.add(load2(g, count), f64x2.mul(wd, pv));
  if (hasV) {
    const vn = f64x2.add(f64x2.mul(mom, load2(v, count)), d);
    store2(v, vn, count);
    d = nesterov ? f64x2.add(d, f64x2.mul(mom, vn)) : vn;
  }
  store2(p, f64x2.sub(pv, f64x2.mul(lr, d)), count);
}

/** One SGD step on n values: d = g + wd p; v = mom v + d; d = nesterov ? d + mom v : v; p -= lr d. `v` = 0: no momentum buffer. */
function sgd(p: usize, g: usize, v: usize, n: i32, lr: f64, momentum: f64, weightDecay: f64, nesterov: bool): void {
  if (n <= 0) return;
  const vlr = f64x2.splat(lr), vmom = f64x2.splat(momentum), vwd = f64x2.splat(weightDecay);
  const hasV = v != 0;
  const end = <usize>(n & ~1) << 2;
  let i: usize = 0;
  for (; i < end; i += 8) sgdAt(p + i, g + i, v + i, 2, hasV, nesterov, vlr, vmom, vwd);
  if (n & 1) sgdAt(p + i, g + i, v + i, 1, hasV, nesterov, vlr, vmom, vwd);
}

// @ts-ignore: decorator
@inline function adamAt(
  p: usize, g: usize, m: usize, v: usize, count: i32, decoupled: bool,
  decay: v128, wd: v128, b1: v128, c1: v128, b2: v128, c2: v128, step: v128, rs2: v128, eps: v128,
): void {
  let pv = load2(p, count);
  let gv = load2(g, count);
  if (decoupled) pv = f64x2.mul(pv, decay);
  else gv = f64x2.add(gv, f64x2.mul(wd, pv));
  const mn = f64x2.add(f64x2.mul(b1, load2(m, count)), f64x2.mul(c1, gv));
  const vn = f64x2.add(f64x2.mul(b2, load2(v, count)), f64x2.mul(c2, f64x2.mul(gv, gv)));
  const denom = f64x2.add(f64x2.mul(f64x2.sqrt(vn), rs2), eps);
  store2(p, f64x2.sub(pv, f64x2.div(f64x2.mul(step, mn), denom)), count);
  store2(m, mn, count);
  store2(v, vn, count);
}

/**
 * One Adam (decoupled = false: L2 added to the gradient) or AdamW step:
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps).
 */
function adam(
  p: usize, g: usize, m: usize, v: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, weightDecay: f64, decoupled: bool, bc1: f64, bc2: f64,
): void {
  if (n <= 0) return;
  const decay = f64x2.splat(1 - lr * weightDecay), wd = f64x2.splat(weightDecay);
  const b1 = f64x2.splat(beta1), c1 = f64x2.splat(1 - beta1);
  const b2 = f64x2.splat(beta2), c2 = f64x2.splat(1 - beta2);
  const step = f64x2.splat(lr / bc1), rs2 = f64x2.splat(1 / Math.sqrt(bc2)), veps = f64x2.splat(eps);
  const end = <usize>(n & ~1) << 2;
  let i: usize = 0;
  for (; i < end; i += 8) adamAt(p + i, g + i, m + i, v + i, 2, decoupled, decay, wd, b1, c1, b2, c2, step, rs2, veps);
  if (n & 1) adamAt(p + i, g + i, m + i, v + i, 1, decoupled, decay, wd, b1, c1, b2, c2, step, rs2, veps);
}

/** Part `part` of the SgdJob at `desc`: parts split the values. */
export function sgdPart(desc: usize, part: i32): void {
  const n = load<i32>(desc + SgdJob.n), parts = load<i32>(desc + SgdJob.parts);
  const lo = partStart(n, parts, part, 16), hi = partStart(n, parts, part + 1, 16);
  const at = <usize>lo << 2, v = <usize>load<u32>(desc + SgdJob.v);
  sgd(<usize>load<u32>(desc + SgdJob.p) + at, <usize>load<u32>(desc + SgdJob.g) + at, v != 0 ? v + at : 0, hi - lo,
    load<f64>(desc + SgdJob.lr), load<f64>(desc + SgdJob.momentum), load<f64>(desc + SgdJob.weightDecay), load<u32>(desc + SgdJob.nesterov) != 0);
}

/** Part `part` of the AdamJob at `desc`: parts split the values. */
export function adamPart(desc: usize, part: i32): void {
  const n = load<i32>(desc + AdamJob.n), parts = load<i32>(desc + AdamJob.parts);
  const lo = partStart(n, parts, part, 16), hi = partStart(n, parts, part + 1, 16);
  const at = <usize>lo << 2;
  adam(<usize>load<u32>(desc + AdamJob.p) + at, <usize>load<u32>(desc + AdamJob.g) + at, <usize>load<u32>(desc + AdamJob.m) + at,
    <usize>load<u32>(desc + AdamJob.v) + at, hi - lo, load<f64>(desc + AdamJob.lr), load<f64>(desc + AdamJob.beta1),
    load<f64>(desc + AdamJob.beta2), load<f64>(desc + AdamJob.eps), load<f64>(desc + AdamJob.weightDecay),
    load<u32>(desc + AdamJob.decoupled) != 0, load<f64>(desc + AdamJob.bc1), load<f64>(desc + AdamJob.bc2));
}
