// Softmax / log-softmax over contiguous rows of length `cols`; one workgroup
// per row (linearised past 65535 rows).
//
// Each invocation keeps an online (max, sum of exp(x - max)) pair over its
// strided slice of the row, rescaling the sum when the max grows; the pairs
// are then merged by one tree in workgroup memory. One tree instead of two
// (max, then sum) halves the barriers, which are the slow part on CPU drivers.

override WG: u32 = 256u;   // power of two
override LOG: bool = false;

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

var<workgroup> wmax: array<f32, WG>;
var<workgroup> wsum: array<f32, WG>;

const LOWEST: f32 = -0x1.fffffep+127f;

@compute @workgroup_size(WG)
fn softmax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * nwg.x;
  if (row >= P.rows) { return; }
  let base = row * P.cols;
  var m = LOWEST;
  var s = 0.0;
  for (var c = lid.x; c < P.cols; c += WG) {
    let v = X[base + c];
    if (v > m) { s = s * exp(m - v) + 1.0; m = v; } else { s += exp(v - m); }
  }
  wmax[lid.x] = m;
  wsum[lid.x] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid.x < h) {
      let m1 = wmax[lid.x];
      let m2 = wmax[lid.x + h];
      let mm = max(m1, m2);
      wsum[lid.x] = wsum[lid.x] * exp(m1 - mm) + wsum[lid.x + h] * exp(m2 - mm);
      wmax[lid.x] = mm;
    }
    workgroupBarrier();
  }
  let mx = wmax[0];
  let total = wsum[0];
  if (LOG) {
    let ls = log(total);
    for (var c = lid.x; c < P.cols; c += WG) { OUT[base + c] = (X[base + c] - mx) - ls; }
  } else {
    let inv = 1.0 / total;
    for (var c = lid.x; c < P.cols; c += WG) { OUT[base + c] = exp(X[base + c] - mx) * inv; }
  }
}
