// f32x4 helpers shared by the kernel families: fused multiply-add, partial
// (tail) loads and stores, and the transcendental functions. The polynomials
// are Cephes' single-precision ones (about 1-2 ulp), far inside the 1e-5
// relative error the kernels are held to. Every elementwise function has only
// a vector form; tails run it on a partial vector so that a value gets the
// same result whichever lane it lands in.

import { ACT_GELU, ACT_RELU, ACT_SIGMOID, ACT_TANH } from '../build/gen/activation';
import { BINARY_GELU_BWD, BINARY_RELU_BWD, BINARY_SIGMOID_BWD, BINARY_TANH_BWD } from '../build/gen/elementwise';

/** a * b + c: fused on relaxed SIMD (compile-time branch), mul + add otherwise. */
// @ts-ignore: decorator
@inline export function fma4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Loads the first `r` (1..3) floats at `p` into lanes 0..r-1; the other lanes get `fill`. */
// @ts-ignore: decorator
@inline export function loadPartial(p: usize, r: i32, fill: f32): v128 {
  let v = f32x4.splat(fill);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (r > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (r > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores lanes 0..r-1 (r in 1..3) of `v` at `p`. */
// @ts-ignore: decorator
@inline export function storePartial(p: usize, v: v128, r: i32): void {
  v128.store32_lane(p, v, 0);
  if (r > 1) v128.store32_lane(p, v, 1, 4);
  if (r > 2) v128.store32_lane(p, v, 2, 8);
}

/** 4 floats at p, or the first w < 4 of them (the other lanes 0). */
// @ts-ignore: decorator
@inline export function load4(p: usize, w: i32): v128 {
  return w == 4 ? v128.load(p) : loadPartial(p, w, 0);
}

/** Stores 4 lanes of v at p, or the first w < 4. */
// @ts-ignore: decorator
@inline export function store4(p: usize, v: v128, w: i32): void {
  if (w == 4) v128.store(p, v);
  else storePartial(p, v, w);
}

/** x rounded up to a multiple of 64 (a cache line: scratch blocks start on one). */
// @ts-ignore: decorator
@inline export function align64(x: usize): usize { return (x + 63) & ~<usize>63; }

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum4(v: v128): f32 {
  const s = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(s, i32x4.shuffle(s, s, 1, 0, 3, 2)), 0);
}

/** Maximum of the four lanes (NaN propagates, like Math.max). */
// @ts-ignore: decorator
@inline export function hmax4(v: v128): f32 {
  const s = f32x4.max(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.max(s, i32x4.shuffle(s, s, 1, 0, 3, 2)), 0);
}

// The constants of the functions below live in memory and are broadcast-loaded
// where used: V8 re-creates every v128 constant inside each loop iteration
// (three instructions: a 64-bit move, a move to xmm, an unpack), while a
// broadcast load is one instruction and can fold into its user.
const F = memory.data<f32>([
  88.72283935546875, // 0 EXP_HI = ln(FLT_MAX)
  -87.33654022216797, // 1 EXP_LO = ln(FLT_MIN)
  12582912, // 2 SHIFTER = 1.5 * 2^23
  1.4426950408889634, // 3 LOG2E
  -0.693359375, // 4 -LN2_HI (n * LN2_HI is exact)
  2.12194440e-4, // 5 -LN2_LO
  2 * 1.9875691500e-4, // 6..11: 2 x Cephes expf polynomial, highest first
  2 * 1.3981999507e-3,
  2 * 8.3334519073e-3,
  2 * 4.1665795894e-2,
  2 * 1.6666665459e-1,
  2 * 5.0000001201e-1,
  2, // 12 TWO
  0.5, // 13 HALF (its bits are 126 << 23)
  Infinity, // 14 INF
  1, // 15 ONE
  -5.70498872745e-3, // 16..20: Cephes tanhf polynomial, highest first
  2.06390887954e-2,
  -5.37397155531e-2,
  1.33314422036e-1,
  -3.33332819422e-1,
  0.625, // 21 TANH_SMALL: polynomial below, exponential form above
  10, // 22 TANH_CLAMP: tanh(10) rounds to 1 in f32
  -0.0, // 23 SIGN (bit pattern 0x80000000)
  7.0376836292e-2, // 24..32: Cephes logf polynomial, highest first
  -1.1514610310e-1,
  1.1676998740e-1,
  -1.2420140846e-1,
  1.4249322787e-1,
  -1.6668057665e-1,
  2.0000714765e-1,
  -2.4999993993e-1,
  3.3333331174e-1,
  0.70710678118654752, // 33 SQRT_HALF
  1.17549435e-38, // 34 FLT_MIN
  33554432, // 35 2^25, scales subnormals to normals
  -2.12194440e-4, // 36 LN2_LO
  0.693359375, // 37 LN2_HI
  -0.5, // 38 MINUS_HALF
  0, // 39 ZERO
  126, // 40 exponent bias of m in [0.5, 1)
  25, // 41
  1.5957691216057308 * 1.5 * 0.044715, // 42 GELU u' = K/2 + (3cK/2) x^2
  1.5957691216057308 * 0.5, // 43
  -1, // 44 MINUS_ONE
  1.5957691216057308, // 45 GELU_K = 2 sqrt(2/pi)
  0.044715, // 46 GELU_C
  -3, // 47 GELU_EXACT: below this x, 2u is formed in f64
], 16);

/** The f32 constant number `i` of F, in all four lanes. */
// @ts-ignore: decorator
@inline function k(i: i32): v128 {
  return v128.load32_splat(F + (<usize>i << 2));
}

/** e^x per lane; overflows to +inf, underflows (below FLT_MIN) to 0, NaN stays NaN. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // pmin/pmax are single instructions; in this argument order a NaN x passes through.
  const xc = f32x4.pmin(f32x4.pmax(x, k(1)), k(0));
  // n = round(x / ln2) by the 1.5 * 2^23 shifter: t holds n in its low mantissa bits.
  const t = fma4(xc, k(3), k(2));
  const n = f32x4.sub(t, k(2));
  // r = x - n ln2 in two steps (Cody-Waite).
  let r = fma4(n, k(4), xc);
  r = fma4(n, k(5), r);
  // 2 e^r: Cephes' polynomial with every coefficient doubled (exact), saving a multiply below.
  let p = fma4(k(6), r, k(7));
  p = fma4(p, r, k(8));
  p = fma4(p, r, k(9));
  p = fma4(p, r, k(10));
  p = fma4(p, r, k(11));
  const y = fma4(p, f32x4.mul(r, r), fma4(r, k(12), k(12)));
  // Times 2^(n-1): n reaches 128 at ln(FLT_MAX), whose 2^n is not a normal float.
  // (t's bits are 0x4B400000 + n, and 0x4B400000 << 23 wraps to 0.)
  const e = f32x4.mul(y, i32x4.add(i32x4.shl(t, 23), k(13)));
  return v128.andnot(v128.bitselect(k(14), e, f32x4.gt(x, k(0))), f32x4.lt(x, k(1)));
}

/** Natural log per lane (Cephes logf): log(0) = -inf, log(x < 0) = NaN, subnormals handled. */
// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
  // Subnormals: scale by 2^25 first, take 25 off the exponent.
  const sub = f32x4.lt(x, k(34));
  const xs = v128.bitselect(f32x4.mul(x, k(35)), x, sub);
  // x = m 2^e with m in [0.5, 1).
  let e = f32x4.sub(f32x4.sub(f32x4.convert_i32x4_s(i32x4.shr_u(xs, 23)), k(40)), v128.and(sub, k(41)));
  const m = v128.or(i32x4.shr_u(i32x4.shl(xs, 9), 9), k(13)); // mantissa, exponent of 0.5
  // m < sqrt(1/2): use 2m - 1 and e - 1, so that the argument stays in [sqrt(1/2) - 1, sqrt(2) - 1).
  const low = f32x4.lt(m, k(33));
  e = f32x4.sub(e, v128.and(low, k(15)));
  const z = f32x4.add(f32x4.sub(m, k(15)), v128.and(low, m));
  const z2 = f32x4.mul(z, z);
  let p = fma4(k(24), z, k(25));
  p = fma4(p, z, k(26));
  p = fma4(p, z, k(27));
  p = fma4(p, z, k(28));
  p = fma4(p, z, k(29));
  p = fma4(p, z, k(30));
  p = fma4(p, z, k(31));
  p = fma4(p, z, k(32));
  let y = f32x4.mul(f32x4.mul(p, z), z2);
  y = fma4(e, k(36), y);
  y = fma4(z2, k(38), y);
  let r = fma4(e, k(37), f32x4.add(z, y));
  r = v128.bitselect(k(14), r, f32x4.eq(x, k(14))); // log(inf) = inf
  r = v128.bitselect(f32x4.neg(k(14)), r, f32x4.eq(x, k(39))); // log(0) = -inf
  return v128.or(r, v128.not(f32x4.ge(x, k(39)))); // negative or NaN: all-ones bits, a NaN
}

/** 1 / (1 + e^-x): exact limits 0 and 1 for large |x|, no NaN. */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return f32x4.div(k(15), f32x4.add(k(15), exp4(f32x4.neg(x))));
}

/** tanh per lane: odd polynomial below |x| = 0.625 (accurate near 0), 1 - 2/(e^2|x| + 1) above. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = fma4(k(16), z, k(17));
  p = fma4(p, z, k(18));
  p = fma4(p, z, k(19));
  p = fma4(p, z, k(20));
  const small = fma4(f32x4.mul(p, z), x, x);
  // Clamping keeps e^2|x| finite, so no inf/inf NaN; NaN passes pmin.
  const c = f32x4.pmin(ax, k(22));
  const e = exp4(f32x4.add(c, c));
  let big = f32x4.sub(k(15), f32x4.div(k(12), f32x4.add(e, k(15))));
  big = v128.or(big, v128.and(x, k(23))); // sign of x
  return v128.bitselect(small, big, f32x4.lt(ax, k(21)));
}

// f64 constants of the GELU argument, same reasoning as F.
const D = memory.data<f64>([
  1.5957691216057308, // 0 GELU_K = 2 sqrt(2/pi)
  0.044715, // 1 GELU_C
  1, // 2 ONE
  -200, // 3 lower clamp of 2u
  200, // 4 upper clamp of 2u
], 16);

// @ts-ignore: decorator
@inline function kd(i: i32): v128 {
  return v128.load64_splat(D + (<usize>i << 3));
}

/** 2u = K x (1 + c x^2) of two lanes, in f64, clamped to +-200 (e^200 is already inf in f32). */
// @ts-ignore: decorator
@inline function gelu2u64(x: v128): v128 {
  const u2 = f64x2.mul(f64x2.mul(x, kd(0)), f64x2.add(f64x2.mul(f64x2.mul(x, x), kd(1)), kd(2)));
  return f64x2.pmin(f64x2.pmax(u2, kd(3)), kd(4));
}

/**
 * e^-2u, where gelu(x) = 0.5 x (1 + tanh u), u = sqrt(2/pi) (x + 0.044715 x^3).
 * For x << 0 the result is e^(large) and inherits the absolute error of 2u
 * as relative error (2u = 87 at x = -10): f32 rounding there costs ~1e-5.
 * So where a lane is below -3 (|2u| > 6.7), 2u is formed in f64 and split
 * into f32 hi + lo: e^-2u = e^-hi (1 - lo). Above, f32 keeps it under 1e-6.
 */
// @ts-ignore: decorator
@inline function expNeg2u(x: v128): v128 {
  if (!v128.any_true(f32x4.lt(x, k(47)))) {
    return exp4(f32x4.neg(f32x4.mul(f32x4.mul(x, k(45)), fma4(f32x4.mul(x, x), k(46), k(15)))));
  }
  const a = gelu2u64(f64x2.promote_low_f32x4(x));
  const b = gelu2u64(f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1)));
  const hiA = f32x4.demote_f64x2_zero(a), hiB = f32x4.demote_f64x2_zero(b);
  const hi = i64x2.shuffle(hiA, hiB, 0, 2);
  const loA = f32x4.demote_f64x2_zero(f64x2.sub(a, f64x2.promote_low_f32x4(hiA)));
  const loB = f32x4.demote_f64x2_zero(f64x2.sub(b, f64x2.promote_low_f32x4(hiB)));
  const lo = i64x2.shuffle(loA, loB, 0, 2);
  return f32x4.mul(exp4(f32x4.neg(hi)), f32x4.sub(k(15), lo));
}

/** GELU (tanh approximation) as x * sigmoid(2u): the same function without the cancellation of 1 + tanh u for x << 0. */
// @ts-ignore: decorator
@inline export function gelu4(x: v128): v128 {
  return f32x4.div(x, f32x4.add(k(15), expNeg2u(x)));
}

/**
 * d gelu / dx = s + 2 x s (1 - s) u', with s = sigmoid(2u) = (1 + tanh u) / 2
 * = 1 / (1 + E), E = e^-2u. 1 - s = 1 / (1 + 1/E) directly: 1 - s by
 * subtraction loses ~2e-6 of the result at x = 5 (and E·s is inf·0 at x << 0).
 */
// @ts-ignore: decorator
@inline export function geluGrad4(x: v128): v128 {
  const E = expNeg2u(x);
  const s = f32x4.div(k(15), f32x4.add(k(15), E));
  const q = f32x4.div(k(15), f32x4.add(k(15), f32x4.div(k(15), E)));
  // u' = sqrt(2/pi) (1 + 3c x^2) = K/2 + (3cK/2) x^2
  const du = fma4(f32x4.mul(x, x), k(42), k(43));
  return fma4(f32x4.mul(f32x4.add(x, x), f32x4.mul(s, q)), du, s);
}

/** 1 and -1 in every lane (from the constant table, see F). */
// @ts-ignore: decorator
@inline export function one4(): v128 { return k(15); }
// @ts-ignore: decorator
@inline export function minusOne4(): v128 { return k(44); }

/** relu that maps NaN to 0, as the reference's `x > 0 ? x : 0` does. */
// @ts-ignore: decorator
@inline export function relu4(x: v128): v128 {
  return v128.and(x, f32x4.gt(x, f32x4.splat(0)));
}

/** Applies activation `act` to one vector. */
// @ts-ignore: decorator
@inline export function activate4(act: i32, x: v128): v128 {
  if (act == ACT_RELU) return relu4(x);
  if (act == ACT_GELU) return gelu4(x);
  if (act == ACT_TANH) return tanh4(x);
  if (act == ACT_SIGMOID) return sigmoid4(x);
  return x;
}

/**
 * b * act'(...) for the activation-derivative binary ops: `a` is the
 * activation's input (relu, gelu) or output (tanh, sigmoid), `b` the incoming
 * gradient. Shared by the binary kernel and the matmul prologue, so both give
 * the same bits.
 */
// @ts-ignore: decorator
@inline export function actGrad4(op: i32, a: v128, b: v128): v128 {
  if (op == BINARY_RELU_BWD) return v128.and(b, f32x4.gt(a, f32x4.splat(0)));
  if (op == BINARY_GELU_BWD) return f32x4.mul(b, geluGrad4(a));
  // (1-y)(1+y) keeps 1 - y^2 exact near |y| = 1
  if (op == BINARY_TANH_BWD) return f32x4.mul(b, f32x4.mul(f32x4.sub(k(15), a), f32x4.add(k(15), a)));
  if (op == BINARY_SIGMOID_BWD) return f32x4.mul(f32x4.mul(b, a), f32x4.sub(k(15), a));
  return b;
}
