// Matmul for products the tiles leave idle: few outputs (K long), a thin
// output (M or N tiny) or a short K. No workgroup tiles: each output block of
// 4 rows × 4 columns is computed by KS invocations that split K between them
// (k = ks, ks + KS, ...), reading A and B straight from memory, and whose
// partial sums are added through workgroup memory at the end (one barrier;
// none when KS = 1). A workgroup holds G such blocks, consecutive along N so
// neighbouring invocations read neighbouring columns of B.
//
// Bindings, parameters (tilesN/tilesM count 4×4 blocks here), epilogue,
// prologue and column sums come from matmul-common.wgsl.

override KS: u32 = 16u;  // invocations per block, splitting K
override G: u32 = 4u;    // blocks per workgroup
// Partials per invocation: 16 outputs + 4 column sums. KS = 1 needs no exchange.
override RED: u32 = select(20u * KS * G, 1u, KS == 1u);

var<workgroup> red: array<f32, RED>;

@compute @workgroup_size(KS * G)
fn matmul_small(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
  let g = li / KS;
  let ks = li - g * KS;
  let blk = (wg.x + wg.y * nwg.x) * G + g;
  let t = tileIndex(blk);
  let z = t.x;
  let bm = t.y;
  let row = bm * 4u;
  let col = t.z * 4u;
  // Blocks past the end still reach the barrier below; they add nothing.
  let ok = z < P.batch;
  let sums = SUM_B && bm == 0u;
  let a0 = z * P.strideA;
  let b0 = z * P.strideB;
  // Element offsets of the block's 4 rows of op(A) and 4 columns of op(B) at
  // k = 0, clamped into the matrices: no bounds checks in the K loop (rows and
  // columns past the edge compute values that are never stored).
  let stepA = select(1u, P.M, TRANS_A);
  let stepB = select(P.N, 1u, TRANS_B);
  let ia = rowsA(a0, row);
  let ib = colsB(b0, col);
  var acc: array<vec4<f32>, 4>;
  var bsum = vec4<f32>(0.0);
  if (ok) {
    // Runs of 16 products are summed apart, then added: short f32 chains.
    for (var k0 = ks; k0 < P.K; k0 += 16u * KS) {
      // Explicitly zeroed: an uninitialised var in a loop body kept its value
      // across iterations on SwiftShader.
      var p = array<vec4<f32>, 4>();
      var q = vec4<f32>(0.0);
      let run = min(16u, (P.K - k0 + KS - 1u) / KS);
      for (var j = 0u; j < run; j++) {
        let k = k0 + j * KS;
        let a = gA4(ia + k * stepA);
        let b = gB4(ib + k * stepB);
        p[0] += a.x * b;
        p[1] += a.y * b;
        p[2] += a.z * b;
        p[3] += a.w * b;
        if (SUM_B) { q += b; }
      }
      acc[0] += p[0];
      acc[1] += p[1];
      acc[2] += p[2];
      acc[3] += p[3];
      bsum += q;
    }
  }
  let c0 = z * P.M * P.N;
  if (KS == 1u) {
    // No early return for !ok: it would make the barrier below non-uniform to the analysis.
    if (ok) {
      for (var i = 0u; i < 4u; i++) { storeScalar(c0, row + i, col, acc[i]); }
      if (sums) { storeSums(col, bsum); }
    }
    return;
  }
  // Exchange: partial o of invocation li at red[o * WG + li] (neighbours write
  // neighbours); invocation ks of a block then finishes outputs ks, ks + KS, ...
  let wgSize = KS * G;
  for (var i = 0u; i < 4u; i++) {
    for (var c = 0u; c < 4u; c++) { red[(i * 4u + c) * wgSize + li] = acc[i][c]; }
  }
  if (SUM_B) {
    for (var c = 0u; c < 4u; c++) { red[(16u + c) * wgSize + li] = bsum[c]; }
  }
  workgroupBarrier();
  if (!ok) { return; }
  let outs = select(16u, 20u, sums);
  for (var o = ks; o < outs; o += KS) {
    var s = 0.0;
    for (var j = 0u; j < KS; j++) { s += red[o * wgSize + g * KS + j]; }
    let c = o % 4u;
    if (o >= 16u) {
      if (col + c < P.N) { SUMB[col + c] = s; }
    } else {
      let m = row + o / 4u;
      if (m < P.M && col + c < P.N) {
        var x = s;
        if (HAS_BIAS) { x += BIAS[col + c]; }
        C[c0 + m * P.N + col + c] = act1(x);
      }
    }
  }
}
