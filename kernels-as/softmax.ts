// Softmax and log-softmax over contiguous rows. The row max is subtracted
// first, so exp never overflows; the sum of exponentials runs in f32 blocks
// added in f64 (as in reduce.ts), so rows of 20000+ columns stay accurate.
// The max element's own term (exactly 1) is left out of the sum and added
// back as log1p: for a confident row, log(1 + tiny) would otherwise lose the
// tiny part to rounding, and that is the loss a trained classifier reports.
// A row whose max is not finite (a NaN anywhere, +inf, or only −inf) is NaN
// throughout, as PyTorch's: e^(x − max) is NaN at x = max = ±inf.
import { SoftmaxJob } from '../build/gen/softmax';
import { exp4, hsum4, loadPartial, storePartial } from './math';
import { partStart } from './parts';
import { maxRow } from './reduce';

const BLOCK = 1024;

/** Writes e^(x - mx) to `out` (when `keep`) and returns Σ e^(x - mx) − 1 (one max term left out; xent.ts uses it too). */
export function expSum(x: usize, out: usize, n: i32, mx: f32, keep: bool): f64 {
  const vm = f32x4.splat(mx);
  let total: f64 = 0;
  let maxTerms = 0;
  let i = 0;
  while (i < n) {
    const end = min(n, i + BLOCK);
    let s0 = f32x4.splat(0), s1 = s0;
    for (; i + 8 <= end; i += 8) {
      const at = <usize>i << 2;
      const x0 = v128.load(x + at), x1 = v128.load(x + at, 16);
      const e0 = exp4(f32x4.sub(x0, vm));
      const e1 = exp4(f32x4.sub(x1, vm));
      if (keep) { v128.store(out + at, e0); v128.store(out + at, e1, 16); }
      const m0 = f32x4.eq(x0, vm), m1 = f32x4.eq(x1, vm);
      maxTerms += popcnt(i32x4.bitmask(m0)) + popcnt(i32x4.bitmask(m1));
      s0 = f32x4.add(s0, v128.andnot(e0, m0));
      s1 = f32x4.add(s1, v128.andnot(e1, m1));
    }
    for (; i < end; i += 4) {
      const at = <usize>i << 2;
      const r = end - i;
      // Padding lanes are -inf, whose exponential adds 0 (and never equals the max).
      const xv = r >= 4 ? v128.load(x + at) : loadPartial(x + at, r, -Infinity);
      const e = exp4(f32x4.sub(xv, vm));
      if (keep) {
        if (r >= 4) v128.store(out + at, e);
        else storePartial(out + at, e, r);
      }
      const m = f32x4.eq(xv, vm);
      maxTerms += popcnt(i32x4.bitmask(m));
      s0 = f32x4.add(s0, v128.andnot(e, m));
    }
    i = end;
    total += <f64>hsum4(f32x4.add(s0, s1));
  }
  // Every max term is exactly e^0 = 1; all but one go back into the sum.
  return total + <f64>(maxTerms - 1);
}

/** Writes `v` to `n` floats at `p`. */
function fill(p: usize, v: f32, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), v);
}

/** Softmax (log = false) or log-softmax of each of `rows` rows of `cols` floats; out may equal x. */
function softmax(x: usize, out: usize, rows: i32, cols: i32, log: bool): void {
  if (rows <= 0 || cols <= 0) return;
  const rowBytes = <usize>cols << 2;
  const n4 = cols & ~3;
  const r = cols & 3;
  for (let row = 0; row < rows; row++) {
    const xr = x + <usize>row * rowBytes;
    const or = out + <usize>row * rowBytes;
    const mx = maxRow(xr, cols); // NaN if the row holds one
    if (!isFinite<f32>(mx)) {
      fill(or, NaN, cols);
      continue;
    }
    const rest = expSum(xr, or, cols, mx, !log);
    if (log) {
      // x - mx - log(sum), with the two subtractions in that order (as the reference).
      const vm = f32x4.splat(mx);
      const vl = f32x4.splat(<f32>Math.log1p(rest));
      for (let i = 0; i < n4; i += 4) {
        const at = <usize>i << 2;
        v128.store(or + at, f32x4.sub(f32x4.sub(v128.load(xr + at), vm), vl));
      }
      if (r) {
        const at = <usize>n4 << 2;
        storePartial(or + at, f32x4.sub(f32x4.sub(loadPartial(xr + at, r, 0), vm), vl), r);
      }
    } else {
      const vs = f32x4.splat(<f32>(1 + rest));
      for (let i = 0; i < n4; i += 4) {
        const at = <usize>i << 2;
        v128.store(or + at, f32x4.div(v128.load(or + at), vs));
      }
      if (r) {
        const at = <usize>n4 << 2;
        storePartial(or + at, f32x4.div(loadPartial(or + at, r, 1), vs), r);
      }
    }
  }
}

/** Part `part` of the SoftmaxJob at `desc`: parts split the rows. */
export function softmaxPart(desc: usize, part: i32): void {
  const rows = load<i32>(desc + SoftmaxJob.rows), cols = load<i32>(desc + SoftmaxJob.cols), parts = load<i32>(desc + SoftmaxJob.parts);
  const r0 = partStart(rows, parts, part, 1), r1 = partStart(rows, parts, part + 1, 1);
  if (r0 >= r1) return;
  const at = (<usize>r0 * cols) << 2;
  softmax(<usize>load<u32>(desc + SoftmaxJob.x) + at, <usize>load<u32>(desc + SoftmaxJob.out) + at, r1 - r0, cols, load<u32>(desc + SoftmaxJob.log) != 0);
}
