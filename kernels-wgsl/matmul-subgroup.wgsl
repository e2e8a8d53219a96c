// Register-blocked matmul for CPU adapters with subgroups of 4 (SwiftShader),
// without workgroup memory or barriers: C[z] = act(op(A[z]) · op(B[z]) + bias)
// with the prologue and column sums of matmul-common.wgsl. src/backends/webgpu/shaders.ts
// prepends `enable subgroups;`, activations.wgsl and matmul-common.wgsl.
//
// Why: SwiftShader runs 4 invocations as the lanes of one SIMD register and
// turns every load with a computed index into 4 scalar loads (a gather), so
// on it a load costs several times a multiply-add, and registers spilled to
// the stack cost little in comparison. Here the 4 lanes of a subgroup share
// one block of RM rows × 16·CN columns: each lane owns CN groups of 4 columns
// and reads its own part of op(B); op(A) is read once per subgroup (lane l
// reads rows l, l + 4, ...) and passed around with subgroupBroadcast, which
// SwiftShader does in registers. Per 4 steps of k a lane gathers RM + 16·CN
// values for 16·RM·CN multiply-adds: the larger the block, the fewer loads
// per multiply-add (32×64 blocks ran about 1.5x faster than 8×16 on
// 512³-1024³, though most accumulators then live on the stack).
//
// Accumulators are 4×4 blocks held as mat4x4 values (column i = row i of the
// block): a Row holds one group of 4 rows across the CN column groups, an Acc
// the RM / 4 row groups. Both are only ever indexed by constants (a private
// array indexed in a loop would live in memory); groups beyond RM / 4 and CN
// are dead code, removed once the overrides are fixed.
//
// The host picks this module only where every subgroup has exactly 4
// invocations, made of consecutive local invocation indices (SwiftShader's
// SIMD width), and checks it in the kernel tests.
//
// Two entry points, like matmul.wgsl:
//   matmul_sg_vec4    vec4 loads along each operand's contiguous dimension
//                     (fewer index computations); the host picks it when every
//                     contiguous dimension and both batch strides are
//                     multiples of 4.
//   matmul_sg_scalar  scalar loads with element strides: any layout and shape.
// Rows and columns past the edge are clamped into the matrices (no checks in
// the K loop) and never stored. Only whole workgroups return early:
// subgroupBroadcast needs uniform control flow, so lanes outside C compute
// clamped values too.
// Workgroups (SX × SY subgroups) lie along tilesN × tilesM × batch,
// linearised as x + y · num_workgroups.x.

override RM: u32 = 8u;  // rows per subgroup block: 4, 8, 16 or 32
override CN: u32 = 1u;  // groups of 4 columns per lane: 1, 2 or 4
override SX: u32 = 4u;  // subgroups across columns in a workgroup
override SY: u32 = 4u;  // subgroups across rows
override RG: u32 = RM / 4u;

// A 4×4 block of outputs over 4 steps of k: a = 4 rows × 4 k, b = 4 k × 4 columns.
fn mac4(c: mat4x4<f32>, a: mat4x4<f32>, b: mat4x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(mac(c[0], a[0], b), mac(c[1], a[1], b), mac(c[2], a[2], b), mac(c[3], a[3], b));
}

// One step of k: a = the 4 rows at k, b = the 4 columns at k.
fn mac1(c: mat4x4<f32>, a: vec4<f32>, b: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(c[0] + a.x * b, c[1] + a.y * b, c[2] + a.z * b, c[3] + a.w * b);
}

// Σ over the 4 k-rows of b: column sums of op(B).
fn colSum(b: mat4x4<f32>) -> vec4<f32> { return (b[0] + b[1]) + (b[2] + b[3]); }

// Lane i's v as column i: with v = 4 values of one row of op(A) per lane,
// column i holds row i's values.
fn share(v: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}

// Lane i's scalar x as component i.
fn share1(x: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(x, 0u), subgroupBroadcast(x, 1u), subgroupBroadcast(x, 2u), subgroupBroadcast(x, 3u));
}

// The workgroup's linear index (uniform: the batch test on it keeps control flow uniform).
fn groupIndex(wg: vec3<u32>, nwg: vec3<u32>) -> u32 { return wg.x + wg.y * nwg.x; }

// Of workgroup `id`: the batch, the subgroup's first row and this lane's first column.
fn blockOf(id: u32, li: u32, lane: u32) -> vec3<u32> {
  let t = tileIndex(id);
  let sg = li / 4u;
  let row = (t.y * SY + sg / SX) * RM;
  let col = (t.z * SX + sg % SX) * 16u * CN + lane * 4u;
  return vec3<u32>(t.x, row, col);
}

// One group of 4 rows of the lane's outputs: columns col + 16j.. in cj.
struct Row { c0: mat4x4<f32>, c1: mat4x4<f32>, c2: mat4x4<f32>, c3: mat4x4<f32> }

// The lane's accumulators: row group g (rows row + 4g..) in gg; s* the column sums of op(B).
struct Acc {
  g0: Row, g1: Row, g2: Row, g3: Row, g4: Row, g5: Row, g6: Row, g7: Row,
  s0: vec4<f32>, s1: vec4<f32>, s2: vec4<f32>, s3: vec4<f32>,
}

// A row group over 4 steps of k: a = its 4 rows × 4 k, bj = 4 k × column group j.
fn macRow(r: Row, a: mat4x4<f32>, b0: mat4x4<f32>, b1: mat4x4<f32>, b2: mat4x4<f32>, b3: mat4x4<f32>) -> Row {
  var o = r;
  o.c0 = mac4(r.c0, a, b0);
  if (CN >= 2u) { o.c1 = mac4(r.c1, a, b1); }
  if (CN == 4u) { o.c2 = mac4(r.c2, a, b2); o.c3 = mac4(r.c3, a, b3); }
  return o;
}

// A row group over one step of k: a = its 4 rows, bj = column group j.
fn macRow1(r: Row, a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) -> Row {
  var o = r;
  o.c0 = mac1(r.c0, a, b0);
  if (CN >= 2u) { o.c1 = mac1(r.c1, a, b1); }
  if (CN == 4u) { o.c2 = mac1(r.c2, a, b2); o.c3 = mac1(r.c3, a, b3); }
  return o;
}

// C[row.., col..] = act(c + bias) for a 4×4 block, inside C only.
fn storeBlock(cz: u32, row: u32, col: u32, c: mat4x4<f32>) {
  storeScalar(cz, row, col, c[0]); storeScalar(cz, row + 1u, col, c[1]);
  storeScalar(cz, row + 2u, col, c[2]); storeScalar(cz, row + 3u, col, c[3]);
}

fn storeRow(cz: u32, row: u32, col: u32, r: Row) {
  storeBlock(cz, row, col, r.c0);
  if (CN >= 2u) { storeBlock(cz, row, col + 16u, r.c1); }
  if (CN == 4u) { storeBlock(cz, row, col + 32u, r.c2); storeBlock(cz, row, col + 48u, r.c3); }
}

// Column sums (by the subgroups of block row 0, which have seen every k of
// their columns) and the outputs with bias and activation.
fn finish(z: u32, row: u32, col: u32, r: Acc) {
  let cz = z * P.M * P.N;
  if (SUM_B && row == 0u) {
    storeSums(col, r.s0);
    if (CN >= 2u) { storeSums(col + 16u, r.s1); }
    if (CN == 4u) { storeSums(col + 32u, r.s2); storeSums(col + 48u, r.s3); }
  }
  storeRow(cz, row, col, r.g0);
  if (RG >= 2u) { storeRow(cz, row + 4u, col, r.g1); }
  if (RG >= 4u) { storeRow(cz, row + 8u, col, r.g2); storeRow(cz, row + 12u, col, r.g3); }
  if (RG == 8u) {
    storeRow(cz, row + 16u, col, r.g4); storeRow(cz, row + 20u, col, r.g5);
    storeRow(cz, row + 24u, col, r.g6); storeRow(cz, row + 28u, col, r.g7);
  }
}

// Adds the column sums of this step's rows of op(B).
fn addSums(r: ptr<function, Acc>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
  (*r).s0 += b0;
  if (CN >= 2u) { (*r).s1 += b1; }
  if (CN == 4u) { (*r).s2 += b2; (*r).s3 += b3; }
}

// ---- scalar entry point ----

// gA, gB, gA4, gB4 (loads with the prologue applied) come from matmul-common.wgsl.

// Rows k + 0..3 of op(B) at the columns with offsets cb; kb = the offsets of those k.
fn rowsB(cb: vec4<u32>, kb: vec4<u32>) -> mat4x4<f32> {
  return mat4x4<f32>(gB4(cb + vec4<u32>(kb.x)), gB4(cb + vec4<u32>(kb.y)), gB4(cb + vec4<u32>(kb.z)), gB4(cb + vec4<u32>(kb.w)));
}

// Offset of row r of op(A) (clamped to the last) at k = 0.
fn rowA(a0: u32, r: u32) -> u32 { return a0 + min(r, P.M - 1u) * select(P.K, 1u, TRANS_A); }

@compute @workgroup_size(SX * SY * 4u)
fn matmul_sg_scalar(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let id = groupIndex(wg, nwg);
  if (id >= P.tilesN * P.tilesM * P.batch) { return; } // the whole workgroup leaves
  let t = blockOf(id, li, lane);
  let row = t.y;
  let col = t.z;
  let baseA = t.x * P.strideA;
  let baseB = t.x * P.strideB;
  let kA = select(1u, P.M, TRANS_A);  // element distance of consecutive k in A
  let kB = select(P.N, 1u, TRANS_B);  // ... and in B
  // The row this lane reads of row group g (row + 4g + lane), and the columns it owns.
  let r0 = row + lane;
  let ra0 = rowA(baseA, r0); let ra1 = rowA(baseA, r0 + 4u); let ra2 = rowA(baseA, r0 + 8u); let ra3 = rowA(baseA, r0 + 12u);
  let ra4 = rowA(baseA, r0 + 16u); let ra5 = rowA(baseA, r0 + 20u); let ra6 = rowA(baseA, r0 + 24u); let ra7 = rowA(baseA, r0 + 28u);
  let cb0 = colsB(baseB, col); let cb1 = colsB(baseB, col + 16u);
  let cb2 = colsB(baseB, col + 32u); let cb3 = colsB(baseB, col + 48u);
  var ka = vec4<u32>(0u, 1u, 2u, 3u) * kA;
  var kb = vec4<u32>(0u, 1u, 2u, 3u) * kB;
  var r = Acc();
  let steps = P.K / 4u;
  for (var s = 0u; s < steps; s++) {
    let b0 = rowsB(cb0, kb);
    var b1 = b0; var b2 = b0; var b3 = b0;
    if (CN >= 2u) { b1 = rowsB(cb1, kb); }
    if (CN == 4u) { b2 = rowsB(cb2, kb); b3 = rowsB(cb3, kb); }
    if (SUM_B) { addSums(&r, colSum(b0), colSum(b1), colSum(b2), colSum(b3)); }
    r.g0 = macRow(r.g0, share(gA4(vec4<u32>(ra0) + ka)), b0, b1, b2, b3);
    if (RG >= 2u) { r.g1 = macRow(r.g1, share(gA4(vec4<u32>(ra1) + ka)), b0, b1, b2, b3); }
    if (RG >= 4u) {
      r.g2 = macRow(r.g2, share(gA4(vec4<u32>(ra2) + ka)), b0, b1, b2, b3);
      r.g3 = macRow(r.g3, share(gA4(vec4<u32>(ra3) + ka)), b0, b1, b2, b3);
    }
    if (RG == 8u) {
      r.g4 = macRow(r.g4, share(gA4(vec4<u32>(ra4) + ka)), b0, b1, b2, b3);
      r.g5 = macRow(r.g5, share(gA4(vec4<u32>(ra5) + ka)), b0, b1, b2, b3);
      r.g6 = macRow(r.g6, share(gA4(vec4<u32>(ra6) + ka)), b0, b1, b2, b3);
      r.g7 = macRow(r.g7, share(gA4(vec4<u32>(ra7) + ka)), b0, b1, b2, b3);
    }
    ka += vec4<u32>(4u * kA);
    kb += vec4<u32>(4u * kB);
  }
  // The last K % 4 values of k, one at a time: a row group's 4 values at this k, shared.
  for (var k = steps * 4u; k < P.K; k++) {
    let b0 = gB4(cb0 + vec4<u32>(kb.x));
    var b1 = b0; var b2 = b0; var b3 = b0;
    if (CN >= 2u) { b1 = gB4(cb1 + vec4<u32>(kb.x)); }
    if (CN == 4u) { b2 = gB4(cb2 + vec4<u32>(kb.x)); b3 = gB4(cb3 + vec4<u32>(kb.x)); }
    if (SUM_B) { addSums(&r, b0, b1, b2, b3); }
    r.g0 = macRow1(r.g0, share1(gA(ra0 + ka.x)), b0, b1, b2, b3);
    if (RG >= 2u) { r.g1 = macRow1(r.g1, share1(gA(ra1 + ka.x)), b0, b1, b2, b3); }
    if (RG >= 4u) {
      r.g2 = macRow1(r.g2, share1(gA(ra2 + ka.x)), b0, b1, b2, b3);
      r.g3 = macRow1(r.g3, share1(gA(ra3 + ka.x)), b0, b1, b2, b3);
    }
    if (RG == 8u) {
      r.g4 = macRow1(r.g4, share1(gA(ra4 + ka.x)), b0, b1, b2, b3);
      r.g5 = macRow1(r.g5, share1(gA(ra5 + ka.x)), b0, b1, b2, b3);
      r.g6 = macRow1(r.g6, share1(gA(ra6 + ka.x)), b0, b1, b2, b3);
      r.g7 = macRow1(r.g7, share1(gA(ra7 + ka.x)), b0, b1, b2, b3);
    }
    ka += vec4<u32>(kA);
    kb += vec4<u32>(kB);
  }
  finish(t.x, row, col, r);
}

// ---- vec4 entry point ----

// Rows r..r+3 × 4 k of op(A), column i = row i, from one vec4 per lane:
// A [M, K]: lane l reads row r + l along k; A [K, M]: lane l reads k-row l along rows.
fn shareA(v: vec4<f32>) -> mat4x4<f32> {
  let m = share(v);
  if (TRANS_A) { return transpose(m); }
  return m;
}

// Offset (vec4 units) of what lane `lane` reads of op(A) rows r.. at k = 0.
fn laneA4(a0: u32, r: u32, lane: u32) -> u32 {
  if (TRANS_A) { return (a0 + lane * P.M + min(r, P.M - 4u)) / 4u; }
  return (a0 + min(r + lane, P.M - 1u) * P.K) / 4u;
}

@compute @workgroup_size(SX * SY * 4u)
fn matmul_sg_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let id = groupIndex(wg, nwg);
  if (id >= P.tilesN * P.tilesM * P.batch) { return; } // the whole workgroup leaves
  let t = blockOf(id, li, lane);
  let row = t.y;
  let col = t.z;
  let baseA = t.x * P.strideA;
  let baseB = t.x * P.strideB;
  // What this lane reads of row group g, at k = 0 (vec4 units).
  var qa0 = laneA4(baseA, row, lane); var qa1 = laneA4(baseA, row + 4u, lane);
  var qa2 = laneA4(baseA, row + 8u, lane); var qa3 = laneA4(baseA, row + 12u, lane);
  var qa4 = laneA4(baseA, row + 16u, lane); var qa5 = laneA4(baseA, row + 20u, lane);
  var qa6 = laneA4(baseA, row + 24u, lane); var qa7 = laneA4(baseA, row + 28u, lane);
  var qb0 = offsetsB(baseB, col); var qb1 = offsetsB(baseB, col + 16u);
  var qb2 = offsetsB(baseB, col + 32u); var qb3 = offsetsB(baseB, col + 48u);
  // Per 4 k: A [M, K] moves 1 vec4 along its row, A [K, M] 4 rows (M vec4s); B likewise.
  let stepA = select(1u, P.M, TRANS_A);
  let stepB = vec4<u32>(select(P.N, 1u, TRANS_B));
  var r = Acc();
  let steps = P.K / 4u;
  for (var s = 0u; s < steps; s++) {
    let b0 = blockB4(qb0);
    var b1 = b0; var b2 = b0; var b3 = b0;
    if (CN >= 2u) { b1 = blockB4(qb1); }
    if (CN == 4u) { b2 = blockB4(qb2); b3 = blockB4(qb3); }
    if (SUM_B) { addSums(&r, colSum(b0), colSum(b1), colSum(b2), colSum(b3)); }
    r.g0 = macRow(r.g0, shareA(loadA4(qa0)), b0, b1, b2, b3);
    if (RG >= 2u) { r.g1 = macRow(r.g1, shareA(loadA4(qa1)), b0, b1, b2, b3); }
    if (RG >= 4u) {
      r.g2 = macRow(r.g2, shareA(loadA4(qa2)), b0, b1, b2, b3);
      r.g3 = macRow(r.g3, shareA(loadA4(qa3)), b0, b1, b2, b3);
    }
    if (RG == 8u) {
      r.g4 = macRow(r.g4, shareA(loadA4(qa4)), b0, b1, b2, b3);
      r.g5 = macRow(r.g5, shareA(loadA4(qa5)), b0, b1, b2, b3);
      r.g6 = macRow(r.g6, shareA(loadA4(qa6)), b0, b1, b2, b3);
      r.g7 = macRow(r.g7, shareA(loadA4(qa7)), b0, b1, b2, b3);
    }
    qa0 += stepA; qa1 += stepA; qa2 += stepA; qa3 += stepA;
    qa4 += stepA; qa5 += stepA; qa6 += stepA; qa7 += stepA;
    qb0 += stepB; qb1 += stepB; qb2 += stepB; qb3 += stepB;
  }
  // K % 4 != 0 only with A [K, M] and B [K, N] (K is contiguous otherwise): one
  // k at a time, where every lane reads the same 4 rows of A (no sharing needed).
  if (TRANS_A && !TRANS_B) {
    let kq = (baseA + steps * 4u * P.M) / 4u;
    var ra0 = kq + min(row, P.M - 4u) / 4u; var ra1 = kq + min(row + 4u, P.M - 4u) / 4u;
    var ra2 = kq + min(row + 8u, P.M - 4u) / 4u; var ra3 = kq + min(row + 12u, P.M - 4u) / 4u;
    var ra4 = kq + min(row + 16u, P.M - 4u) / 4u; var ra5 = kq + min(row + 20u, P.M - 4u) / 4u;
    var ra6 = kq + min(row + 24u, P.M - 4u) / 4u; var ra7 = kq + min(row + 28u, P.M - 4u) / 4u;
    for (var k = steps * 4u; k < P.K; k++) {
      let b0 = loadB4(qb0.x);
      var b1 = b0; var b2 = b0; var b3 = b0;
      if (CN >= 2u) { b1 = loadB4(qb1.x); }
      if (CN == 4u) { b2 = loadB4(qb2.x); b3 = loadB4(qb3.x); }
      if (SUM_B) { addSums(&r, b0, b1, b2, b3); }
      r.g0 = macRow1(r.g0, loadA4(ra0), b0, b1, b2, b3);
      if (RG >= 2u) { r.g1 = macRow1(r.g1, loadA4(ra1), b0, b1, b2, b3); }
      if (RG >= 4u) {
        r.g2 = macRow1(r.g2, loadA4(ra2), b0, b1, b2, b3);
        r.g3 = macRow1(r.g3, loadA4(ra3), b0, b1, b2, b3);
      }
      if (RG == 8u) {
        r.g4 = macRow1(r.g4, loadA4(ra4), b0, b1, b2, b3);
        r.g5 = macRow1(r.g5, loadA4(ra5), b0, b1, b2, b3);
        r.g6 = macRow1(r.g6, loadA4(ra6), b0, b1, b2, b3);
        r.g7 = macRow1(r.g7, loadA4(ra7), b0, b1, b2, b3);
      }
      // One k further: a row of A [K, M] (B [K, N]) is M / 4 (N / 4) vec4s.
      let da = P.M / 4u;
      ra0 += da; ra1 += da; ra2 += da; ra3 += da; ra4 += da; ra5 += da; ra6 += da; ra7 += da;
      let db = vec4<u32>(P.N / 4u);
      qb0 += db; qb1 += db; qb2 += db; qb3 += db;
    }
  }
  finish(t.x, row, col, r);
}
