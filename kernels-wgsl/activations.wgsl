// Activation functions and accurate exp/log shared by matmul.wgsl (the fused
// epilogue), elementwise.wgsl (unary ops and their derivatives) and
// softmax.wgsl, so all compute the same numbers. src/backends/webgpu/shaders.ts prepends this
// file (after double-float.wgsl) to those modules.

// WGSL lets exp be off by 3 + 2|x| ULP: SwiftShader is 1.6e-5 off at x = -87,
// where gelu(-10) lands. Reducing to x = k·ln2 + r, |r| <= ln2/2 (ln2 split so
// k·hi is exact) gives the builtin a small argument and makes 2^k exact.
fn exp1(x: f32) -> f32 {
  if (!(abs(x) <= 88.0)) { return exp(x); } // 0 or inf either way; NaN stays NaN
  let k = round(x * 1.442695041);
  let r = (x - k * 0.693145751953125) - k * 1.4286068203e-6;
  return ldexp(exp(r), i32(k));
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
// ln2 split so e·hi is exact. Zero, negatives, subnormals, inf and NaN go to
// the builtin (-inf, NaN, ~, inf, NaN).
fn log1(x: f32) -> f32 {
  if (!(x >= 0x1p-126f && x <= 0x1.fffffep+127f)) { return log(x); }
  let bits = bitcast<u32>(x);
  let m0 = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u); // [1, 2)
  let big = m0 > 1.41421356;
  let m = select(m0, 0.5 * m0, big);
  let e = f32(i32(bits >> 23u) - 127) + select(0.0, 1.0, big);
  return e * 0.693145751953125 + (e * 1.4286068203e-6 + log1pSmall(m - 1.0));
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

// tanh from exp(-2|x|); an odd polynomial near 0 where 1 - e cancels.
fn tanh1(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.25) {
    let x2 = x * x;
    return x * (1.0 + x2 * (-0.33333333 + x2 * (0.13333333 + x2 * (-0.053968254 + x2 * 0.021869488))));
  }
  let e = exp1(-2.0 * a);
  // Above 0.55 (tanh > 0.5) as 1 − 2e/(1 + e): one rounding near 1, where tanh'
  // = (1 − y)(1 + y) is later taken from y and magnifies y's error.
  if (a >= 0.55) { return sign(x) * (1.0 - 2.0 * e / (1.0 + e)); }
  return sign(x) * (1.0 - e) / (1.0 + e);
}

fn geluArg(x: f32) -> f32 { return 0.7978845608 * (x + 0.044715 * x * x * x); }

// e^x for x = hi + lo (|lo| <= ulp(hi)/2): e^hi · (1 + lo).
fn expDF(x: vec2<f32>) -> f32 { return exp1(x.x) * (1.0 + x.y); }

// (s, 1 − s) for s = sigmoid(2u), u = sqrt(2/pi)(x + 0.044715x³); 1 − s is
// formed directly (by subtraction it loses ~2e-6 of gelu' at x = 5).
// For x < -3 (|2u| > 6.7) e^2u turns the rounding error of an f32 2u into
// relative error of the result (~1e-5 at x = -10, 2u = -87), so there 2u is
// formed in double-float (K = 2·sqrt(2/pi) and 0.044715 as hi + lo pairs).
// Below -20 s is 0.
fn geluSigmoid(x: f32) -> vec2<f32> {
  if (!(x < -3.0)) { return sigmoidPair(2.0 * geluArg(x)); }
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
fn geluGrad(x: f32) -> f32 {
  let s = geluSigmoid(x);
  let du = 0.7978845608 * (1.0 + 3.0 * 0.044715 * x * x);
  return s.x + 2.0 * x * s.x * s.y * du;
}

// The activation derivatives (the *_bwd binary ops, codes as BINARY_OPS):
// x·act'(·) from t, the activation's input (relu, gelu) or output (tanh,
// sigmoid). Shared by elementwise binary ops and the matmul prologue.
fn actGrad1(op: u32, t: f32, x: f32) -> f32 {
  switch op {
    case BINARY_RELU_BWD: { return select(0.0, x, t > 0.0); }
    case BINARY_GELU_BWD: { return x * geluGrad(t); }
    case BINARY_TANH_BWD: { return x * ((1.0 - t) * (1.0 + t)); } // 1 - y² without cancelling near |y| = 1
    case BINARY_SIGMOID_BWD: { return x * t * (1.0 - t); }
    default: { return x; }
  }
}
