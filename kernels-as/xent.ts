// Softmax cross-entropy against class ids, fused. Forward, per row: the max,
// Σ e^(x − max) (the max's own term left out and added back by log1p, as in
// softmax.ts, so a confident row's tiny loss keeps its precision), and
// loss = (max − x_t) + log1p(rest). It saves the row's log-sum-exp as two
// floats, max and log1p(rest): the backward's e^((x − max) − l) then rounds
// like the softmax kernel's, where a single f32 lse = max + l would carry
// an absolute rounding of ulp(max) into every probability.
// Backward: dx = scale · g_r · (softmax − onehot), recomputed from the logits.
// A row whose max is not finite (a NaN, +inf, or only −inf) is NaN, as PyTorch's.
import { XentJob } from '../build/gen/xent';
import { exp4, loadPartial, storePartial } from './math';
import { partStart } from './parts';
import { maxRow } from './reduce';
import { expSum } from './softmax';

function forwardRow(x: usize, t: i32, loss: usize, lse: usize, n: i32): void {
  const mx = maxRow(x, n);
  if (!isFinite<f32>(mx)) {
    store<f32>(loss, NaN);
    store<f32>(lse, NaN);
    store<f32>(lse, NaN, 4);
    return;
  }
  const l = Math.log1p(expSum(x, 0, n, mx, false));
  store<f32>(loss, <f32>((<f64>mx - <f64>load<f32>(x + (<usize>t << 2))) + l));
  store<f32>(lse, mx);
  store<f32>(lse, <f32>l, 4);
}

function backwardRow(x: usize, t: i32, lse: usize, gr: f32, dx: usize, n: i32): void {
  const vm = f32x4.splat(load<f32>(lse)), vl = f32x4.splat(load<f32>(lse, 4)), vg = f32x4.splat(gr);
  const n4 = n & ~3, r = n & 3;
  for (let i = 0; i < n4; i += 4) {
    const at = <usize>i << 2;
    v128.store(dx + at, f32x4.mul(vg, exp4(f32x4.sub(f32x4.sub(v128.load(x + at), vm), vl))));
  }
  if (r) {
    const at = <usize>n4 << 2;
    storePartial(dx + at, f32x4.mul(vg, exp4(f32x4.sub(f32x4.sub(loadPartial(x + at, r, 0), vm), vl))), r);
  }
  // The target's entry: (p − 1)·g, the −1 subtracted before scaling (as the reference forms it).
  const at = dx + (<usize>t << 2);
  const p = exp4(f32x4.splat((load<f32>(x + (<usize>t << 2)) - load<f32>(lse)) - load<f32>(lse, 4)));
  store<f32>(at, gr * (f32x4.extract_lane(p, 0) - 1));
}

/** Part `part` of the XentJob at `desc`: parts split the rows. */
export function xentPart(desc: usize, part: i32): void {
  const rows = load<i32>(desc + XentJob.rows), cols = load<i32>(desc + XentJob.cols), parts = load<i32>(desc + XentJob.parts);
  const r0 = partStart(rows, parts, part, 1), r1 = partStart(rows, parts, part + 1, 1);
  const x = <usize>load<u32>(desc + XentJob.x), t = <usize>load<u32>(desc + XentJob.t), lse = <usize>load<u32>(desc + XentJob.lse);
  const rowBytes = <usize>cols << 2;
  const backward = load<u32>(desc + XentJob.stage) != 0;
  const g = <usize>load<u32>(desc + XentJob.g), gStride = <usize>load<u32>(desc + XentJob.gStride), scale = load<f32>(desc + XentJob.scale);
  for (let row = r0; row < r1; row++) {
    const xr = x + <usize>row * rowBytes;
    const tr = <i32>load<f32>(t + (<usize>row << 2));
    if (backward) {
      const gr = scale * load<f32>(g + ((<usize>row * gStride) << 2));
      backwardRow(xr, tr, lse + (<usize>row << 3), gr, <usize>load<u32>(desc + XentJob.dx) + <usize>row * rowBytes, cols);
    } else {
      forwardRow(xr, tr, <usize>load<u32>(desc + XentJob.loss) + (<usize>row << 2), lse + (<usize>row << 3), cols);
    }
  }
}
