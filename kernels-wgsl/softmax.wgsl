// Softmax / log-softmax over contiguous rows of length `cols`.
//
// The row sum Σ exp(x - max) is kept as z + s: z counts the entries equal to
// the max (each contributes exactly 1), s sums the others. A confident row
// (one logit far ahead: the loss of a trained classifier) has z = 1 and a tiny
// s, and its log-softmax winner is -log(1 + s): computed as log1p(s) it keeps
// its relative precision, where log(1 + s) would lose it to the rounding of
// 1 + s and to WGSL's log, which only promises an absolute error near 1.
//
// softmax: one workgroup per row (linearised past 65535 rows). Each
// invocation keeps an online (max, z, s) over its strided slice of the row,
// rescaling when the max grows; the triples are then merged by one tree in
// workgroup memory. One tree instead of two (max, then sum) halves the
// barriers, which are the slow part on CPU drivers.
//
// softmax_rows: one invocation per row, no workgroup memory or barriers: for
// short rows (a workgroup would be mostly idle) and, on CPU adapters, rows up
// to 1024 long, where even one tree costs more than a lane walking its row.
// It reads the row three times (max, sum, write); the max and the sum run in
// 4 interleaved chains (shorter f32 summation chains).
//
// Special values, as PyTorch: a row holding a NaN or a +inf, or only −inf, is
// NaN throughout (e^(x − max) is NaN at x = max = ±inf); a −inf entry of any
// other row gets 0 (log-softmax: −inf). NaNs are found on the bits (ieee.wgsl):
// a device that assumes finite values may skip them in max() and comparisons.

override WG: u32 = 256u;   // power of two
override LOG: bool = false;

@group(0) @binding(0) var<uniform> P: SoftmaxDims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

var<workgroup> wmax: array<f32, WG>;
var<workgroup> wz: array<f32, WG>;
var<workgroup> wsum: array<f32, WG>;

const LOWEST: f32 = -0x1.fffffep+127f;

// log(1 + x) for x >= 0 with a small relative error (log1pSmall and log1 from
// activations.wgsl, prepended by src/backends/webgpu/shaders.ts).
fn log1pPos(x: f32) -> f32 {
  if (x >= 0.5) { return log1(1.0 + x); }
  return log1pSmall(x);
}

// log(z + s) with z ≥ 1 entries at the max: log z + log1p(s / z) (log 1 = 0 exactly).
fn logTotal(z: f32, s: f32) -> f32 {
  return select(log1(z), 0.0, z == 1.0) + log1pPos(s / z);
}

// Writes the row's outputs from its max and its z + s. A NaN s (a NaN in the
// row), a max that is not finite, or none reached (z = 0: only −inf, below
// LOWEST) give a NaN row.
fn writeRow(base: u32, first: u32, step: u32, mx: f32, z: f32, s: f32) {
  if (isNan(s) || !isFinite(mx) || !(z >= 1.0)) {
    let q = nanOf(s);
    for (var c = first; c < P.cols; c += step) { OUT[base + c] = q; }
    return;
  }
  if (LOG) {
    let lt = logTotal(z, s);
    for (var c = first; c < P.cols; c += step) { OUT[base + c] = (X[base + c] - mx) - lt; }
  } else {
    let inv = 1.0 / (z + s);
    for (var c = first; c < P.cols; c += step) { OUT[base + c] = exp1(X[base + c] - mx) * inv; }
  }
}

@compute @workgroup_size(WG)
fn softmax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * nwg.x;
  if (row >= P.rows) { return; }
  let base = row * P.cols;
  var m = LOWEST;
  var z = 0.0;
  var s = 0.0;
  var nan = false;
  for (var c = lid.x; c < P.cols; c += WG) {
    let v = X[base + c];
    nan = nan || isNan(v);
    if (v > m) {
      s = (s + z) * exp1(m - v);
      z = 1.0;
      m = v;
    } else if (v == m) {
      z += 1.0;
    } else {
      s += exp1(v - m);
    }
  }
  wmax[lid.x] = m;
  wz[lid.x] = z;
  wsum[lid.x] = select(s, nanOf(s), nan); // the merges below carry a NaN sum through
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid.x < h) {
      let m1 = wmax[lid.x];
      let m2 = wmax[lid.x + h];
      let z1 = wz[lid.x];
      let z2 = wz[lid.x + h];
      let s1 = wsum[lid.x];
      let s2 = wsum[lid.x + h];
      if (m1 == m2) {
        wz[lid.x] = z1 + z2;
        wsum[lid.x] = s1 + s2;
      } else if (m1 > m2) {
        wsum[lid.x] = s1 + (z2 + s2) * exp1(m2 - m1);
      } else {
        wmax[lid.x] = m2;
        wz[lid.x] = z2;
        wsum[lid.x] = s2 + (z1 + s1) * exp1(m1 - m2);
      }
    }
    workgroupBarrier();
  }
  writeRow(base, lid.x, WG, wmax[0], wz[0], wsum[0]);
}

@compute @workgroup_size(WG)
fn softmax_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = (wg.x + wg.y * nwg.x) * WG + lid.x;
  if (row >= P.rows) { return; }
  let base = row * P.cols;
  let n4 = P.cols / 4u * 4u;
  var m4 = vec4<f32>(LOWEST);
  var a4 = vec4<u32>(0u); // the largest |x| bits: above +inf's if the row holds a NaN
  for (var c = 0u; c < n4; c += 4u) {
    let v = vec4<f32>(X[base + c], X[base + c + 1u], X[base + c + 2u], X[base + c + 3u]);
    m4 = max(m4, v);
    a4 = max(a4, bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu));
  }
  var mx = max(max(m4.x, m4.y), max(m4.z, m4.w));
  var amax = max(max(a4.x, a4.y), max(a4.z, a4.w));
  for (var c = n4; c < P.cols; c++) {
    mx = max(mx, X[base + c]);
    amax = max(amax, bitcast<u32>(X[base + c]) & 0x7fffffffu);
  }
  if (amax > 0x7f800000u || !isFinite(mx)) { // a NaN, or +inf: no sums needed
    writeRow(base, 0u, 1u, mx, 0.0, nanOf(mx));
    return;
  }
  var z4 = vec4<f32>(0.0);
  var s4 = vec4<f32>(0.0);
  for (var c = 0u; c < n4; c += 4u) {
    let v = vec4<f32>(X[base + c], X[base + c + 1u], X[base + c + 2u], X[base + c + 3u]) - mx;
    let top = v == vec4<f32>(0.0);
    z4 += select(vec4<f32>(0.0), vec4<f32>(1.0), top);
    s4 += select(exp1x4(v), vec4<f32>(0.0), top);
  }
  var z = (z4.x + z4.y) + (z4.z + z4.w);
  var s = (s4.x + s4.y) + (s4.z + s4.w);
  for (var c = n4; c < P.cols; c++) {
    let v = X[base + c] - mx;
    if (v == 0.0) { z += 1.0; } else { s += exp1(v); }
  }
  writeRow(base, 0u, 1u, mx, z, s);
}
