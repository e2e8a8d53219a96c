// NaN, infinities and signed zeros, decided on the bits. WGSL lets an
// implementation assume that no value is NaN or infinite: SwiftShader folds
// `x != x` to false, returns the other operand from max(NaN, 1), and its exp
// and log give finite garbage for NaN, ±inf, 0 and negatives. So wherever an
// answer depends on a special value, the kernels test the bits, as here.
// IEEE arithmetic itself (+, −, ·, / on run-time values) propagates NaN and
// infinities on every implementation; what is folded or assumed is the rest.
// src/backends/webgpu/shaders.ts prepends this file to the elementwise,
// matmul, softmax and reduce modules.

// Zero read at run time: `bitcast<f32>(0x7f800000u | ZERO_BITS)` is then not a
// constant expression, which WGSL rejects when it is not finite.
var<private> ZERO_BITS: u32 = 0u;

fn posInf() -> f32 { return bitcast<f32>(0x7f800000u | ZERO_BITS); }
fn negInf() -> f32 { return bitcast<f32>(0xff800000u | ZERO_BITS); }
// A quiet NaN with x's sign (any x).
fn nanOf(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) | 0x7fc00000u); }

fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }
// x < 0, NaN excluded: the bits of −0 (0x80000000) up to those of −inf.
fn isNegative(x: f32) -> bool { return bitcast<u32>(x) - 0x80000001u < 0x7f800000u; }
// x <= 0, NaN excluded.
fn isNotPositive(x: f32) -> bool { return isNegative(x) || (bitcast<u32>(x) & 0x7fffffffu) == 0u; }

// max / min that are NaN when either operand is, as torch.maximum / minimum.
fn maxNan(a: f32, b: f32) -> f32 { return select(max(a, b), nanOf(a + b), isNan(a) || isNan(b)); }
fn minNan(a: f32, b: f32) -> f32 { return select(min(a, b), nanOf(a + b), isNan(a) || isNan(b)); }

fn isNan4(v: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}
fn maxNan4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return select(max(a, b), bitcast<vec4<f32>>(bitcast<vec4<u32>>(a + b) | vec4<u32>(0x7fc00000u)), isNan4(a) | isNan4(b));
}
