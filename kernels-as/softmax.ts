// Softmax and log-softmax over contiguous rows. The row max is subtracted
// first, so exp never overflows; the sum of exponentials runs in f32 blocks
// added in f64 (as in reduce.ts), so rows of 20000+ columns stay accurate.
import { exp4, hsum4, loadPartial, storePartial } from './math';
import { maxRow } from './reduce';

const BLOCK = 1024;

/** Writes e^(x - mx) to `out` (when `keep`) and returns its sum. */
function expSum(x: usize, out: usize, n: i32, mx: f32, keep: bool): f64 {
  const vm = f32x4.splat(mx);
  let total: f64 = 0;
  let i = 0;
  while (i < n) {
    const end = min(n, i + BLOCK);
    let s0 = f32x4.splat(0), s1 = s0;
    for (; i + 8 <= end; i += 8) {
      const at = <usize>i << 2;
      const e0 = exp4(f32x4.sub(v128.load(x + at), vm));
      const e1 = exp4(f32x4.sub(v128.load(x + at, 16), vm));
      if (keep) { v128.store(out + at, e0); v128.store(out + at, e1, 16); }
      s0 = f32x4.add(s0, e0);
      s1 = f32x4.add(s1, e1);
    }
    for (; i < end; i += 4) {
      const at = <usize>i << 2;
      const r = end - i;
      if (r >= 4) {
        const e = exp4(f32x4.sub(v128.load(x + at), vm));
        if (keep) v128.store(out + at, e);
        s0 = f32x4.add(s0, e);
      } else {
        // Padding lanes are -inf, whose exponential adds 0.
        const e = exp4(f32x4.sub(loadPartial(x + at, r, -Infinity), vm));
        if (keep) storePartial(out + at, e, r);
        s0 = f32x4.add(s0, e);
      }
    }
    i = end;
    total += <f64>hsum4(f32x4.add(s0, s1));
  }
  return total;
}

/** Softmax (log = false) or log-softmax of each of `rows` rows of `cols` floats; out may equal x. */
export function softmax(x: usize, out: usize, rows: i32, cols: i32, log: bool): void {
  if (rows <= 0 || cols <= 0) return;
  const rowBytes = <usize>cols << 2;
  const n4 = cols & ~3;
  const r = cols & 3;
  for (let row = 0; row < rows; row++) {
    const xr = x + <usize>row * rowBytes;
    const or = out + <usize>row * rowBytes;
    const mx = maxRow(xr, cols);
    const sum = expSum(xr, or, cols, mx, !log);
    if (log) {
      // x - mx - log(sum), with the two subtractions in that order (as the reference).
      const vm = f32x4.splat(mx);
      const vl = f32x4.splat(<f32>Math.log(sum));
      for (let i = 0; i < n4; i += 4) {
        const at = <usize>i << 2;
        v128.store(or + at, f32x4.sub(f32x4.sub(v128.load(xr + at), vm), vl));
      }
      if (r) {
        const at = <usize>n4 << 2;
        storePartial(or + at, f32x4.sub(f32x4.sub(loadPartial(xr + at, r, 0), vm), vl), r);
      }
    } else {
      const vs = f32x4.splat(<f32>sum);
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
