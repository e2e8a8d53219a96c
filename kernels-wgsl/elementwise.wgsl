// Elementwise kernels: unary ops, binary ops with numpy broadcasting, fill.
// One invocation per element; workgroups are linearised (x + y * num_workgroups.x)
// so that more than 65535 × WG elements still dispatch. The op is the
// override OP (codes: UNARY_OPS / BINARY_OPS in src/backends/backend.ts).
// exp1, log1, sigmoid1, tanh1, gelu1 and actGrad1 come from activations.wgsl (prepended by pipelines.ts).

override WG: u32 = 256u;
override OP: u32 = 0u;

struct Unary { n: u32, alpha: f32, beta: f32 }
struct Fill { n: u32, value: f32 }
// Broadcast shape and element strides of a and b, dimension d at [d / 4][d % 4].
struct Strided { shape: array<vec4<u32>, 2>, sa: array<vec4<u32>, 2>, sb: array<vec4<u32>, 2>, n: u32, rank: u32 }
struct Contig { n: u32 }

@group(0) @binding(0) var<uniform> U: Unary;
@group(0) @binding(0) var<uniform> F: Fill;
@group(0) @binding(0) var<uniform> S: Strided;
@group(0) @binding(0) var<uniform> K: Contig;
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

fn unary1(x: f32) -> f32 {
  switch OP {
    case 0u: { return x; }
    case 1u: { return -x; }
    case 2u: { return exp1(x); }
    case 3u: { return log1(x); }
    case 4u: { return abs(x); }
    case 5u: { return sqrt(x); }
    case 6u: { return x * x; }
    case 7u: { return sign(x); }
    case 8u: { return max(x, 0.0); }
    case 9u: { return gelu1(x); }
    case 10u: { return tanh1(x); }
    case 11u: { return sigmoid1(x); }
    case 12u: { return U.alpha * x + U.beta; }
    case 13u: { return U.alpha / x; }
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

fn binary1(a: f32, b: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    case 4u: { return max(a, b); }
    case 5u: { return min(a, b); }
    case 6u: { return select(0.0, 1.0, a == b); }
    case 7u: { return select(0.0, 1.0, a > b); }
    case 8u, 9u, 10u, 11u: { return actGrad1(OP, a, b); }
    default: { return a; }
  }
}

// Same shape, both contiguous: the common case, no index arithmetic.
@compute @workgroup_size(WG)
fn binary_contig(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i < K.n) { BOUT[i] = binary1(BA[i], BB[i]); }
}

// The same, 4 values per invocation: a quarter of the invocations, which is
// what elementwise work costs on CPU adapters (index math and bounds checks
// per invocation); the host uses it when n is a multiple of 4.
@compute @workgroup_size(WG)
fn binary_contig4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i >= K.n / 4u) { return; }
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
    ia += c * S.sa[(d - 1u) / 4u][(d - 1u) % 4u];
    ib += c * S.sb[(d - 1u) / 4u][(d - 1u) % 4u];
  }
  BOUT[i] = binary1(BA[ia], BB[ib]);
}
