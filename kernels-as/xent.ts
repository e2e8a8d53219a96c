// Softmax cross-entropy against class ids, fused. Forward, per row: the max,
// Σ e^(x − max) (the max's own term left out and added back by log1p, as in
// softmax.ts, so a confident row's tiny loss keeps its precision), and
// loss = (max − x_t) + log1p(rest). It saves the row's log-sum-exp as two
// floats, max and log1p(rest): the backward's e^((x − max) − l) then rounds
// like the softmax kernel's, where a single f32 lse = max + l would carry
// an absolute rounding of ulp(max) into every probability.
// Backward: dx = scale · g_r · (softmax − onehot), recomputed from the logits.
// A row whose max is not finite (a NaN, +inf, or only −inf) is NaN, as PyTorch's.
// ignore_index and label_smoothing as in xent.wgsl: an ignored row (t = −1
// here) has loss 0 and gradient 0·p; smoothing ε adds ε(max − mean x) to the
// loss (the (1 − ε) share of the target term, sumRow for the mean) and
// takes q = (1 − ε)·onehot + ε/cols from p. ε = 0 runs the plain code.
import { XentJob } from '../build/gen/xent';
import { exp4, loadPartial, storePartial } from './math';
import { partStart } from './parts';
import { maxRow, sumRow } from './reduce';
import { expSum } from './softmax';

function forwardRow(x: usize, t: i32, loss: usize, lse: usize, n: i32, eps: f32): void {
  const mx = maxRow(x, n);
  if (!isFinite<f32>(mx)) {
    store<f32>(loss, t < 0 ? 0 : NaN);
    store<f32>(lse, NaN);
    store<f32>(lse, NaN, 4);
    return;
  }
  const l = Math.log1p(expSum(x, 0, n, mx, false));
  store<f32>(lse, mx);
  store<f32>(lse, <f32>l, 4);
  if (t < 0) {
    store<f32>(loss, 0);
  } else if (eps > 0) {
    const e = <f64>eps, m = <f64>mx;
    store<f32>(loss, <f32>((l + (1 - e) * (m - <f64>load<f32>(x + (<usize>t << 2)))) + e * (m - sumRow(x, n) / <f64>n)));
  } else {
    store<f32>(loss, <f32>((<f64>mx - <f64>load<f32>(x + (<usize>t << 2))) + l));
  }
}

function backwardRow(x: usize, t: i32, lse: usize, gr: f32, dx: usize, n: i32, eps: f32): void {
  const vm = f32x4.splat(load<f32>(lse)), vl = f32x4.splat(load<f32>(lse, 4));
  // dx = g·(p − ε/n), the target's entry corrected below; an ignored row (t < 0) gets 0·p.
  const vg = f32x4.splat(t < 0 ? 0 : gr), vq = f32x4.splat(t < 0 ? 0 : eps / <f32>n);
  const n4 = n & ~3, r = n & 3;
  for (let i = 0; i < n4; i += 4) {
    const at = <usize>i << 2;
    v128.store(dx + at, f32x4.mul(vg, f32x4.sub(exp4(f32x4.sub(f32x4.sub(v128.load(x + at), vm), vl)), vq)));
  }
  if (r) {
    const at = <usize>n4 << 2;
    storePartial(dx + at, f32x4.mul(vg, f32x4.sub(exp4(f32x4.sub(f32x4.sub(loadPartial(x + at, r, 0), vm), vl)), vq)), r);
  }
  if (t < 0) return;
  // The target's entry: (p − q_t)·g, q_t subtracted before scaling (as the reference forms it).
  const at = dx + (<usize>t << 2);
  const p = exp4(f32x4.splat((load<f32>(x + (<usize>t << 2)) - load<f32>(lse)) - load<f32>(lse, 4)));
  store<f32>(at, gr * ((f32x4.extract_lane(p, 0) - eps / <f32>n) - (1 - eps)));
}

/** Part `part` of the XentJob at `desc`: parts split the rows. */
export function xentPart(desc: usize, part: i32): void {
  const rows = load<i32>(desc + XentJob.rows), cols = load<i32>(desc + XentJob.cols), parts = load<i32>(desc + XentJob.parts);
  const r0 = partStart(rows, parts, part, 1), r1 = partStart(rows, parts, part + 1, 1);
  const x = <usize>load<u32>(desc + XentJob.x), t = <usize>load<u32>(desc + XentJob.t), lse = <usize>load<u32>(desc + XentJob.lse);
  const rowBytes = <usize>cols << 2;
  const backward = load<u32>(desc + XentJob.stage) != 0;
  const g = <usize>load<u32>(desc + XentJob.g), gStride = <usize>load<u32>(desc + XentJob.gStride), scale = load<f32>(desc + XentJob.scale);
  const hasIgnore = load<u32>(desc + XentJob.hasIgnore) != 0, ignore = load<i32>(desc + XentJob.ignore);
  const eps = load<f32>(desc + XentJob.smoothing);
  for (let row = r0; row < r1; row++) {
    const xr = x + <usize>row * rowBytes;
    // Ids were checked on the host (src/integers.ts): an integer in [0, cols), or the ignored one (then −1 here).
    let tr = <i32>load<f32>(t + (<usize>row << 2));
    if (hasIgnore && tr == ignore) tr = -1;
    if (backward) {
      const gr = scale * load<f32>(g + ((<usize>row * gStride) << 2));
      backwardRow(xr, tr, lse + (<usize>row << 3), gr, <usize>load<u32>(desc + XentJob.dx) + <usize>row * rowBytes, cols, eps);
    } else {
      forwardRow(xr, tr, <usize>load<u32>(desc + XentJob.loss) + (<usize>row << 2), lse + (<usize>row << 3), cols, eps);
    }
  }
}
