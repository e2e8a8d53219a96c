// 2-D convolution, NHWC input, HWIO filter, groups: the forward with fused
// bias + activation, the input gradient and the filter gradient (with the
// bias gradient and dZ as by-products). ConvDims and the codes come from
// src/backends/primitives/conv.ts; act / actGrad1 from activations.wgsl
// (prepended: src/backends/webgpu/shaders.ts).
//
// Register blocks without workgroup memory or barriers (the kind a CPU
// adapter such as SwiftShader runs fastest, see matmul-register.wgsl): each
// invocation holds a block of 4 pixels × 4·CN channels in named vec4
// accumulators and walks the reduction itself, so no invocation waits on
// another. Padding is handled per pixel and tap (a padded tap reads 0 from
// a clamped, in-bounds index). Invocations are linearised as
// (x + y · num_workgroups.x) · WG + local index; those past P.total return.
//
//   conv_forward     y[m, o] = act(Σ x · w + b): 4 output pixels × 4·CN outputs of one group
//   conv_data        dx: 4 input pixels × 4·CN input channels; a tap reaches input row ih
//                    only if ih + padTop − kh·dh is a multiple of the stride
//   conv_filter      dW: one tap × 4 input × 4·CN output channels over a chunk of
//                    pixels (partials per chunk when P.chunks > 1); the blocks of tap 0
//                    and input channels 0..3 also sum dZ (the bias gradient) and write it
//   conv_filter_sum  adds the chunks' partials

override WG: u32 = 64u;
override CN: u32 = 1u;          // vec4 column groups per invocation: 1 or 2
override ACT: u32 = 0u;         // an ACT_* code (forward)
override HAS_BIAS: bool = false;
override PRO: u32 = 0u;         // 0, or the BINARY_OPS code of the *_bwd op applied to dy
override HAS_SUMB: bool = false;
override HAS_DZ: bool = false;
override PARTIAL: bool = false; // conv_filter writes partials (P.chunks > 1)

@group(0) @binding(0) var<uniform> P: ConvDims;
// conv_forward
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> WT: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
// conv_data: dy, w, t (prologue), dx
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read> TD: array<f32>;
@group(0) @binding(4) var<storage, read_write> DX: array<f32>;
// conv_filter: x, dy, t, dW (or partials), bias sums (or partials), dZ
@group(0) @binding(2) var<storage, read> FDY: array<f32>;
@group(0) @binding(3) var<storage, read> TF: array<f32>;
@group(0) @binding(4) var<storage, read_write> DW: array<f32>;
@group(0) @binding(5) var<storage, read_write> SUMB: array<f32>;
@group(0) @binding(6) var<storage, read_write> DZ: array<f32>;
// conv_filter_sum: partials of dW, of the bias sums, and the outputs
@group(0) @binding(1) var<storage, read> PART: array<f32>;
@group(0) @binding(2) var<storage, read> PARTB: array<f32>;
@group(0) @binding(3) var<storage, read_write> SDW: array<f32>;
@group(0) @binding(4) var<storage, read_write> SSUMB: array<f32>;

fn invocation(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.x + wg.y * nwg.x) * WG + lid.x;
}

fn actF(v: f32) -> f32 {
  switch ACT {
    case ACT_RELU: { return max(v, 0.0); }
    case ACT_GELU: { return gelu1(v); }
    case ACT_TANH: { return tanh1(v); }
    case ACT_SIGMOID: { return sigmoid1(v); }
    default: { return v; }
  }
}

// 4 filter values w[row, c0 .. c0+3] (row = (tap·Cg + ci)), 0 past the group's Og columns.
fn wRow(row: u32, grp: u32, c0: u32) -> vec4<f32> {
  let base = row * P.O + grp * P.Og;
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (c0 + c < P.Og) { v[c] = WT[base + c0 + c]; }
  }
  return v;
}

// Output pixel m as (n, oh, ow).
fn pixelOut(m: u32) -> vec3<u32> {
  let hw = P.Ho * P.Wo;
  let n = m / hw;
  let r = m - n * hw;
  let oh = r / P.Wo;
  return vec3<u32>(n, oh, r - oh * P.Wo);
}

// The x offset of pixel (n, ih, iw) at the group's channel 0, or -1 where (ih, iw) is padding.
fn xAt(n: u32, ih: i32, iw: i32, grp: u32) -> i32 {
  if (ih < 0 || iw < 0 || ih >= i32(P.H) || iw >= i32(P.W)) { return -1; }
  return i32(((n * P.H + u32(ih)) * P.W + u32(iw)) * P.C + grp * P.Cg);
}

fn xv(at: i32, ci: u32) -> f32 {
  return select(0.0, X[u32(max(at, 0)) + ci], at >= 0);
}

@compute @workgroup_size(WG)
fn conv_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let id = invocation(wg, nwg, lid);
  if (id >= P.total) { return; }
  let cb = id % P.bx;
  let rest = id / P.bx;
  let pixBlocks = (P.M + 3u) / 4u;
  let pb = rest % pixBlocks;
  let grp = rest / pixBlocks;
  let c0 = cb * 4u * CN;
  let m0 = pb * 4u;
  // Pixels past M repeat the last one (never stored).
  let q0 = pixelOut(min(m0, P.M - 1u));
  let q1 = pixelOut(min(m0 + 1u, P.M - 1u));
  let q2 = pixelOut(min(m0 + 2u, P.M - 1u));
  let q3 = pixelOut(min(m0 + 3u, P.M - 1u));
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var b0 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
  for (var kh = 0u; kh < P.Kh; kh++) {
    let dh = i32(kh * P.dh) - i32(P.padTop);
    for (var kw = 0u; kw < P.Kw; kw++) {
      let dw = i32(kw * P.dw) - i32(P.padLeft);
      let x0 = xAt(q0.x, i32(q0.y * P.sh) + dh, i32(q0.z * P.sw) + dw, grp);
      let x1 = xAt(q1.x, i32(q1.y * P.sh) + dh, i32(q1.z * P.sw) + dw, grp);
      let x2 = xAt(q2.x, i32(q2.y * P.sh) + dh, i32(q2.z * P.sw) + dw, grp);
      let x3 = xAt(q3.x, i32(q3.y * P.sh) + dh, i32(q3.z * P.sw) + dw, grp);
      if (x0 < 0 && x1 < 0 && x2 < 0 && x3 < 0) { continue; }
      let row0 = (kh * P.Kw + kw) * P.Cg;
      for (var ci = 0u; ci < P.Cg; ci++) {
        let w = wRow(row0 + ci, grp, c0);
        let v = vec4<f32>(xv(x0, ci), xv(x1, ci), xv(x2, ci), xv(x3, ci));
        a0 += v.x * w; a1 += v.y * w; a2 += v.z * w; a3 += v.w * w;
        if (CN == 2u) {
          let u = wRow(row0 + ci, grp, c0 + 4u);
          b0 += v.x * u; b1 += v.y * u; b2 += v.z * u; b3 += v.w * u;
        }
      }
    }
  }
  storeOut(m0, grp, c0, a0, a1, a2, a3);
  if (CN == 2u) { storeOut(m0, grp, c0 + 4u, b0, b1, b2, b3); }
}

fn storeOut(m0: u32, grp: u32, c0: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>) {
  let rows = mat4x4<f32>(a0, a1, a2, a3);
  for (var r = 0u; r < 4u; r++) {
    if (m0 + r >= P.M) { return; }
    for (var c = 0u; c < 4u; c++) {
      if (c0 + c >= P.Og) { break; }
      let o = grp * P.Og + c0 + c;
      var v = rows[r][c];
      if (HAS_BIAS) { v += BIAS[o]; }
      Y[(m0 + r) * P.O + o] = actF(v);
    }
  }
}

// ---- input gradient ----

// dy[i], read through the prologue.
fn dyAt(i: u32) -> f32 {
  if (PRO != 0u) { return actGrad1(PRO, TD[i], DY[i]); }
  return DY[i];
}

// 4 filter values w[tap, ci0 .. ci0+3, o] (0 past the group's Cg input channels).
fn wCol(tap: u32, ci0: u32, grp: u32, o: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (ci0 + c < P.Cg) { v[c] = WT[(tap * P.Cg + ci0 + c) * P.O + grp * P.Og + o]; }
  }
  return v;
}

// The dy offset (at the group's channel 0) that tap (kh, kw) sends to input pixel (n, ih, iw), or -1.
fn dyAt4(n: u32, ih: u32, iw: u32, kh: u32, kw: u32, grp: u32) -> i32 {
  let nh = i32(ih + P.padTop) - i32(kh * P.dh);
  let nw = i32(iw + P.padLeft) - i32(kw * P.dw);
  if (nh < 0 || nw < 0) { return -1; }
  let oh = u32(nh) / P.sh;
  let ow = u32(nw) / P.sw;
  if (oh * P.sh != u32(nh) || ow * P.sw != u32(nw) || oh >= P.Ho || ow >= P.Wo) { return -1; }
  return i32(((n * P.Ho + oh) * P.Wo + ow) * P.O + grp * P.Og);
}

fn dyv(at: i32, o: u32) -> f32 {
  return select(0.0, dyAt(u32(max(at, 0)) + o), at >= 0);
}

// Input pixel m as (n, ih, iw).
fn pixelIn(m: u32) -> vec3<u32> {
  let hw = P.H * P.W;
  let n = m / hw;
  let r = m - n * hw;
  let ih = r / P.W;
  return vec3<u32>(n, ih, r - ih * P.W);
}

@compute @workgroup_size(WG)
fn conv_data(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_id) lid: vec3<u32>) {
  let id = invocation(wg, nwg, lid);
  if (id >= P.total) { return; }
  let cb = id % P.bx;
  let rest = id / P.bx;
  let pixels = P.N * P.H * P.W;
  let pixBlocks = (pixels + 3u) / 4u;
  let pb = rest % pixBlocks;
  let grp = rest / pixBlocks;
  let c0 = cb * 4u * CN;
  let m0 = pb * 4u;
  let q0 = pixelIn(min(m0, pixels - 1u));
  let q1 = pixelIn(min(m0 + 1u, pixels - 1u));
  let q2 = pixelIn(min(m0 + 2u, pixels - 1u));
  let q3 = pixelIn(min(m0 + 3u, pixels - 1u));
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var b0 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
  for (var kh = 0u; kh < P.Kh; kh++) {
    for (var kw = 0u; kw < P.Kw; kw++) {
      let y0 = dyAt4(q0.x, q0.y, q0.z, kh, kw, grp);
      let y1 = dyAt4(q1.x, q1.y, q1.z, kh, kw, grp);
      let y2 = dyAt4(q2.x, q2.y, q2.z, kh, kw, grp);
      let y3 = dyAt4(q3.x, q3.y, q3.z, kh, kw, grp);
      if (y0 < 0 && y1 < 0 && y2 < 0 && y3 < 0) { continue; }
      let tap = kh * P.Kw + kw;
      for (var o = 0u; o < P.Og; o++) {
        let w = wCol(tap, c0, grp, o);
        let v = vec4<f32>(dyv(y0, o), dyv(y1, o), dyv(y2, o), dyv(y3, o));
        a0 += v.x * w; a1 += v.y * w; a2 += v.z * w; a3 += v.w * w;
        if (CN == 2u) {
          let u = wCol(tap, c0 + 4u, grp, o);
          b0 += v.x * u; b1 += v.y * u; b2 += v.z * u; b3 += v.w * u;
        }
      }
    }
  }
  storeDx(m0, pixels, grp, c0, a0, a1, a2, a3);
  if (CN == 2u) { storeDx(m0, pixels, grp, c0 + 4u, b0, b1, b2, b3); }
}

fn storeDx(m0: u32, pixels: u32, grp: u32, c0: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>) {
  let rows = mat4x4<f32>(a0, a1, a2, a3);
  for (var r = 0u; r < 4u; r++) {
    if (m0 + r >= pixels) { return; }
    for (var c = 0u; c < 4u; c++) {
      if (c0 + c >= P.Cg) { break; }
      DX[(m0 + r) * P.C + grp * P.Cg + c0 + c] = rows[r][c];
    }
  }
}

// ---- filter gradient ----

// dZ = op(t, dy) at element i.
fn dzAt(i: u32) -> f32 {
  if (PRO != 0u) { return actGrad1(PRO, TF[i], FDY[i]); }
  return FDY[i];
}

@compute @workgroup_size(WG)
fn conv_filter(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let id = invocation(wg, nwg, lid);
  if (id >= P.total) { return; }
  // id = ((chunk · G + grp) · T + tap) · ciBlocks · bx + ciBlock · bx + colBlock
  let cb = id % P.bx;
  var rest = id / P.bx;
  let ciBlocks = max(1u, (P.Cg + 3u) / 4u);
  let ib = rest % ciBlocks;
  rest /= ciBlocks;
  let T = P.Kh * P.Kw;
  let tap = rest % T;
  rest /= T;
  let grp = rest % P.groups;
  let chunk = rest / P.groups;
  let kh = tap / P.Kw;
  let kw = tap - kh * P.Kw;
  let c0 = cb * 4u * CN;
  let i0 = ib * 4u;
  let mA = chunk * P.chunk;
  let mB = min(mA + P.chunk, P.M);
  // The blocks of tap 0 and input channels 0..3 see every pixel's dZ: they also sum and store it.
  let lead = tap == 0u && ib == 0u;
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var b0 = vec4<f32>(0.0); var b1 = vec4<f32>(0.0); var b2 = vec4<f32>(0.0); var b3 = vec4<f32>(0.0);
  var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0);
  var q = pixelOut(min(mA, P.M - 1u));
  for (var m = mA; m < mB; m++) {
    let ih = i32(q.y * P.sh + kh * P.dh) - i32(P.padTop);
    let iw = i32(q.z * P.sw + kw * P.dw) - i32(P.padLeft);
    let xa = xAt(q.x, ih, iw, grp);
    let yo = m * P.O + grp * P.Og;
    var z = vec4<f32>(0.0);
    var z2 = vec4<f32>(0.0);
    for (var c = 0u; c < 4u; c++) {
      if (c0 + c < P.Og) { z[c] = dzAt(yo + c0 + c); }
      if (CN == 2u && c0 + 4u + c < P.Og) { z2[c] = dzAt(yo + c0 + 4u + c); }
    }
    if (lead) {
      s0 += z;
      s1 += z2;
      if (HAS_DZ) {
        for (var c = 0u; c < 4u; c++) {
          if (c0 + c < P.Og) { DZ[yo + c0 + c] = z[c]; }
          if (CN == 2u && c0 + 4u + c < P.Og) { DZ[yo + c0 + 4u + c] = z2[c]; }
        }
      }
    }
    if (xa >= 0) {
      var v = vec4<f32>(0.0);
      for (var c = 0u; c < 4u; c++) {
        if (i0 + c < P.Cg) { v[c] = X[u32(xa) + i0 + c]; }
      }
      a0 += v.x * z; a1 += v.y * z; a2 += v.z * z; a3 += v.w * z;
      if (CN == 2u) { b0 += v.x * z2; b1 += v.y * z2; b2 += v.z * z2; b3 += v.w * z2; }
    }
    // The next pixel.
    q.z += 1u;
    if (q.z == P.Wo) { q.z = 0u; q.y += 1u; if (q.y == P.Ho) { q.y = 0u; q.x += 1u; } }
  }
  let dwSize = T * P.Cg * P.O;
  let base = select(0u, chunk * dwSize, PARTIAL);
  storeDw(base, tap, i0, grp, c0, a0, a1, a2, a3);
  if (CN == 2u) { storeDw(base, tap, i0, grp, c0 + 4u, b0, b1, b2, b3); }
  if (lead && HAS_SUMB) {
    let sb = select(0u, chunk * P.O, PARTIAL);
    for (var c = 0u; c < 4u; c++) {
      if (c0 + c < P.Og) { SUMB[sb + grp * P.Og + c0 + c] = s0[c]; }
      if (CN == 2u && c0 + 4u + c < P.Og) { SUMB[sb + grp * P.Og + c0 + 4u + c] = s1[c]; }
    }
  }
}

fn storeDw(base: u32, tap: u32, i0: u32, grp: u32, c0: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>) {
  let rows = mat4x4<f32>(a0, a1, a2, a3);
  for (var r = 0u; r < 4u; r++) {
    if (i0 + r >= P.Cg) { return; }
    for (var c = 0u; c < 4u; c++) {
      if (c0 + c >= P.Og) { break; }
      DW[base + (tap * P.Cg + i0 + r) * P.O + grp * P.Og + c0 + c] = rows[r][c];
    }
  }
}

// dW[i] = Σ over chunks of the partials (P.total = dW size + O: the bias sums follow).
@compute @workgroup_size(WG)
fn conv_filter_sum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let id = invocation(wg, nwg, lid);
  if (id >= P.total) { return; }
  let n = P.total - select(0u, P.O, HAS_SUMB);
  var s = 0.0;
  if (id < n) {
    for (var c = 0u; c < P.chunks; c++) { s += PART[c * n + id]; }
    SDW[id] = s;
  } else {
    let o = id - n;
    for (var c = 0u; c < P.chunks; c++) { s += PARTB[c * P.O + o]; }
    SSUMB[o] = s;
  }
}
