// The row operations of the fused attention kernels (attention.ts) on score
// rows LD floats wide: the masked row maximum, P = exp(s − m) with its sum
// (forward), and P = exp(s − lse) with dS = P ⊙ (dP − D) (backward).
//
// Two costs these avoid, both measured in the forward at seq 256 (a quarter
// of its time went to the row operations before):
// - f32x4.max propagates NaN and orders −0 < +0, which x86 has no instruction
//   for: V8 emits about eight, and a running maximum chains them through the
//   whole row. The row maximum runs on pmax (one instruction) over two
//   independent chains; pmax can drop a NaN, which only matters when every
//   other value is −inf (the row would look empty), so that one case is
//   recomputed with f32x4.max. A finite maximum with a NaN among the scores
//   still makes exp(NaN − m) = NaN reach the row's sum and output.
// - exp4 (math.ts) handles overflow; a softmax's exponent s − max is never
//   positive, so math.ts's expNeg4 (the same core) skips that branch.
import { LD } from './attention-tiles';
import { expNeg4, hmax4, hsum4, load4 } from './math';

const NEG_INF = f32x4.splat(-Infinity);

/** Zeroes a score row from column c (a multiple of 4) to LD (stores: memory.fill is a call). */
export function zeroFrom(s: usize, c: i32): void {
  const z = f32x4.splat(0);
  for (; c < LD; c += 4) v128.store(s + (<usize>c << 2), z);
}

/**
 * Adds the mask row at `m` (0: no mask; `perKey`: one value per key, else one
 * for the row) to keys [0, lim) (lim >= 1) of score row s, and sets the lanes
 * past lim in the last vector to −inf.
 */
export function maskRow(s: usize, lim: i32, m: usize, perKey: bool): void {
  const full = lim & ~3;
  if (m) {
    for (let c = 0; c < full; c += 4) {
      const at = <usize>c << 2;
      v128.store(s + at, f32x4.add(v128.load(s + at), perKey ? v128.load(m + at) : v128.load32_splat(m)));
    }
  }
  if (full < lim) {
    const at = <usize>full << 2, w = lim - full;
    let x = v128.load(s + at);
    if (m) x = f32x4.add(x, perKey ? load4(m + at, w) : v128.load32_splat(m));
    v128.store(s + at, v128.bitselect(x, NEG_INF, i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(w))));
  }
}

/** The maximum of keys [0, lim) (lim >= 1) of a masked score row (NaN where the row is NaN and −inf otherwise). */
export function rowMax(s: usize, lim: i32): f32 {
  let mx0 = NEG_INF, mx1 = NEG_INF;
  let c = 0;
  for (; c + 4 < lim; c += 8) {
    mx0 = f32x4.pmax(v128.load(s + (<usize>c << 2)), mx0);
    mx1 = f32x4.pmax(v128.load(s + (<usize>c << 2), 16), mx1);
  }
  if (c < lim) mx0 = f32x4.pmax(v128.load(s + (<usize>c << 2)), mx0);
  const mx = hmax4(f32x4.pmax(mx0, mx1));
  if (mx != -Infinity) return mx;
  // Every key −inf, or a NaN that pmax dropped: f32x4.max decides.
  let ex = NEG_INF;
  for (c = 0; c < lim; c += 4) ex = f32x4.max(ex, v128.load(s + (<usize>c << 2)));
  return hmax4(ex);
}

/** Keys [0, lim) of score row s become p = exp(s − mx), the rest of the row 0; returns Σ p. */
export function expRow(s: usize, lim: i32, mx: f32): f32 {
  const vm = f32x4.splat(mx);
  let sum = f32x4.splat(0);
  let c = 0;
  for (; c < lim; c += 4) {
    const at = <usize>c << 2;
    const p = expNeg4(f32x4.sub(v128.load(s + at), vm));
    v128.store(s + at, p);
    sum = f32x4.add(sum, p);
  }
  zeroFrom(s, c);
  return hsum4(sum);
}

/**
 * Turns score row s (keys [0, lim) visible) into P = exp(s + mask − lse) and
 * row g (holding dP = dO·Vᵀ) into dS = P ⊙ (dP − di). Both are 0 past lim.
 */
export function gradRow(s: usize, g: usize, lim: i32, m: usize, perKey: bool, lse: f32, di: f32): void {
  let c = 0;
  if (lim > 0 && lse != Infinity) {
    maskRow(s, lim, m, perKey);
    const vl = f32x4.splat(lse), vd = f32x4.splat(di);
    for (; c < lim; c += 4) {
      const at = <usize>c << 2;
      const p = expNeg4(f32x4.sub(v128.load(s + at), vl));
      v128.store(s + at, p);
      v128.store(g + at, f32x4.mul(p, f32x4.sub(v128.load(g + at), vd)));
    }
  }
  zeroFrom(s, c);
  zeroFrom(g, c);
}
