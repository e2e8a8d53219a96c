// Max and average pooling over NHWC tensors, forward and backward: one
// invocation per output element (forward) or input element (backward,
// gathering over the windows that hold it: no two invocations write one
// element). PoolDims comes from src/backends/primitives/pool.ts. Max (taps
// dh, dw apart; average pooling runs with 1): the
// first maximum of a window wins ties, a NaN wins over any number and is
// never replaced (NaN propagates); IDX receives the winner's window position
// kh·Kw + kw. Invocations are linearised as (x + y · num_workgroups.x) · WG + local index.

override WG: u32 = 256u;
override HAS_IDX: bool = false;

@group(0) @binding(0) var<uniform> P: PoolDims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(3) var<storage, read_write> IDX: array<f32>;
// Backward: dy, the argmax (max only), dx.
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> ARG: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;
@group(0) @binding(2) var<storage, read_write> ADX: array<f32>;

fn invocation(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.x + wg.y * nwg.x) * WG + lid.x;
}

// Element i of an [N, rows, cols, C] tensor as (n, row, col, c).
fn split(i: u32, rows: u32, cols: u32) -> vec4<u32> {
  let c = i % P.C;
  let p = i / P.C;
  let col = p % cols;
  let q = p / cols;
  return vec4<u32>(q / rows, q % rows, col, c);
}

@compute @workgroup_size(WG)
fn max_pool(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = invocation(wg, nwg, lid);
  if (i >= P.total) { return; }
  let e = split(i, P.Ho, P.Wo);
  let ih0 = i32(e.y * P.sh) - i32(P.padTop);
  let iw0 = i32(e.z * P.sw) - i32(P.padLeft);
  // No -inf start value (WGSL rejects an infinite constant): the first real input is taken as it is.
  var best = 0.0;
  var at = -1.0;
  for (var kh = 0u; kh < P.Kh; kh++) {
    let ih = ih0 + i32(kh * P.dh);
    if (ih < 0 || ih >= i32(P.H)) { continue; }
    for (var kw = 0u; kw < P.Kw; kw++) {
      let iw = iw0 + i32(kw * P.dw);
      if (iw < 0 || iw >= i32(P.W)) { continue; }
      let v = X[((e.x * P.H + u32(ih)) * P.W + u32(iw)) * P.C + e.w];
      if (at < 0.0 || v > best || (isNan(v) && !isNan(best))) {
        best = v;
        at = f32(kh * P.Kw + kw);
      }
    }
  }
  // A dilated window whose taps all fall on padding holds no input: −inf, as PyTorch.
  if (at < 0.0) { best = negInf(); }
  OUT[i] = best;
  if (HAS_IDX) { IDX[i] = at; }
}


// Output rows (columns) whose window holds input row i: [lo, hi).
fn windows(i: u32, pad: u32, K: u32, s: u32, outs: u32) -> vec2<u32> {
  let a = i32(i + pad) - i32(K) + 1;
  let lo = select(u32(a + i32(s) - 1) / s, 0u, a <= 0);
  let hi = min(outs, (i + pad) / s + 1u);
  return vec2<u32>(lo, hi);
}

@compute @workgroup_size(WG)
fn max_pool_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = invocation(wg, nwg, lid);
  if (i >= P.total) { return; }
  let e = split(i, P.H, P.W);
  // Windows span (K − 1)·d + 1 rows; a dilated one holds this row only on one of its taps.
  let rh = windows(e.y, P.padTop, (P.Kh - 1u) * P.dh + 1u, P.sh, P.Ho);
  let rw = windows(e.z, P.padLeft, (P.Kw - 1u) * P.dw + 1u, P.sw, P.Wo);
  var acc = 0.0;
  for (var oh = rh.x; oh < rh.y; oh++) {
    let th = e.y + P.padTop - oh * P.sh;
    if (th % P.dh != 0u) { continue; }
    for (var ow = rw.x; ow < rw.y; ow++) {
      let tw = e.z + P.padLeft - ow * P.sw;
      if (tw % P.dw != 0u) { continue; }
      let o = ((e.x * P.Ho + oh) * P.Wo + ow) * P.C + e.w;
      let pos = f32((th / P.dh) * P.Kw + tw / P.dw);
      if (ARG[o] == pos) { acc += DY[o]; }
    }
  }
  DX[i] = acc;
}

// The divisor of window (oh, ow): the part of it inside the padded input
// (Kh·Kw but in ceil mode's last windows), or its count of real inputs.
fn count(oh: u32, ow: u32) -> f32 {
  let ih0 = i32(oh * P.sh) - i32(P.padTop);
  let iw0 = i32(ow * P.sw) - i32(P.padLeft);
  if (P.includePad != 0u) {
    return f32((min(ih0 + i32(P.Kh), i32(P.H + P.padTop)) - ih0) * (min(iw0 + i32(P.Kw), i32(P.W + P.padLeft)) - iw0));
  }
  let rows = min(ih0 + i32(P.Kh), i32(P.H)) - max(ih0, 0);
  let cols = min(iw0 + i32(P.Kw), i32(P.W)) - max(iw0, 0);
  return f32(rows * cols);
}

@compute @workgroup_size(WG)
fn avg_pool(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = invocation(wg, nwg, lid);
  if (i >= P.total) { return; }
  let e = split(i, P.Ho, P.Wo);
  let ih0 = i32(e.y * P.sh) - i32(P.padTop);
  let iw0 = i32(e.z * P.sw) - i32(P.padLeft);
  var s = 0.0;
  for (var kh = 0u; kh < P.Kh; kh++) {
    let ih = ih0 + i32(kh);
    if (ih < 0 || ih >= i32(P.H)) { continue; }
    for (var kw = 0u; kw < P.Kw; kw++) {
      let iw = iw0 + i32(kw);
      if (iw < 0 || iw >= i32(P.W)) { continue; }
      s += X[((e.x * P.H + u32(ih)) * P.W + u32(iw)) * P.C + e.w];
    }
  }
  OUT[i] = s / count(e.y, e.z);
}

@compute @workgroup_size(WG)
fn avg_pool_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = invocation(wg, nwg, lid);
  if (i >= P.total) { return; }
  let e = split(i, P.H, P.W);
  let rh = windows(e.y, P.padTop, P.Kh, P.sh, P.Ho);
  let rw = windows(e.z, P.padLeft, P.Kw, P.sw, P.Wo);
  var acc = 0.0;
  for (var oh = rh.x; oh < rh.y; oh++) {
    for (var ow = rw.x; ow < rw.y; ow++) {
      acc += DY[((e.x * P.Ho + oh) * P.Wo + ow) * P.C + e.w] / count(oh, ow);
    }
  }
  ADX[i] = acc;
}
