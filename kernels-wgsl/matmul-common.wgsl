// What the four matmul modules share (src/backends/webgpu/shaders.ts prepends
// it to each, after activations.wgsl): bindings, parameters, the fused
// epilogue and prologue.
//
//   C[z] = act(op(A[z]) · op(B[z]) + bias)
//
// Prologue: one operand is read as d(t, operand), an activation derivative
// (the BINARY_OPS *_bwd codes), elementwise over its stored layout: T has the
// operand's layout, so T[i] pairs with A[i] (or B[i]) at the same index.
// SUMB receives Σ_k op(B)[k, n] (batch 1, B not transposed): the bias
// gradient, summed by the workgroups that load B anyway.

override TRANS_A: bool = false; // A stored [K, M]
override TRANS_B: bool = false; // B stored [N, K]
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;         // an ACT_* code
override PRO_A: u32 = 0u;       // 0, or the BINARY_OPS code of a *_bwd op applied to A
override PRO_B: u32 = 0u;       // the same for B
override SUM_B: bool = false;   // write Σ_k op(B)[k, n] to SUMB

// Sizes, batch strides and output blocks per row (tilesN) and column (tilesM)
// of C: MatmulDims from src/backends/primitives/matmul.ts.
@group(0) @binding(0) var<uniform> P: MatmulDims;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
@group(0) @binding(5) var<storage, read> T: array<f32>;
@group(0) @binding(6) var<storage, read_write> SUMB: array<f32>;
// vec4 views of the same bindings (an entry point uses one view of each).
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> BIAS4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> C4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> T4: array<vec4<f32>>;

fn act1(x: f32) -> f32 {
  switch ACT {
    case ACT_RELU: { return relu1(x); }
    case ACT_GELU: { return gelu1(x); }
    case ACT_TANH: { return tanh1(x); }
    case ACT_SIGMOID: { return sigmoid1(x); }
    default: { return x; }
  }
}

fn act4(v: vec4<f32>) -> vec4<f32> {
  if (ACT == ACT_NONE) { return v; }
  return vec4<f32>(act1(v.x), act1(v.y), act1(v.z), act1(v.w));
}

fn actGrad4(op: u32, t: vec4<f32>, x: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(actGrad1(op, t.x, x.x), actGrad1(op, t.y, x.y), actGrad1(op, t.z, x.z), actGrad1(op, t.w, x.w));
}

// Element (m, k) of op(A[z]) and (k, n) of op(B[z]), prologue applied; 0 outside.
fn loadA(a0: u32, m: u32, k: u32) -> f32 {
  if (m >= P.M || k >= P.K) { return 0.0; }
  let i = a0 + select(m * P.K + k, k * P.M + m, TRANS_A);
  if (PRO_A != 0u) { return actGrad1(PRO_A, T[i], A[i]); }
  return A[i];
}

fn loadB(b0: u32, k: u32, n: u32) -> f32 {
  if (k >= P.K || n >= P.N) { return 0.0; }
  let i = b0 + select(k * P.N + n, n * P.K + k, TRANS_B);
  if (PRO_B != 0u) { return actGrad1(PRO_B, T[i], B[i]); }
  return B[i];
}

// vec4 element `at` of A (B), prologue applied.
fn loadA4(at: u32) -> vec4<f32> {
  if (PRO_A != 0u) { return actGrad4(PRO_A, T4[at], A4[at]); }
  return A4[at];
}

fn loadB4(at: u32) -> vec4<f32> {
  if (PRO_B != 0u) { return actGrad4(PRO_B, T4[at], B4[at]); }
  return B4[at];
}

// C[row, col..col+3] = act(v + bias), skipping what lies outside C.
fn storeScalar(c0: u32, row: u32, col: u32, v: vec4<f32>) {
  if (row >= P.M) { return; }
  for (var c = 0u; c < 4u; c++) {
    if (col + c >= P.N) { return; }
    var x = v[c];
    if (HAS_BIAS) { x += BIAS[col + c]; }
    C[c0 + row * P.N + col + c] = act1(x);
  }
}

// SUMB[col..col+3] = s, skipping columns past N.
fn storeSums(col: u32, s: vec4<f32>) {
  for (var c = 0u; c < 4u; c++) {
    if (col + c < P.N) { SUMB[col + c] = s[c]; }
  }
}

// Scalar loads of A (B) at storage offsets, prologue applied (for the
// register-blocked kernels; the tiled ones apply actGrad1 as they fill tiles).
fn gA(o: u32) -> f32 {
  if (PRO_A != 0u) { return actGrad1(PRO_A, T[o], A[o]); }
  return A[o];
}

fn gB(o: u32) -> f32 {
  if (PRO_B != 0u) { return actGrad1(PRO_B, T[o], B[o]); }
  return B[o];
}

fn gA4(o: vec4<u32>) -> vec4<f32> { return vec4<f32>(gA(o.x), gA(o.y), gA(o.z), gA(o.w)); }
fn gB4(o: vec4<u32>) -> vec4<f32> { return vec4<f32>(gB(o.x), gB(o.y), gB(o.z), gB(o.w)); }

// ---- helpers shared by the matmul entry points ----

// Workgroup block `id` -> (batch, tile row, tile column) over P.tilesM × P.tilesN tiles per batch.
fn tileIndex(id: u32) -> vec3<u32> {
  let perBatch = P.tilesN * P.tilesM;
  let z = id / perBatch;
  let r = id - z * perBatch;
  let tm = r / P.tilesN;
  return vec3<u32>(z, tm, r - tm * P.tilesN);
}

// c + Σ_j a[j] · b[j]: one output row over 4 steps of k. Summed pairwise:
// shorter dependency chains and less rounding than left to right.
fn mac(c: vec4<f32>, a: vec4<f32>, b: mat4x4<f32>) -> vec4<f32> {
  return c + ((a.x * b[0] + a.y * b[1]) + (a.z * b[2] + a.w * b[3]));
}

// Element offsets of op(A) rows r..r+3 (clamped to the last row), and of
// op(B) columns c..c+3; element (m, k) of op(A) is at rowsA(m) + k · kA.
fn rowsA(a0: u32, r: u32) -> vec4<u32> {
  let rows = min(vec4<u32>(r) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.M - 1u));
  return vec4<u32>(a0) + rows * select(P.K, 1u, TRANS_A);
}

fn colsB(b0: u32, c: u32) -> vec4<u32> {
  let cols = min(vec4<u32>(c) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u));
  return vec4<u32>(b0) + cols * select(1u, P.K, TRANS_B);
}

// Offsets (vec4 units) of the 4 loads giving k-rows 0..3 × columns c..c+3 of
// op(B), and that 4×4 block (B [N, K]: one load per column, transposed after).
fn offsetsB(b0: u32, c: u32) -> vec4<u32> {
  if (TRANS_B) {
    let cols = min(vec4<u32>(c) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u));
    return (vec4<u32>(b0) + cols * P.K) / 4u;
  }
  let q = (b0 + min(c, P.N - 4u)) / 4u;
  return vec4<u32>(q) + vec4<u32>(0u, 1u, 2u, 3u) * (P.N / 4u);
}

fn blockB4(q: vec4<u32>) -> mat4x4<f32> {
  let m = mat4x4<f32>(loadB4(q.x), loadB4(q.y), loadB4(q.z), loadB4(q.w));
  if (TRANS_B) { return transpose(m); }
  return m;
}
