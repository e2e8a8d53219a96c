// Depthwise forward (groups = C = O > 1): y[n, oh, ow, c] = act(Σ x · w[kh, kw, 0, c] + b[c]).
// Appended to conv.wgsl's module (src/backends/webgpu/shaders.ts): same ConvDims,
// bindings, invocation() and actF(), so the dispatch differs only in its counts.
//
// conv_forward would give each group (one channel) a vec4 of outputs, three of
// them zero, and read x one channel per pixel. Here an invocation holds 4
// channels × 4 consecutive pixels of one output row, and invocations run
// channels fastest (id = cb + bx · block), so neighbours read neighbouring
// channels of the same pixels. The kernel rows a block reads are clipped once;
// blocks whose taps all lie inside their row (all but the edges) read without
// checks, and at stride 1, dilation 1 across they slide a 4-column window
// (one new load per tap, not four). Lanes past C repeat channel C − 1 (never
// stored). Loads stay scalar: vec4 bindings measured no faster on SwiftShader
// and could not serve the channel tail.

// 4 channels at element offset i: lanes i + d (d = 0, 1, 2, 3, clamped at the tail).
fn dwX(i: u32, d: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(X[i + d.x], X[i + d.y], X[i + d.z], X[i + d.w]);
}

fn dwW(i: u32, d: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(WT[i + d.x], WT[i + d.y], WT[i + d.z], WT[i + d.w]);
}

// dwX at column iw of the row whose column 0 is pixel `row`, or 0 where iw is padding.
fn dwXEdge(row: u32, iw: i32, c0: u32, d: vec4<u32>) -> vec4<f32> {
  if (u32(iw) >= P.W) { return vec4<f32>(0.0); }
  return dwX((row + u32(iw)) * P.C + c0, d);
}

@compute @workgroup_size(WG)
fn conv_depthwise(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let id = invocation(wg, nwg, lid);
  if (id >= P.total) { return; }
  let cb = id % P.bx;
  let blk = id / P.bx;
  let rowBlocks = (P.Wo + 3u) / 4u;
  let nh = blk / rowBlocks;             // n · Ho + oh
  let ow0 = (blk - nh * rowBlocks) * 4u;
  let n = nh / P.Ho;
  let oh = nh - n * P.Ho;
  let c0 = cb * 4u;
  let d = min(vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.C - 1u)) - vec4<u32>(c0);
  // Kernel rows kh with 0 <= ih0 + kh·dh < H.
  let ih0 = i32(oh * P.sh) - i32(P.padTop);
  let dh = i32(P.dh);
  let khLo = u32(max(0, (dh - 1 - ih0) / dh));
  let khHi = u32(clamp((i32(P.H) - ih0 + dh - 1) / dh, 0, i32(P.Kh)));
  // Pixel p, tap kw reads column iwA + p·sw + kw·dw.
  let sw = i32(P.sw);
  let iwA = i32(ow0 * P.sw) - i32(P.padLeft);
  let inside = iwA >= 0 && iwA + 3 * sw + i32((P.Kw - 1u) * P.dw) < i32(P.W);
  let slide = inside && P.sw == 1u && P.dw == 1u;
  let sp = P.sw * P.C;
  let sk = P.dw * P.C;
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  for (var kh = khLo; kh < khHi; kh++) {
    let row = (n * P.H + u32(ih0 + i32(kh) * dh)) * P.W;
    var wi = kh * P.Kw * P.C + c0;
    if (slide) {
      // Columns iwA + kw .. iwA + kw + 3 in x0..x3; the next tap shifts one in.
      var o = (row + u32(iwA)) * P.C + c0;
      var x0 = dwX(o, d); var x1 = dwX(o + P.C, d); var x2 = dwX(o + 2u * P.C, d);
      o += 3u * P.C;
      for (var kw = 0u; kw < P.Kw; kw++) {
        let x3 = dwX(o, d);
        let w = dwW(wi, d);
        a0 += x0 * w; a1 += x1 * w; a2 += x2 * w; a3 += x3 * w;
        x0 = x1; x1 = x2; x2 = x3;
        o += P.C;
        wi += P.C;
      }
    } else if (inside) {
      var o = (row + u32(iwA)) * P.C + c0;
      for (var kw = 0u; kw < P.Kw; kw++) {
        let w = dwW(wi, d);
        a0 += dwX(o, d) * w; a1 += dwX(o + sp, d) * w; a2 += dwX(o + 2u * sp, d) * w; a3 += dwX(o + 3u * sp, d) * w;
        o += sk;
        wi += P.C;
      }
    } else {
      for (var kw = 0u; kw < P.Kw; kw++) {
        let w = dwW(wi, d);
        let iw = iwA + i32(kw * P.dw);
        a0 += dwXEdge(row, iw, c0, d) * w; a1 += dwXEdge(row, iw + sw, c0, d) * w;
        a2 += dwXEdge(row, iw + 2 * sw, c0, d) * w; a3 += dwXEdge(row, iw + 3 * sw, c0, d) * w;
        wi += P.C;
      }
    }
  }
  var b = vec4<f32>(0.0);
  if (HAS_BIAS) { b = vec4<f32>(BIAS[c0 + d.x], BIAS[c0 + d.y], BIAS[c0 + d.z], BIAS[c0 + d.w]); }
  let y0 = (nh * P.Wo + ow0) * P.C + c0;
  let px = mat4x4<f32>(a0, a1, a2, a3); // column p: pixel p's 4 channels
  for (var p = 0u; p < 4u; p++) {
    if (ow0 + p >= P.Wo) { return; }
    let v = px[p] + b;
    for (var c = 0u; c < 4u; c++) {
      if (c0 + c >= P.C) { break; }
      Y[y0 + p * P.C + c] = actF(v[c]);
    }
  }
}
