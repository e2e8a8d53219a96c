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
// C names each constant's index in F; the two lists are in the same order
// (the kernel tests of every function below catch a slip).
const enum C {
  EXP_HI, EXP_LO, SHIFTER, LOG2E, MINUS_LN2_HI, MINUS_LN2_LO,
  /** 6 coefficients, highest power first */
  EXP_POLY,
  TWO = EXP_POLY + 6, HALF, INF, ONE,
  /** 5 coefficients, highest power first */
  TANH_POLY,
  TANH_SMALL = TANH_POLY + 5, TANH_CLAMP, SIGN,
  /** 9 coefficients, highest power first */
  LOG_POLY,
  SQRT_HALF = LOG_POLY + 9, FLT_MIN, TWO_POW_25, LN2_LO, LN2_HI, MINUS_HALF, ZERO, HALF_EXPONENT, SUBNORMAL_SHIFT,
  GELU_DU_X2, GELU_DU_0, MINUS_ONE, GELU_K, GELU_C, GELU_EXACT, GELU_CLAMP, MINUS_GELU_CLAMP,
}
const F = memory.data<f32>([
  88.72283935546875, // EXP_HI = ln(FLT_MAX)
  -87.33654022216797, // EXP_LO = ln(FLT_MIN)
  12582912, // SHIFTER = 1.5 * 2^23
  1.4426950408889634, // LOG2E
  -0.693359375, // MINUS_LN2_HI (n * LN2_HI is exact)
  2.12194440e-4, // MINUS_LN2_LO
  2 * 1.9875691500e-4, // EXP_POLY: 2 x Cephes expf polynomial
  2 * 1.3981999507e-3,
  2 * 8.3334519073e-3,
  2 * 4.1665795894e-2,
  2 * 1.6666665459e-1,
  2 * 5.0000001201e-1,
  2, // TWO
  0.5, // HALF (its bits are 126 << 23)
  Infinity, // INF
  1, // ONE
  -5.70498872745e-3, // TANH_POLY: Cephes tanhf polynomial
  2.06390887954e-2,
  -5.37397155531e-2,
  1.33314422036e-1,
  -3.33332819422e-1,
  0.625, // TANH_SMALL: polynomial below, exponential form above
  10, // TANH_CLAMP: tanh(10) rounds to 1 in f32
  -0.0, // SIGN (bit pattern 0x80000000)
  7.0376836292e-2, // LOG_POLY: Cephes logf polynomial
  -1.1514610310e-1,
  1.1676998740e-1,
  -1.2420140846e-1,
  1.4249322787e-1,
  -1.6668057665e-1,
  2.0000714765e-1,
  -2.4999993993e-1,
  3.3333331174e-1,
  0.70710678118654752, // SQRT_HALF
  1.17549435e-38, // FLT_MIN
  33554432, // TWO_POW_25: scales subnormals to normals
  -2.12194440e-4, // LN2_LO
  0.693359375, // LN2_HI
  -0.5, // MINUS_HALF
  0, // ZERO
  126, // HALF_EXPONENT: the biased exponent of m in [0.5, 1)
  25, // SUBNORMAL_SHIFT: the exponent TWO_POW_25 added
  1.5957691216057308 * 1.5 * 0.044715, // GELU_DU_X2: u' = GELU_DU_0 + GELU_DU_X2 x^2 = K/2 + (3cK/2) x^2
  1.5957691216057308 * 0.5, // GELU_DU_0
  -1, // MINUS_ONE
  1.5957691216057308, // GELU_K = 2 sqrt(2/pi)
  0.044715, // GELU_C
  -3, // GELU_EXACT: below this x, 2u is formed in f64
  20, // GELU_CLAMP: beyond +-20 gelu' is s exactly in f32
  -20, // MINUS_GELU_CLAMP
], 16);

/** The f32 constant `c` of F, in all four lanes. */
// @ts-ignore: decorator
@inline function k(c: C): v128 {
  return v128.load32_splat(F + (<usize>c << 2));
}

/** 2^(n-1)·(2 e^r) for xc already clamped to [ln(FLT_MIN), ln(FLT_MAX)] (NaN passes): exp4's and expNeg4's core. */
// @ts-ignore: decorator
@inline function expCore(xc: v128): v128 {
  // n = round(x / ln2) by the 1.5 * 2^23 shifter: t holds n in its low mantissa bits.
  const t = fma4(xc, k(C.LOG2E), k(C.SHIFTER));
  const n = f32x4.sub(t, k(C.SHIFTER));
  // r = x - n ln2 in two steps (Cody-Waite).
  let r = fma4(n, k(C.MINUS_LN2_HI), xc);
  r = fma4(n, k(C.MINUS_LN2_LO), r);
  // 2 e^r: Cephes' polynomial with every coefficient doubled (exact), saving a multiply below.
  let p = fma4(k(C.EXP_POLY), r, k(C.EXP_POLY + 1));
  p = fma4(p, r, k(C.EXP_POLY + 2));
  p = fma4(p, r, k(C.EXP_POLY + 3));
  p = fma4(p, r, k(C.EXP_POLY + 4));
  p = fma4(p, r, k(C.EXP_POLY + 5));
  const y = fma4(p, f32x4.mul(r, r), fma4(r, k(C.TWO), k(C.TWO)));
  // Times 2^(n-1): n reaches 128 at ln(FLT_MAX), whose 2^n is not a normal float.
  // (t's bits are 0x4B400000 + n, and 0x4B400000 << 23 wraps to 0.)
  return f32x4.mul(y, i32x4.add(i32x4.shl(t, 23), k(C.HALF)));
}

/** e^x per lane; overflows to +inf, underflows (below FLT_MIN) to 0, NaN stays NaN. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // pmin/pmax are single instructions; in this argument order a NaN x passes through.
  const e = expCore(f32x4.pmin(f32x4.pmax(x, k(C.EXP_LO)), k(C.EXP_HI)));
  return v128.andnot(v128.bitselect(k(C.INF), e, f32x4.gt(x, k(C.EXP_HI))), f32x4.lt(x, k(C.EXP_LO)));
}

/**
 * e^x per lane for x <= 0 (any x below ln(FLT_MAX)): exp4 without the overflow
 * clamp and select, for softmax exponents (never positive); below ln(FLT_MIN) 0; NaN stays NaN.
 */
// @ts-ignore: decorator
@inline export function expNeg4(x: v128): v128 {
  // pmax(x, LO) is x for NaN (x < LO is false), so NaN flows through.
  return v128.andnot(expCore(f32x4.pmax(x, k(C.EXP_LO))), f32x4.lt(x, k(C.EXP_LO)));
}

/** Natural log per lane (Cephes logf): log(0) = -inf, log(x < 0) = NaN, subnormals handled. */
// @ts-ignore: decorator
@inline export function log4(x: v128): v128 {
  // Subnormals: scale by 2^25 first, take 25 off the exponent.
  const sub = f32x4.lt(x, k(C.FLT_MIN));
  const xs = v128.bitselect(f32x4.mul(x, k(C.TWO_POW_25)), x, sub);
  // x = m 2^e with m in [0.5, 1).
  let e = f32x4.sub(f32x4.sub(f32x4.convert_i32x4_s(i32x4.shr_u(xs, 23)), k(C.HALF_EXPONENT)), v128.and(sub, k(C.SUBNORMAL_SHIFT)));
  const m = v128.or(i32x4.shr_u(i32x4.shl(xs, 9), 9), k(C.HALF)); // mantissa, exponent of 0.5
  // m < sqrt(1/2): use 2m - 1 and e - 1, so that the argument stays in [sqrt(1/2) - 1, sqrt(2) - 1).
  const low = f32x4.lt(m, k(C.SQRT_HALF));
  e = f32x4.sub(e, v128.and(low, k(C.ONE)));
  const z = f32x4.add(f32x4.sub(m, k(C.ONE)), v128.and(low, m));
  const z2 = f32x4.mul(z, z);
  let p = fma4(k(C.LOG_POLY), z, k(C.LOG_POLY + 1));
  p = fma4(p, z, k(C.LOG_POLY + 2));
  p = fma4(p, z, k(C.LOG_POLY + 3));
  p = fma4(p, z, k(C.LOG_POLY + 4));
  p = fma4(p, z, k(C.LOG_POLY + 5));
  p = fma4(p, z, k(C.LOG_POLY + 6));
  p = fma4(p, z, k(C.LOG_POLY + 7));
  p = fma4(p, z, k(C.LOG_POLY + 8));
  let y = f32x4.mul(f32x4.mul(p, z), z2);
  y = fma4(e, k(C.LN2_LO), y);
  y = fma4(z2, k(C.MINUS_HALF), y);
  let r = fma4(e, k(C.LN2_HI), f32x4.add(z, y));
  r = v128.bitselect(k(C.INF), r, f32x4.eq(x, k(C.INF))); // log(inf) = inf
  r = v128.bitselect(f32x4.neg(k(C.INF)), r, f32x4.eq(x, k(C.ZERO))); // log(0) = -inf
  return v128.or(r, v128.not(f32x4.ge(x, k(C.ZERO)))); // negative or NaN: all-ones bits, a NaN
}

/** 1 / (1 + e^-x): exact limits 0 and 1 for large |x|, no NaN. */
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return f32x4.div(k(C.ONE), f32x4.add(k(C.ONE), exp4(f32x4.neg(x))));
}

/** tanh per lane: odd polynomial below |x| = 0.625 (accurate near 0), 1 - 2/(e^2|x| + 1) above. */
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = fma4(k(C.TANH_POLY), z, k(C.TANH_POLY + 1));
  p = fma4(p, z, k(C.TANH_POLY + 2));
  p = fma4(p, z, k(C.TANH_POLY + 3));
  p = fma4(p, z, k(C.TANH_POLY + 4));
  const small = fma4(f32x4.mul(p, z), x, x);
  // Clamping keeps e^2|x| finite, so no inf/inf NaN; NaN passes pmin.
  const c = f32x4.pmin(ax, k(C.TANH_CLAMP));
  const e = exp4(f32x4.add(c, c));
  const big = f32x4.sub(k(C.ONE), f32x4.div(k(C.TWO), f32x4.add(e, k(C.ONE))));
  // tanh is odd: x's sign bit on |tanh x| (the polynomial's x + x·(z·p) turns −0 into +0).
  return v128.bitselect(x, v128.bitselect(small, big, f32x4.lt(ax, k(C.TANH_SMALL))), k(C.SIGN));
}

// f64 constants of the GELU argument, same reasoning as F (CD names their indices).
const enum CD { GELU_K, GELU_C, ONE, CLAMP_LO, CLAMP_HI }
const D = memory.data<f64>([
  1.5957691216057308, // GELU_K = 2 sqrt(2/pi)
  0.044715, // GELU_C
  1, // ONE
  -200, // CLAMP_LO: lower clamp of 2u
  200, // CLAMP_HI: upper clamp of 2u
], 16);

// @ts-ignore: decorator
@inline function kd(c: CD): v128 {
  return v128.load64_splat(D + (<usize>c << 3));
}

/** 2u = K x (1 + c x^2) of two lanes, in f64, clamped to +-200 (e^200 is already inf in f32). */
// @ts-ignore: decorator
@inline function gelu2u64(x: v128): v128 {
  const u2 = f64x2.mul(f64x2.mul(x, kd(CD.GELU_K)), f64x2.add(f64x2.mul(f64x2.mul(x, x), kd(CD.GELU_C)), kd(CD.ONE)));
  return f64x2.pmin(f64x2.pmax(u2, kd(CD.CLAMP_LO)), kd(CD.CLAMP_HI));
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
  if (!v128.any_true(f32x4.lt(x, k(C.GELU_EXACT)))) {
    return exp4(f32x4.neg(f32x4.mul(f32x4.mul(x, k(C.GELU_K)), fma4(f32x4.mul(x, x), k(C.GELU_C), k(C.ONE)))));
  }
  const a = gelu2u64(f64x2.promote_low_f32x4(x));
  const b = gelu2u64(f64x2.promote_low_f32x4(i32x4.shuffle(x, x, 2, 3, 0, 1)));
  const hiA = f32x4.demote_f64x2_zero(a), hiB = f32x4.demote_f64x2_zero(b);
  const hi = i64x2.shuffle(hiA, hiB, 0, 2);
  const loA = f32x4.demote_f64x2_zero(f64x2.sub(a, f64x2.promote_low_f32x4(hiA)));
  const loB = f32x4.demote_f64x2_zero(f64x2.sub(b, f64x2.promote_low_f32x4(hiB)));
  const lo = i64x2.shuffle(loA, loB, 0, 2);
  return f32x4.mul(exp4(f32x4.neg(hi)), f32x4.sub(k(C.ONE), lo));
}

/** GELU (tanh approximation) as x * sigmoid(2u): the same function without the cancellation of 1 + tanh u for x << 0. */
// @ts-ignore: decorator
@inline export function gelu4(x: v128): v128 {
  return f32x4.div(x, f32x4.add(k(C.ONE), expNeg2u(x)));
}

/**
 * d gelu / dx = s + 2 x s (1 - s) u', with s = sigmoid(2u) = (1 + tanh u) / 2
 * = 1 / (1 + E), E = e^-2u. 1 - s = 1 / (1 + 1/E) directly: 1 - s by
 * subtraction loses ~2e-6 of the result at x = 5 (and E·s is inf·0 at x << 0).
 * The second term is 0 in f32 beyond |x| = 20 (s (1 - s) < e^-600), so x is
 * clamped there: x u' overflows from |x| = 1e13 on, and inf·0 would be NaN
 * (gelu'(±3e38) is 1 and 0). At ±inf the result is NaN, as PyTorch's.
 */
// @ts-ignore: decorator
@inline export function geluGrad4(x: v128): v128 {
  const E = expNeg2u(x);
  const s = f32x4.div(k(C.ONE), f32x4.add(k(C.ONE), E));
  const q = f32x4.div(k(C.ONE), f32x4.add(k(C.ONE), f32x4.div(k(C.ONE), E)));
  const xc = f32x4.pmax(f32x4.pmin(x, k(C.GELU_CLAMP)), k(C.MINUS_GELU_CLAMP)); // NaN passes
  // u' = sqrt(2/pi) (1 + 3c x^2) = K/2 + (3cK/2) x^2
  const du = fma4(f32x4.mul(xc, xc), k(C.GELU_DU_X2), k(C.GELU_DU_0));
  const g = fma4(f32x4.mul(f32x4.add(xc, xc), f32x4.mul(s, q)), du, s);
  return v128.or(g, f32x4.eq(f32x4.abs(x), k(C.INF))); // ±inf: all-ones bits, a NaN
}

/** 1 and -1 in every lane (from the constant table, see F). */
// @ts-ignore: decorator
@inline export function one4(): v128 { return k(C.ONE); }
// @ts-ignore: decorator
@inline export function minusOne4(): v128 { return k(C.MINUS_ONE); }

/** relu as PyTorch's, `x < 0 ? 0 : x`: NaN stays NaN (a diverging network shows it) and −0 stays −0. */
// @ts-ignore: decorator
@inline export function relu4(x: v128): v128 {
  return v128.andnot(x, f32x4.lt(x, k(C.ZERO)));
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
  // Zero only where a <= 0 (PyTorch's threshold_backward): a NaN input passes the gradient.
  if (op == BINARY_RELU_BWD) return v128.andnot(b, f32x4.le(a, k(C.ZERO)));
  if (op == BINARY_GELU_BWD) return f32x4.mul(b, geluGrad4(a));
  // (1-y)(1+y) keeps 1 - y^2 exact near |y| = 1
  if (op == BINARY_TANH_BWD) return f32x4.mul(b, f32x4.mul(f32x4.sub(k(C.ONE), a), f32x4.add(k(C.ONE), a)));
  if (op == BINARY_SIGMOID_BWD) return f32x4.mul(f32x4.mul(b, a), f32x4.sub(k(C.ONE), a));
  return b;
}
