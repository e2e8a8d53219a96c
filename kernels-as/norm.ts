// LayerNorm and RMSNorm over contiguous rows, forward and backward.
//
// Statistics in one pass: Σd and Σd² of d = x − x[0] (shifted by the row's
// first value, so a large mean does not cancel: the shifted sums are of the
// spread, not the mean), promoted to f64 lanes before they are squared and
// added (so a spread past 1e19 does not overflow the square). RMSNorm
// takes Σx² the same way, unshifted. The backward's two row sums (Σ g·w,
// Σ g·w·x̂) are f64 too.
//
// The parameter gradients dw = Σ_rows g·x̂ and db = Σ_rows g are reduced in
// the backward's own pass: each block of NORM_BLOCK_ROWS rows accumulates its
// partial row (f32, in row order) in a scratch block, and stage 2 adds the
// blocks per column in f64 in block order. A part owns whole blocks, so the
// bits do not depend on how many threads ran.
import { NORM_BLOCK_ROWS, NormJob } from '../build/gen/norm';
import { fma4 } from './math';
import { partStart } from './parts';

/** Σ lanes of an f32x4 promoted to f64, added to the f64x2 accumulator `acc`. */
// @ts-ignore: decorator
@inline function addWide(acc: v128, v: v128): v128 {
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
}

/** Σ of the squared lanes of an f32x4, squared in f64 (no overflow below FLT_MAX), added to `acc`. */
// @ts-ignore: decorator
@inline function addSquares(acc: v128, v: v128): v128 {
  const lo = f64x2.promote_low_f32x4(v), hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f64x2.add(f64x2.add(acc, f64x2.mul(lo, lo)), f64x2.mul(hi, hi));
}

// @ts-ignore: decorator
@inline function hsum2(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Forward of one row: writes y and [mean, rstd] at st. */
function forwardRow(x: usize, w: usize, b: usize, y: usize, st: usize, n: i32, eps: f64, rms: bool): void {
  const n4 = n & ~3;
  const k: f32 = rms ? 0 : load<f32>(x);
  const vk = f32x4.splat(k);
  let s1 = f64x2.splat(0), s2 = s1;
  for (let i = 0; i < n4; i += 4) {
    const d = f32x4.sub(v128.load(x + (<usize>i << 2)), vk);
    s1 = addWide(s1, d);
    s2 = addSquares(s2, d);
  }
  let t1 = hsum2(s1), t2 = hsum2(s2);
  for (let i = n4; i < n; i++) {
    const d = <f64>load<f32>(x + (<usize>i << 2)) - <f64>k;
    t1 += d;
    t2 += d * d;
  }
  const dm = t1 / n;
  const variance = rms ? t2 / n : max(0, t2 / n - dm * dm);
  const mean = rms ? 0 : <f64>k + dm;
  const rstd = 1 / Math.sqrt(variance + eps);
  store<f32>(st, <f32>mean);
  store<f32>(st, <f32>rstd, 4);
  const vm = f32x4.splat(<f32>mean), vr = f32x4.splat(<f32>rstd);
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const at = <usize>i << 2;
    const xh = f32x4.mul(f32x4.sub(v128.load(x + at), vm), vr);
    v128.store(y + at, fma4(xh, w ? v128.load(w + at) : one, b ? v128.load(b + at) : zero));
  }
  for (let i = n4; i < n; i++) {
    const at = <usize>i << 2;
    const xh = (load<f32>(x + at) - <f32>mean) * <f32>rstd;
    store<f32>(y + at, xh * (w ? load<f32>(w + at) : 1) + (b ? load<f32>(b + at) : 0));
  }
}

/**
 * Backward of one row: dx, and g·x̂ and g added into the block's partial row
 * `pr` (2·n floats; null when no parameter gradient is wanted).
 */
function backwardRow(x: usize, w: usize, g: usize, st: usize, dx: usize, pr: usize, n: i32, rms: bool): void {
  const n4 = n & ~3;
  const mean = load<f32>(st), rstd = load<f32>(st, 4);
  const vm = f32x4.splat(mean), vr = f32x4.splat(rstd), one = f32x4.splat(1);
  let a = f64x2.splat(0), c = a;
  for (let i = 0; i < n4; i += 4) {
    const at = <usize>i << 2;
    const gv = v128.load(g + at);
    const xh = f32x4.mul(f32x4.sub(v128.load(x + at), vm), vr);
    const gw = f32x4.mul(gv, w ? v128.load(w + at) : one);
    a = addWide(a, gw);
    c = addWide(c, f32x4.mul(gw, xh));
    if (pr) {
      v128.store(pr + at, fma4(gv, xh, v128.load(pr + at)));
      const pb = pr + (<usize>n << 2) + at;
      v128.store(pb, f32x4.add(v128.load(pb), gv));
    }
  }
  let sa = hsum2(a), sc = hsum2(c);
  for (let i = n4; i < n; i++) {
    const at = <usize>i << 2;
    const gv = load<f32>(g + at);
    const xh = (load<f32>(x + at) - mean) * rstd;
    const gw = gv * (w ? load<f32>(w + at) : 1);
    sa += <f64>gw;
    sc += <f64>gw * <f64>xh;
    if (pr) {
      store<f32>(pr + at, load<f32>(pr + at) + gv * xh);
      const pb = pr + (<usize>n << 2) + at;
      store<f32>(pb, load<f32>(pb) + gv);
    }
  }
  // dx = rstd · (g·w − mean(g·w) − x̂ · mean(g·w·x̂)); RMSNorm has no mean term.
  const ma: f32 = rms ? 0 : <f32>(sa / n), mc = <f32>(sc / n);
  const va = f32x4.splat(ma), vc = f32x4.splat(mc);
  for (let i = 0; i < n4; i += 4) {
    const at = <usize>i << 2;
    const xh = f32x4.mul(f32x4.sub(v128.load(x + at), vm), vr);
    const gw = f32x4.mul(v128.load(g + at), w ? v128.load(w + at) : one);
    v128.store(dx + at, f32x4.mul(vr, f32x4.sub(f32x4.sub(gw, va), f32x4.mul(xh, vc))));
  }
  for (let i = n4; i < n; i++) {
    const at = <usize>i << 2;
    const xh = (load<f32>(x + at) - mean) * rstd;
    const gw = load<f32>(g + at) * (w ? load<f32>(w + at) : 1);
    store<f32>(dx + at, rstd * ((gw - ma) - xh * mc));
  }
}

/** Part `part` of the NormJob at `desc`. */
export function normPart(desc: usize, part: i32): void {
  const stage = load<i32>(desc + NormJob.stage), parts = load<i32>(desc + NormJob.parts);
  const rows = load<i32>(desc + NormJob.rows), cols = load<i32>(desc + NormJob.cols), blocks = load<i32>(desc + NormJob.blocks);
  const rms = load<u32>(desc + NormJob.rms) != 0;
  const x = <usize>load<u32>(desc + NormJob.x), w = <usize>load<u32>(desc + NormJob.w);
  const partial = <usize>load<u32>(desc + NormJob.partial);
  const rowBytes = <usize>cols << 2;
  if (stage == 2) {
    // Σ over the blocks, per column: parts split the 2·cols partial columns.
    const n = cols * 2;
    const c0 = partStart(n, parts, part, 16), c1 = partStart(n, parts, part + 1, 16);
    const dw = <usize>load<u32>(desc + NormJob.dw), db = <usize>load<u32>(desc + NormJob.db);
    for (let c = c0; c < c1; c++) {
      let s: f64 = 0;
      for (let k = 0; k < blocks; k++) s += <f64>load<f32>(partial + <usize>k * (rowBytes << 1) + (<usize>c << 2));
      if (c < cols) { if (dw) store<f32>(dw + (<usize>c << 2), <f32>s); }
      else if (db) store<f32>(db + (<usize>(c - cols) << 2), <f32>s);
    }
    return;
  }
  const b0 = partStart(blocks, parts, part, 1), b1 = partStart(blocks, parts, part + 1, 1);
  const stats = <usize>load<u32>(desc + NormJob.stats);
  for (let blk = b0; blk < b1; blk++) {
    const r0 = blk * <i32>NORM_BLOCK_ROWS, r1 = min(rows, r0 + <i32>NORM_BLOCK_ROWS);
    const pr = partial ? partial + <usize>blk * (rowBytes << 1) : 0;
    if (pr) memory.fill(pr, 0, rowBytes << 1);
    for (let r = r0; r < r1; r++) {
      const at = <usize>r * rowBytes, st = stats + (<usize>r << 3);
      if (stage == 0) {
        forwardRow(x + at, w, <usize>load<u32>(desc + NormJob.b), <usize>load<u32>(desc + NormJob.out) + at, st, cols,
          <f64>load<f32>(desc + NormJob.eps), rms);
      } else {
        backwardRow(x + at, w, <usize>load<u32>(desc + NormJob.g) + at, st, <usize>load<u32>(desc + NormJob.out) + at, pr, cols, rms);
      }
    }
  }
}
