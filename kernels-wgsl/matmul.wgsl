// Tiled batched matmul with fused epilogue: C[z] = act(op(A[z]) · op(B[z]) + bias),
// the optional operand prologue and column sums of B (see matmul-common.wgsl,
// prepended with the bindings and helpers used here).
//
// Each workgroup computes a TM×TN tile of C; each invocation an RM×4 register
// block (RM = 4 or 8 rows, one vec4 accumulator per row). K is walked in
// steps of TK through workgroup tiles stored k-major as vec4s:
//   As[k][m/4] (TK × TM/4)   Bs[k][n/4] (TK × TN/4)
// so per k the inner loop reads RM/4 vec4s of A and one of B for 4·RM FMAs.
//
// Two entry points share everything but the global loads and stores:
//   matmul_vec4   array<vec4<f32>> bindings; the host picks it when every
//                 contiguous dimension (A rows, B rows, N) and both batch
//                 strides are multiples of 4, so a vec4 is wholly in or out.
//   matmul_scalar array<f32> bindings, element-wise bounds checks.
// Loads outside the matrices give 0, stores outside are skipped, so any M, N,
// K is correct. Workgroups are linearised (x + y * num_workgroups.x) over
// tilesN × tilesM × batch so that more than 65535 tiles still dispatch.

override TM: u32 = 64u;        // tile rows (multiple of 4)
override TN: u32 = 64u;        // tile columns (multiple of 4)
override TK: u32 = 16u;        // depth of one K step (multiple of 4)
override RM: u32 = 4u;         // rows per invocation: 4 or 8
override WG_X: u32 = TN / 4u;  // invocations across columns
override WG_Y: u32 = TM / RM;  // invocations across rows

var<workgroup> As: array<vec4<f32>, TK * TM / 4u>;
var<workgroup> Bs: array<vec4<f32>, TK * TN / 4u>;

// ---- shared tile logic ----

struct Tile { z: u32, row0: u32, col0: u32, ok: bool }

// The linear workgroup id -> (batch, tile row, tile column). Uniform per workgroup.
fn tileOf(wg: vec3<u32>, nwg: vec3<u32>) -> Tile {
  let t = tileIndex(wg.x + wg.y * nwg.x);
  return Tile(t.x, t.y * TM, t.z * TN, t.x < P.batch);
}

// acc[i] += Σ_k As[k][row i of this thread] * Bs[k][this thread's 4 columns].
// The TK products are summed apart first, then added: two shorter f32
// summation chains instead of one K long (about half the rounding error).
// Accumulators are sized for RM = 8 (the upper half is dead code when RM = 4)
// and only ever indexed by constants, so they stay in registers.
fn macTile(acc: ptr<function, array<vec4<f32>, 8>>, ty: u32, tx: u32) {
  // Zeroed explicitly: see the note on `p` in matmul-small.wgsl.
  var p = array<vec4<f32>, 8>();
  for (var k = 0u; k < TK; k++) {
    let b = Bs[k * (TN / 4u) + tx];
    let a = As[k * (TM / 4u) + ty * (RM / 4u)];
    p[0] += a.x * b;
    p[1] += a.y * b;
    p[2] += a.z * b;
    p[3] += a.w * b;
    if (RM == 8u) {
      let a2 = As[k * (TM / 4u) + ty * 2u + 1u];
      p[4] += a2.x * b;
      p[5] += a2.y * b;
      p[6] += a2.z * b;
      p[7] += a2.w * b;
    }
  }
  (*acc)[0] += p[0];
  (*acc)[1] += p[1];
  (*acc)[2] += p[2];
  (*acc)[3] += p[3];
  if (RM == 8u) {
    (*acc)[4] += p[4];
    (*acc)[5] += p[5];
    (*acc)[6] += p[6];
    (*acc)[7] += p[7];
  }
}

// Column sums of the B tile for this invocation's 4 columns, added to *sum.
// Only the first tile row sums (its workgroups see every k of their columns),
// and of those only the invocations of the first register row.
fn sumTile(sum: ptr<function, vec4<f32>>, t: Tile, ty: u32, tx: u32) {
  if (!SUM_B || t.row0 != 0u || ty != 0u) { return; }
  var p = vec4<f32>(0.0);
  for (var k = 0u; k < TK; k++) { p += Bs[k * (TN / 4u) + tx]; }
  *sum += p;
}

// ---- scalar entry point ----

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_scalar(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = tileOf(wg, nwg);
  if (!t.ok) { return; }
  let li = lid.x + lid.y * WG_X;
  let a0 = t.z * P.strideA;
  let b0 = t.z * P.strideB;
  var acc: array<vec4<f32>, 8>;
  var bsum = vec4<f32>(0.0);
  let steps = (P.K + TK - 1u) / TK;
  for (var s = 0u; s < steps; s++) {
    let k0 = s * TK;
    // One work item = 4 consecutive rows (cols) at one k; consecutive items
    // walk the contiguous dimension so neighbouring invocations read neighbours.
    for (var e = li; e < TK * TM / 4u; e += WG_X * WG_Y) {
      var k: u32; var q: u32;
      if (TRANS_A) { q = e % (TM / 4u); k = e / (TM / 4u); } else { k = e % TK; q = e / TK; }
      let m = t.row0 + q * 4u;
      As[k * (TM / 4u) + q] = vec4<f32>(loadA(a0, m, k0 + k), loadA(a0, m + 1u, k0 + k),
                                        loadA(a0, m + 2u, k0 + k), loadA(a0, m + 3u, k0 + k));
    }
    for (var e = li; e < TK * TN / 4u; e += WG_X * WG_Y) {
      var k: u32; var q: u32;
      if (TRANS_B) { k = e % TK; q = e / TK; } else { q = e % (TN / 4u); k = e / (TN / 4u); }
      let n = t.col0 + q * 4u;
      Bs[k * (TN / 4u) + q] = vec4<f32>(loadB(b0, k0 + k, n), loadB(b0, k0 + k, n + 1u),
                                        loadB(b0, k0 + k, n + 2u), loadB(b0, k0 + k, n + 3u));
    }
    workgroupBarrier();
    macTile(&acc, lid.y, lid.x);
    sumTile(&bsum, t, lid.y, lid.x);
    workgroupBarrier();
  }
  let c0 = t.z * P.M * P.N;
  let row = t.row0 + lid.y * RM;
  let col = t.col0 + lid.x * 4u;
  if (SUM_B && t.row0 == 0u && lid.y == 0u) { storeSums(col, bsum); }
  storeScalar(c0, row, col, acc[0]);
  storeScalar(c0, row + 1u, col, acc[1]);
  storeScalar(c0, row + 2u, col, acc[2]);
  storeScalar(c0, row + 3u, col, acc[3]);
  if (RM == 8u) {
    storeScalar(c0, row + 4u, col, acc[4]);
    storeScalar(c0, row + 5u, col, acc[5]);
    storeScalar(c0, row + 6u, col, acc[6]);
    storeScalar(c0, row + 7u, col, acc[7]);
  }
}

// ---- vec4 entry point ----

// The 4×4 block at (rows r..r+3, 4 contiguous k from k) of a matrix stored
// row-major with `ld` elements per row, transposed into 4 k-major vec4s.
// `src` picks A4 (0) or B4 (1); rows at or past `rows` read as 0.
fn block4(src: u32, base: u32, r: u32, rows: u32, k: u32, ld: u32) -> mat4x4<f32> {
  var v: array<vec4<f32>, 4>;
  if (k < P.K) {
    for (var i = 0u; i < 4u; i++) {
      if (r + i < rows) {
        let at = (base + (r + i) * ld + k) / 4u;
        if (src == 0u) { v[i] = loadA4(at); } else { v[i] = loadB4(at); }
      }
    }
  }
  return transpose(mat4x4<f32>(v[0], v[1], v[2], v[3]));
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = tileOf(wg, nwg);
  if (!t.ok) { return; }
  let li = lid.x + lid.y * WG_X;
  let a0 = t.z * P.strideA;
  let b0 = t.z * P.strideB;
  var acc: array<vec4<f32>, 8>;
  var bsum = vec4<f32>(0.0);
  let steps = (P.K + TK - 1u) / TK;
  for (var s = 0u; s < steps; s++) {
    let k0 = s * TK;
    if (TRANS_A) {
      // A is [K, M]: a vec4 along M is already one k-major vec4 of the tile.
      for (var e = li; e < TK * TM / 4u; e += WG_X * WG_Y) {
        let q = e % (TM / 4u);
        let k = e / (TM / 4u);
        let m = t.row0 + q * 4u;
        var v = vec4<f32>(0.0);
        if (m < P.M && k0 + k < P.K) { v = loadA4((a0 + (k0 + k) * P.M + m) / 4u); }
        As[k * (TM / 4u) + q] = v;
      }
    } else {
      // A is [M, K]: read 4 rows × 4 k, transpose in registers.
      for (var e = li; e < TK * TM / 16u; e += WG_X * WG_Y) {
        let kq = e % (TK / 4u);
        let q = e / (TK / 4u);
        let blk = block4(0u, a0, t.row0 + q * 4u, P.M, k0 + kq * 4u, P.K);
        for (var j = 0u; j < 4u; j++) { As[(kq * 4u + j) * (TM / 4u) + q] = blk[j]; }
      }
    }
    if (TRANS_B) {
      // B is [N, K]: read 4 columns × 4 k, transpose in registers.
      for (var e = li; e < TK * TN / 16u; e += WG_X * WG_Y) {
        let kq = e % (TK / 4u);
        let q = e / (TK / 4u);
        let blk = block4(1u, b0, t.col0 + q * 4u, P.N, k0 + kq * 4u, P.K);
        for (var j = 0u; j < 4u; j++) { Bs[(kq * 4u + j) * (TN / 4u) + q] = blk[j]; }
      }
    } else {
      for (var e = li; e < TK * TN / 4u; e += WG_X * WG_Y) {
        let q = e % (TN / 4u);
        let k = e / (TN / 4u);
        let n = t.col0 + q * 4u;
        var v = vec4<f32>(0.0);
        if (n < P.N && k0 + k < P.K) { v = loadB4((b0 + (k0 + k) * P.N + n) / 4u); }
        Bs[k * (TN / 4u) + q] = v;
      }
    }
    workgroupBarrier();
    macTile(&acc, lid.y, lid.x);
    sumTile(&bsum, t, lid.y, lid.x);
    workgroupBarrier();
  }
  let col = t.col0 + lid.x * 4u;
  if (col >= P.N) { return; }
  if (SUM_B && t.row0 == 0u && lid.y == 0u) { storeSums(col, bsum); }
  var bias = vec4<f32>(0.0);
  if (HAS_BIAS) { bias = BIAS4[col / 4u]; }
  let c0 = t.z * P.M * P.N;
  let row = t.row0 + lid.y * RM;
  storeVec4(c0, row, col, acc[0] + bias);
  storeVec4(c0, row + 1u, col, acc[1] + bias);
  storeVec4(c0, row + 2u, col, acc[2] + bias);
  storeVec4(c0, row + 3u, col, acc[3] + bias);
  if (RM == 8u) {
    storeVec4(c0, row + 4u, col, acc[4] + bias);
    storeVec4(c0, row + 5u, col, acc[5] + bias);
    storeVec4(c0, row + 6u, col, acc[6] + bias);
    storeVec4(c0, row + 7u, col, acc[7] + bias);
  }
}

// N % 4 == 0 here, so col < N means all four columns are inside C.
fn storeVec4(c0: u32, row: u32, col: u32, v: vec4<f32>) {
  if (row < P.M) { C4[(c0 + row * P.N + col) / 4u] = act4(v); }
}
