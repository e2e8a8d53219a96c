// Softmax cross-entropy against class ids, fused; no probability tensor kept.
//
// xent_forward: one workgroup per row (linearised past 65535 rows). Each
// invocation keeps an online (max, z, s) over its strided slice (z counts the
// entries equal to the max, s sums e^(x − max) of the others), merged by one
// tree, as softmax.wgsl. loss = (max − x_t) + log(z + s), the log formed as
// log z + log1p(s / z) so a confident row's tiny loss keeps its precision.
// LSE gets two floats per row, max and log(z + s), so that the backward's
// e^((x − max) − l) rounds like the softmax kernel's.
//
// xent_backward: one invocation per element, dx = scale·g_r·(p − [c = t_r]),
// p recomputed from the logits and the saved pair.
//
// Special values, as PyTorch: a row holding a NaN or a +inf, or only −inf,
// is NaN (loss and gradient); a −inf logit elsewhere has p = 0 (and a −inf
// target logit an infinite loss). NaNs are found on the bits (ieee.wgsl).
// Class ids come unchecked only from a Tensor on this device (src/integers.ts):
// a row whose id is not an integer in [0, cols) is NaN, never a read elsewhere.
//
// PyTorch's ignore_index and label_smoothing (XentOptions): a row whose id is
// P.ignore (when P.hasIgnore) has loss 0 and gradient 0 (NaN where its softmax
// is NaN, as PyTorch's log_softmax backward gives). Smoothing ε makes the
// target q = (1 − ε)·onehot + ε/cols: loss = l + (1 − ε)(max − x_t) +
// ε(max − mean x), three non-negative terms (the forward also sums the row);
// dx = scale·g_r·(p − q). ε = 0 takes the plain expressions, bit for bit.

override WG: u32 = 64u;   // power of two

@group(0) @binding(0) var<uniform> P: XentDims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<f32>;
@group(0) @binding(3) var<storage, read_write> LOSS: array<f32>;
@group(0) @binding(4) var<storage, read_write> LSE: array<f32>;
@group(0) @binding(3) var<storage, read> BLSE: array<f32>;
@group(0) @binding(4) var<storage, read> G: array<f32>;
@group(0) @binding(5) var<storage, read_write> DX: array<f32>;

var<workgroup> wmax: array<f32, WG>;
var<workgroup> wz: array<f32, WG>;
var<workgroup> wsum: array<f32, WG>;
var<workgroup> wsx: array<f32, WG>;

const LOWEST: f32 = -0x1.fffffep+127f;

// The row's class id, or −1 where it is NaN, not an integer, or out of [0, cols).
fn classOf(row: u32) -> i32 {
  let v = T[row];
  if (isNan(v) || !(v >= 0.0) || !(v < f32(P.cols)) || floor(v) != v) { return -1; }
  return i32(v);
}

// Whether the row's id is the ignored one (never for a NaN id).
fn ignored(row: u32) -> bool {
  let v = T[row];
  return P.hasIgnore != 0u && !isNan(v) && v == f32(P.ignore);
}

fn log1pPos(x: f32) -> f32 {
  if (x >= 0.5) { return log1(1.0 + x); }
  return log1pSmall(x);
}

@compute @workgroup_size(WG)
fn xent_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.x + wg.y * nwg.x;
  if (row >= P.rows) { return; }
  let base = row * P.cols;
  var m = LOWEST;
  var z = 0.0;
  var s = 0.0;
  var sx = 0.0;
  var nan = false;
  for (var c = lid.x; c < P.cols; c += WG) {
    let v = X[base + c];
    sx += v;
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
  wsum[lid.x] = select(s, nanOf(s), nan);
  wsx[lid.x] = sx;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid.x < h) {
      wsx[lid.x] = wsx[lid.x] + wsx[lid.x + h];
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
  if (lid.x != 0u) { return; }
  let mx = wmax[0];
  let zz = wz[0];
  let ss = wsum[0];
  let t = classOf(row);
  let skip = ignored(row);
  if (isNan(ss) || !isFinite(mx) || !(zz >= 1.0) || (t < 0 && !skip)) {
    let q = nanOf(ss);
    LOSS[row] = select(q, 0.0, skip);
    LSE[2u * row] = q;
    LSE[2u * row + 1u] = q;
    return;
  }
  let l = select(log1(zz), 0.0, zz == 1.0) + log1pPos(ss / zz);
  LSE[2u * row] = mx;
  LSE[2u * row + 1u] = l;
  if (skip) {
    LOSS[row] = 0.0;
  } else if (P.smoothing > 0.0) {
    let e = P.smoothing;
    LOSS[row] = (l + (1.0 - e) * (mx - X[base + u32(t)])) + e * (mx - wsx[0] / f32(P.cols));
  } else {
    LOSS[row] = (mx - X[base + u32(t)]) + l;
  }
}

@compute @workgroup_size(WG)
fn xent_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = (wg.x + wg.y * nwg.x) * WG + lid.x;
  if (e >= P.rows * P.cols) { return; }
  let r = e / P.cols;
  let c = e - r * P.cols;
  let t = classOf(r);
  let p = exp1((X[e] - BLSE[2u * r]) - BLSE[2u * r + 1u]);
  if (ignored(r)) {
    DX[e] = select(0.0, nanOf(p), isNan(p));
    return;
  }
  let q = select(0.0, 1.0 - P.smoothing, i32(c) == t) + P.smoothing / f32(P.cols);
  DX[e] = select((P.scale * G[r * P.gStride]) * (p - q), nanOf(0.0), t < 0);
}
