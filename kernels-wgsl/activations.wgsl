// Activation functions and accurate exp/log shared by matmul.wgsl (the fused
// epilogue), elementwise.wgsl (unary ops and their derivatives) and
// softmax.wgsl, so all compute the same numbers. src/backends/webgpu/shaders.ts prepends this
// file (after ieee.wgsl and double-float.wgsl) to those modules. Special values
// (NaN, ±inf, 0, negatives) are told apart on the bits (see ieee.wgsl): the
// answers are PyTorch's (exp(NaN) = NaN, log(0) = −inf, relu(NaN) = NaN …).

// WGSL lets exp be off by 3 + 2|x| ULP: SwiftShader is 1.6e-5 off at x = -87,
// where gelu(-10) lands. Reducing to x = k·ln2 + r, |r| <= ln2/2 (ln2 split so
// k·hi is exact) gives the builtin a small argument and makes 2^k exact.
fn exp1(x: f32) -> f32 {
  let a = bitcast<u32>(x) & 0x7fffffffu;
  if (a <= 0x42b00000u) { // |x| <= 88 (a NaN's bits are larger)
    let k = round(x * 1.442695041);
    let r = (x - k * 0.693145751953125) - k * 1.4286068203e-6;
    return ldexp(exp(r), i32(k));
  }
  if (a > 0x7f800000u) { return x; } // NaN
  if (bitcast<u32>(x) < 0x80000000u) { // above 88: inf past ln(FLT_MAX) = 0x42b17218
    return select(exp(x), posInf(), a >= 0x42b17218u);
  }
  return select(exp(x), 0.0, a > 0x42d00000u); // below -88 a denormal, 0 below -104 (and at -inf)
}

// log(1 + f) for |f| <= 0.5: 2·atanh(t), t = f / (2 + f), as a series (|t| <= 0.2;
// the first omitted term is under 1e-8 of the sum). Relative error a few ulp.
fn log1pSmall(f: f32) -> f32 {
  let t = f / (2.0 + f);
  let t2 = t * t;
  return 2.0 * t * (1.0 + t2 * (1.0 / 3.0 + t2 * (0.2 + t2 * (1.0 / 7.0 + t2 * (1.0 / 9.0)))));
}

// WGSL's log may be off by 2^-21 absolute on [0.5, 2]: relative error without
// bound near x = 1 (1e-2 at 0.99999 on SwiftShader). x = 2^e·m, m in
// [0.707, 1.414), so m − 1 is exact and log m = log1pSmall(m − 1); e·ln2 with
// ln2 split so e·hi is exact. `bits` are those of a positive normal float;
// the result is log of it plus e0·ln2.
fn logBits(bits: u32, e0: f32) -> f32 {
  let m0 = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u); // [1, 2)
  let big = m0 > 1.41421356;
  let m = select(m0, 0.5 * m0, big);
  let e = f32(i32(bits >> 23u) - 127) + select(0.0, 1.0, big) + e0;
  return e * 0.693145751953125 + (e * 1.4286068203e-6 + log1pSmall(m - 1.0));
}

// log: −inf at ±0, NaN below 0 and at NaN, inf at inf. A denormal x is
// bits·2^-149 exactly, so its log comes from the integer bits (no float
// operation on x, which the device may flush to 0).
fn log1(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  if (bits - 0x00800000u < 0x7f000000u) { return logBits(bits, 0.0); } // positive normal
  if (bits == 0x7f800000u) { return x; } // log(inf) = inf
  if ((bits & 0x7fffffffu) == 0u) { return negInf(); }
  if (bits < 0x00800000u) { return logBits(bitcast<u32>(f32(bits)), -149.0); } // positive denormal
  return nanOf(x); // negative, −inf or NaN
}

fn exp1x4(v: vec4<f32>) -> vec4<f32> { return vec4<f32>(exp1(v.x), exp1(v.y), exp1(v.z), exp1(v.w)); }

// (sigmoid(z), 1 − sigmoid(z)), each formed directly from e = exp(−|z|) (no
// overflow, and 1 − s never by subtraction).
fn sigmoidPair(z: f32) -> vec2<f32> {
  let e = exp1(-abs(z));
  let p = 1.0 / (1.0 + e);
  return select(vec2<f32>(e * p, p), vec2<f32>(p, e * p), z >= 0.0);
}

fn sigmoid1(x: f32) -> f32 { return sigmoidPair(x).x; }

// |y| with x's sign bit (tanh is odd; WGSL's sign(NaN) is not defined).
fn withSignOf(x: f32, y: f32) -> f32 { return bitcast<f32>((bitcast<u32>(y) & 0x7fffffffu) | (bitcast<u32>(x) & 0x80000000u)); }

// tanh from exp(-2|x|); an odd polynomial near 0 where 1 - e cancels. NaN
// propagates through exp1; ±inf give e = 0 and ±1.
fn tanh1(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.25) {
    let x2 = x * x;
    return x * (1.0 + x2 * (-0.33333333 + x2 * (0.13333333 + x2 * (-0.053968254 + x2 * 0.021869488))));
  }
  let e = exp1(-2.0 * a);
  // Above 0.55 (tanh > 0.5) as 1 − 2e/(1 + e): one rounding near 1, where tanh'
  // = (1 − y)(1 + y) is later taken from y and magnifies y's error.
  if (a >= 0.55) { return withSignOf(x, 1.0 - 2.0 * e / (1.0 + e)); }
  return withSignOf(x, (1.0 - e) / (1.0 + e));
}

// relu as PyTorch's, x < 0 ? 0 : x: NaN stays NaN (a diverging network shows
// it), −0 stays −0. On the bits: WGSL's max(NaN, 0) may be 0.
fn relu1(x: f32) -> f32 { return select(x, 0.0, isNegative(x)); }

fn geluArg(x: f32) -> f32 { return 0.7978845608 * (x + 0.044715 * x * x * x); }

// e^x for x = hi + lo (|lo| <= ulp(hi)/2): e^hi · (1 + lo).
fn expDF(x: vec2<f32>) -> f32 { return exp1(x.x) * (1.0 + x.y); }

// (s, 1 − s) for s = sigmoid(2u), u = sqrt(2/pi)(x + 0.044715x³); 1 − s is
// formed directly (by subtraction it loses ~2e-6 of gelu' at x = 5).
// For x < -3 (|2u| > 6.7) e^2u turns the rounding error of an f32 2u into
// relative error of the result (~1e-5 at x = -10, 2u = -87), so there 2u is
// formed in double-float (K = 2·sqrt(2/pi) and 0.044715 as hi + lo pairs).
// Below -20 s is 0. NaN takes the first branch (the test is on the bits:
// x < −3 is bits above those of −3.0 up to −inf's) and stays NaN.
fn geluSigmoid(x: f32) -> vec2<f32> {
  if (bitcast<u32>(x) - 0xc0400001u >= 0x3f400000u) { return sigmoidPair(2.0 * geluArg(x)); }
  let xc = max(x, -20.0);
  let inner = add2(vec2<f32>(1.0, 0.0), mul2(vec2<f32>(0.044714998453855515, 1.5461444347053543e-9), twoProd(xc, xc)));
  let u2 = mul2(mul2(vec2<f32>(1.5957691669464111, -4.534068054340423e-8), vec2<f32>(xc, 0.0)), inner);
  let e = expDF(u2); // e^2u with 2u < 0
  let p = 1.0 / (1.0 + e);
  return vec2<f32>(e * p, p);
}

// 0.5·x·(1 + tanh(u)) == x·sigmoid(2u): no cancellation for negative x.
fn gelu1(x: f32) -> f32 { return x * geluSigmoid(x).x; }

// d/dx gelu with s = sigmoid(2u): 0.5(1 + tanh u) = s and 1 - tanh²u = 4s(1 - s).
// The second term is 0 in f32 beyond |x| = 20, so x is clamped there: x·u'
// overflows from |x| = 1e13 on, and inf·0 would be NaN (gelu'(±3e38) is 1
// and 0). NaN and ±inf give NaN, as PyTorch's.
fn geluGrad(x: f32) -> f32 {
  if (!isFinite(x)) { return nanOf(x); }
  let s = geluSigmoid(x);
  let xc = clamp(x, -20.0, 20.0);
  let du = 0.7978845608 * (1.0 + 3.0 * 0.044715 * xc * xc);
  return s.x + 2.0 * xc * s.x * s.y * du;
}

// The activation derivatives (the *_bwd binary ops, codes as BINARY_OPS):
// x·act'(·) from t, the activation's input (relu, gelu) or output (tanh,
// sigmoid). Shared by elementwise binary ops and the matmul prologue.
fn actGrad1(op: u32, t: f32, x: f32) -> f32 {
  switch op {
    case BINARY_RELU_BWD: { return select(x, 0.0, isNotPositive(t)); } // t = NaN passes x (PyTorch's threshold_backward)
    case BINARY_GELU_BWD: { return x * geluGrad(t); }
    case BINARY_TANH_BWD: { return x * ((1.0 - t) * (1.0 + t)); } // 1 - y² without cancelling near |y| = 1
    case BINARY_SIGMOID_BWD: { return x * t * (1.0 - t); }
    default: { return x; }
  }
}
