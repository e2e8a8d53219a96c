// Elementwise kernels: unary ops, binary ops with numpy broadcasting, fill.
// One invocation per element; workgroups are linearised (x + y * num_workgroups.x)
// so that more than 65535 × WG elements still dispatch. The op is the
// override OP. Codes (UNARY_*, BINARY_*) and parameter structs come from
// src/backends/primitives/elementwise.ts; exp1, log1, relu1, sigmoid1, tanh1,
// gelu1 and actGrad1 from activations.wgsl, the bit tests of special values
// from ieee.wgsl (all prepended: src/backends/webgpu/shaders.ts). Answers at
// NaN, ±inf and ±0 are PyTorch's, decided on the bits where WGSL would let
// the device assume finite values.

override WG: u32 = 256u;
override OP: u32 = 0u;

@group(0) @binding(0) var<uniform> U: UnaryParams;
@group(0) @binding(0) var<uniform> F: FillParams;
// Broadcast shape and element strides of a and b, dimension d at [d / 4][d % 4].
@group(0) @binding(0) var<uniform> S: BroadcastDims;
@group(0) @binding(0) var<uniform> C: ContigParams;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;
// In-place unary: one read_write binding (WebGPU forbids binding a buffer
// both read-only and writable in one dispatch).
@group(0) @binding(1) var<storage, read_write> XIO: array<f32>;
@group(0) @binding(1) var<storage, read_write> FOUT: array<f32>;
@group(0) @binding(1) var<storage, read> BA: array<f32>;
@group(0) @binding(2) var<storage, read> BB: array<f32>;
@group(0) @binding(3) var<storage, read_write> BOUT: array<f32>;
// vec4 views for binary_contig4 (n a multiple of 4).
@group(0) @binding(1) var<storage, read> BA4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> BB4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> BOUT4: array<vec4<f32>>;

fn linear(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.x + wg.y * nwg.x) * WG + lid.x;
}

// ---- unary ----

// sqrt: x itself at +inf and −0, NaN below 0 and at NaN.
fn sqrt1(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if (b < 0x7f800000u) { return sqrt(x); } // +0 and positive finite
  return select(nanOf(x), x, b == 0x7f800000u || b == 0x80000000u);
}

// sign: ±1, and 0 at ±0 and at NaN (as PyTorch 1.13's).
fn sign1(x: f32) -> f32 {
  let a = bitcast<u32>(x) & 0x7fffffffu;
  return select(withSignOf(x, 1.0), 0.0, a == 0u || a > 0x7f800000u);
}

fn unary1(x: f32) -> f32 {
  switch OP {
    case UNARY_COPY: { return x; }
    case UNARY_NEG: { return -x; }
    case UNARY_EXP: { return exp1(x); }
    case UNARY_LOG: { return log1(x); }
    case UNARY_ABS: { return bitcast<f32>(bitcast<u32>(x) & 0x7fffffffu); }
    case UNARY_SQRT: { return sqrt1(x); }
    case UNARY_SQUARE: { return x * x; }
    case UNARY_SIGN: { return sign1(x); }
    case UNARY_RELU: { return relu1(x); }
    case UNARY_GELU: { return gelu1(x); }
    case UNARY_TANH: { return tanh1(x); }
    case UNARY_SIGMOID: { return sigmoid1(x); }
    case UNARY_AFFINE: { return U.alpha * x + U.beta; }
    case UNARY_RDIV: { return U.alpha / x; }
    default: { return x; }
  }
}

@compute @workgroup_size(WG)
fn unary(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i < U.n) { OUT[i] = unary1(X[i]); }
}

@compute @workgroup_size(WG)
fn unary_inplace(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i < U.n) { XIO[i] = unary1(XIO[i]); }
}

// ---- fill ----

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i < F.n) { FOUT[i] = F.value; }
}

// ---- binary ----

// C's pow (PyTorch's), decided on the bits: x^±0 = 1 and 1^y = 1 even at NaN;
// NaN for a negative finite base and a non-integer exponent; ±0 and ±inf bases
// and infinite exponents by the rules of C99 F.9.4.4; the sign of a negative
// base's power by the parity of an integer exponent (every float >= 2^24 is
// even). Otherwise |a|^b = exp(b·log|a|) with the accurate exp1/log1 (relative
// error ~|b·log|a||·6e-8, under 1e-5 wherever the result is finite).
fn pow1(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  if ((ub & 0x7fffffffu) == 0u || ua == 0x3f800000u) { return 1.0; }
  if (isNan(a) || isNan(b)) { return nanOf(a + b); }
  let ab = bitcast<f32>(ua & 0x7fffffffu);
  let bigBase = (ua & 0x7fffffffu) > 0x3f800000u;
  if (!isFinite(b)) {
    if ((ua & 0x7fffffffu) == 0x3f800000u) { return 1.0; } // (−1)^±inf
    return select(0.0, posInf(), bigBase == !isNegative(b));
  }
  let isInt = floor(b) == b;
  let odd = isInt && abs(b) < 16777216.0 && floor(b * 0.5) != b * 0.5;
  if (isNegative(a) && isFinite(a) && !isInt) { return nanOf(a + b); }
  var mag: f32;
  if ((ua & 0x7fffffffu) == 0u) {
    mag = select(posInf(), 0.0, !isNegative(b));
  } else if (!isFinite(a)) {
    mag = select(0.0, posInf(), !isNegative(b));
  } else if (b == 1.0) {
    mag = ab;
  } else {
    mag = exp1(b * log1(ab));
  }
  return select(mag, -mag, odd && (ua & 0x80000000u) != 0u);
}

fn binary1(a: f32, b: f32) -> f32 {
  switch OP {
    case BINARY_ADD: { return a + b; }
    case BINARY_SUB: { return a - b; }
    case BINARY_MUL: { return a * b; }
    case BINARY_DIV: { return a / b; }
    case BINARY_MAXIMUM: { return maxNan(a, b); }
    case BINARY_MINIMUM: { return minNan(a, b); }
    // Comparisons with a NaN are false (a device assuming no NaN may compare unordered).
    case BINARY_EQ: { return select(0.0, 1.0, a == b && !(isNan(a) || isNan(b))); }
    case BINARY_GT: { return select(0.0, 1.0, a > b && !(isNan(a) || isNan(b))); }
    case BINARY_RELU_BWD, BINARY_GELU_BWD, BINARY_TANH_BWD, BINARY_SIGMOID_BWD: { return actGrad1(OP, a, b); }
    // a·b, but 0 where a is 0 and b is not NaN (0 · ±inf = 0; a flushed denormal a counts as 0).
    case BINARY_XMUL: { return select(a * b, 0.0, a == 0.0 && !(isNan(a) || isNan(b))); }
    // a where b is non-zero or NaN, else −0 (the identity of addition: where() adds two masks),
    // from bits read at run time: SwiftShader folds a −0.0 constant to +0.
    case BINARY_MASK: { return select(bitcast<f32>(0x80000000u | ZERO_BITS), a, (bitcast<u32>(b) & 0x7fffffffu) != 0u); }
    case BINARY_GE: { return select(0.0, 1.0, a >= b && !(isNan(a) || isNan(b))); }
    case BINARY_POW: { return pow1(a, b); }
    default: { return a; }
  }
}

// Same shape, both contiguous: the common case, no index arithmetic.
@compute @workgroup_size(WG)
fn binary_contig(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i < C.n) { BOUT[i] = binary1(BA[i], BB[i]); }
}

// The same, 4 values per invocation: a quarter of the invocations, which is
// what elementwise work costs on CPU adapters (index math and bounds checks
// per invocation); the host uses it when n is a multiple of 4.
@compute @workgroup_size(WG)
fn binary_contig4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i >= C.n / 4u) { return; }
  let a = BA4[i];
  let b = BB4[i];
  BOUT4[i] = vec4<f32>(binary1(a.x, b.x), binary1(a.y, b.y), binary1(a.z, b.z), binary1(a.w, b.w));
}

@compute @workgroup_size(WG)
fn binary_strided(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i >= S.n) { return; }
  var rest = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = S.rank; d > 0u; d--) {
    let size = S.shape[(d - 1u) / 4u][(d - 1u) % 4u];
    let c = rest % size;
    rest = rest / size;
    ia += c * S.aStrides[(d - 1u) / 4u][(d - 1u) % 4u];
    ib += c * S.bStrides[(d - 1u) / 4u][(d - 1u) % 4u];
  }
  BOUT[i] = binary1(BA[ia], BB[ib]);
}
