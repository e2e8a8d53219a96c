// Double-float arithmetic: a value is the unevaluated sum hi + lo of two f32
// (about 48 bits), by Dekker's algorithms, which need no fma (WGSL's fma may
// round twice). Used where f32 rounding would be amplified: optimizer steps
// whose terms cancel, and the argument of e^x in gelu for x << 0.
// src/backends/webgpu/shaders.ts prepends this file to the modules that use it.

// Exact a + b = s + e.
fn twoSum(a: f32, b: f32) -> vec2<f32> {
  let s = a + b;
  let bb = s - a;
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}

// a = hi + lo with halves of 12 bits, so their products are exact.
fn split(a: f32) -> vec2<f32> {
  let c = 4097.0 * a;
  let hi = c - (c - a);
  return vec2<f32>(hi, a - hi);
}

// Exact a · b = p + e.
fn twoProd(a: f32, b: f32) -> vec2<f32> {
  let p = a * b;
  let x = split(a);
  let y = split(b);
  return vec2<f32>(p, ((x.x * y.x - p) + x.x * y.y + x.y * y.x) + x.y * y.y);
}

// (a.hi + a.lo) · (b.hi + b.lo) and (a) + (b), to about 48 bits.
fn mul2(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let p = twoProd(a.x, b.x);
  return twoSum(p.x, p.y + (a.x * b.y + a.y * b.x));
}

fn add2(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s = twoSum(a.x, b.x);
  return twoSum(s.x, s.y + a.y + b.y);
}
