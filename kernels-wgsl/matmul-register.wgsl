// Register-blocked matmul without workgroup memory or barriers, for CPU
// adapters (SwiftShader), where a barrier costs more than re-reading A and B
// through the cache: C[z] = act(op(A[z]) · op(B[z]) + bias), with the
// prologue and column sums of matmul-common.wgsl (prepended with the bindings).
//
// Each invocation computes an RM×(4·CN) block of C (RM = 4 or 8 rows, CN = 1
// or 2 vec4 column groups) in named vec4 accumulators. Private arrays would be
// indexed through memory (spilled) by SwiftShader; named values stay in
// registers. K is walked 4 at a time: a 4×4 block of op(A) and of op(B) per
// step, constant offsets within it. A workgroup is WX×WY invocations on
// neighbouring blocks (neighbouring lanes share rows of A and read adjacent
// columns of B, which keeps both in cache).
//
// Two entry points, like matmul.wgsl:
//   matmul_reg_vec4   vec4 loads along each operand's contiguous dimension;
//                     the host picks it when every contiguous dimension and
//                     both batch strides are multiples of 4.
//   matmul_reg_scalar scalar loads, any shape.
// Rows and columns past the edge are clamped into the matrices (no bounds
// checks in the K loop); their results are never stored. Blocks lie along
// (tilesN × tilesM × batch) workgroups, linearised as x + y · num_workgroups.x.

override RM: u32 = 4u;  // rows per invocation: 4 or 8
override CN: u32 = 1u;  // vec4 column groups per invocation: 1 or 2
override WX: u32 = 8u;  // invocations across columns
override WY: u32 = 8u;  // invocations across rows

struct Block { z: u32, row: u32, col: u32, ok: bool }

fn blockOf(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> Block {
  let t = tileIndex(wg.x + wg.y * nwg.x);
  let row = (t.y * WY + lid.y) * RM;
  let col = (t.z * WX + lid.x) * 4u * CN;
  return Block(t.x, row, col, t.x < P.batch && row < P.M && col < P.N);
}

// One k: c + a · b.
fn mac1(c: vec4<f32>, a: f32, b: vec4<f32>) -> vec4<f32> {
  return c + a * b;
}

// ---- vec4 entry point ----

// Four vec4s of A (B) at the offsets in q (vec4 units), prologue applied; as
// columns of the result, or transposed so that element [i][j] is always
// (row i, k j) of op(A) and (k i, column j) of op(B).
fn blockA4(q: vec4<u32>) -> mat4x4<f32> {
  let m = mat4x4<f32>(loadA4(q.x), loadA4(q.y), loadA4(q.z), loadA4(q.w));
  if (TRANS_A) { return transpose(m); }
  return m;
}


// Offsets (vec4 units) of the 4 loads giving rows r..r+3 × 4 k of op(A) at
// k = 0, and how far they move per step of 4 k. A [M, K]: one load per row
// (rows past M clamped to the last); A [K, M]: one load per k, along rows.
fn offsetsA(a0: u32, r: u32) -> vec4<u32> {
  if (TRANS_A) {
    let q = (a0 + min(r, P.M - 4u)) / 4u;
    return vec4<u32>(q) + vec4<u32>(0u, 1u, 2u, 3u) * (P.M / 4u);
  }
  let rows = min(vec4<u32>(r) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.M - 1u));
  return (vec4<u32>(a0) + rows * P.K) / 4u;
}

// N % 4 == 0 here, so col < N means all four columns are inside C.
fn store4(c0: u32, row: u32, col: u32, v: vec4<f32>, bias: vec4<f32>) {
  if (row < P.M && col < P.N) { C4[(c0 + row * P.N + col) / 4u] = act4(v + bias); }
}

@compute @workgroup_size(WX, WY)
fn matmul_reg_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = blockOf(wg, nwg, lid);
  if (!t.ok) { return; }
  let a0 = t.z * P.strideA;
  let b0 = t.z * P.strideB;
  var qa = offsetsA(a0, t.row);
  var qa2 = offsetsA(a0, t.row + 4u);
  var qb = offsetsB(b0, t.col);
  var qb2 = offsetsB(b0, t.col + 4u);
  let stepA = vec4<u32>(select(1u, P.M, TRANS_A));
  let stepB = vec4<u32>(select(P.N, 1u, TRANS_B));
  // Accumulators: c* for column group 0, d* for group 1; rows 4-7 only when RM = 8.
  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0); var c5 = vec4<f32>(0.0); var c6 = vec4<f32>(0.0); var c7 = vec4<f32>(0.0);
  var d0 = vec4<f32>(0.0); var d1 = vec4<f32>(0.0); var d2 = vec4<f32>(0.0); var d3 = vec4<f32>(0.0);
  var d4 = vec4<f32>(0.0); var d5 = vec4<f32>(0.0); var d6 = vec4<f32>(0.0); var d7 = vec4<f32>(0.0);
  var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0); // column sums of op(B)
  let steps = P.K / 4u;
  for (var s = 0u; s < steps; s++) {
    let a = blockA4(qa);
    let b = blockB4(qb);
    c0 = mac(c0, a[0], b); c1 = mac(c1, a[1], b); c2 = mac(c2, a[2], b); c3 = mac(c3, a[3], b);
    if (SUM_B) { s0 += (b[0] + b[1]) + (b[2] + b[3]); }
    if (RM == 8u) {
      let a2 = blockA4(qa2);
      c4 = mac(c4, a2[0], b); c5 = mac(c5, a2[1], b); c6 = mac(c6, a2[2], b); c7 = mac(c7, a2[3], b);
      if (CN == 2u) {
        let e = blockB4(qb2);
        d4 = mac(d4, a2[0], e); d5 = mac(d5, a2[1], e); d6 = mac(d6, a2[2], e); d7 = mac(d7, a2[3], e);
        d0 = mac(d0, a[0], e); d1 = mac(d1, a[1], e); d2 = mac(d2, a[2], e); d3 = mac(d3, a[3], e);
        if (SUM_B) { s1 += (e[0] + e[1]) + (e[2] + e[3]); }
      }
      qa2 += stepA;
    } else if (CN == 2u) {
      let e = blockB4(qb2);
      d0 = mac(d0, a[0], e); d1 = mac(d1, a[1], e); d2 = mac(d2, a[2], e); d3 = mac(d3, a[3], e);
      if (SUM_B) { s1 += (e[0] + e[1]) + (e[2] + e[3]); }
    }
    qa += stepA;
    qb += stepB;
    qb2 += stepB;
  }
  // K % 4 != 0 is only possible with A [K, M] and B [K, N] (K is contiguous
  // otherwise): one k at a time, A along rows, B along columns.
  if (TRANS_A && !TRANS_B) {
    for (var k = steps * 4u; k < P.K; k++) {
      let a = loadA4(qa.x);
      let b = loadB4(qb.x);
      c0 = mac1(c0, a.x, b); c1 = mac1(c1, a.y, b); c2 = mac1(c2, a.z, b); c3 = mac1(c3, a.w, b);
      if (SUM_B) { s0 += b; }
      if (RM == 8u) {
        let a2 = loadA4(qa2.x);
        c4 = mac1(c4, a2.x, b); c5 = mac1(c5, a2.y, b); c6 = mac1(c6, a2.z, b); c7 = mac1(c7, a2.w, b);
        if (CN == 2u) {
          let e = loadB4(qb2.x);
          d0 = mac1(d0, a.x, e); d1 = mac1(d1, a.y, e); d2 = mac1(d2, a.z, e); d3 = mac1(d3, a.w, e);
          d4 = mac1(d4, a2.x, e); d5 = mac1(d5, a2.y, e); d6 = mac1(d6, a2.z, e); d7 = mac1(d7, a2.w, e);
          if (SUM_B) { s1 += e; }
        }
      } else if (CN == 2u) {
        let e = loadB4(qb2.x);
        d0 = mac1(d0, a.x, e); d1 = mac1(d1, a.y, e); d2 = mac1(d2, a.z, e); d3 = mac1(d3, a.w, e);
        if (SUM_B) { s1 += e; }
      }
      // One k further: a row of A [K, M] (B [K, N]) is M / 4 (N / 4) vec4s.
      qa += vec4<u32>(P.M / 4u);
      qa2 += vec4<u32>(P.M / 4u);
      qb += vec4<u32>(P.N / 4u);
      qb2 += vec4<u32>(P.N / 4u);
    }
  }
  let col = t.col;
  let c00 = t.z * P.M * P.N;
  if (SUM_B && t.row == 0u) {
    storeSums(col, s0);
    if (CN == 2u) { storeSums(col + 4u, s1); }
  }
  var bias = vec4<f32>(0.0);
  var bias2 = vec4<f32>(0.0);
  if (HAS_BIAS) {
    bias = BIAS4[col / 4u];
    if (CN == 2u && col + 4u < P.N) { bias2 = BIAS4[col / 4u + 1u]; }
  }
  let row = t.row;
  store4(c00, row, col, c0, bias); store4(c00, row + 1u, col, c1, bias);
  store4(c00, row + 2u, col, c2, bias); store4(c00, row + 3u, col, c3, bias);
  if (RM == 8u) {
    store4(c00, row + 4u, col, c4, bias); store4(c00, row + 5u, col, c5, bias);
    store4(c00, row + 6u, col, c6, bias); store4(c00, row + 7u, col, c7, bias);
  }
  if (CN == 2u) {
    store4(c00, row, col + 4u, d0, bias2); store4(c00, row + 1u, col + 4u, d1, bias2);
    store4(c00, row + 2u, col + 4u, d2, bias2); store4(c00, row + 3u, col + 4u, d3, bias2);
    if (RM == 8u) {
      store4(c00, row + 4u, col + 4u, d4, bias2); store4(c00, row + 5u, col + 4u, d5, bias2);
      store4(c00, row + 6u, col + 4u, d6, bias2); store4(c00, row + 7u, col + 4u, d7, bias2);
    }
  }
}

// ---- scalar entry point ----

// gA, gB, gA4, gB4 (loads with the prologue applied), mac, rowsA, colsB,
// offsetsB and blockB4 come from matmul-common.wgsl.

// Rows r (offsets ra) × k offsets ko of op(A): element [i][j] = (row i, k j).
fn gatherA(ra: vec4<u32>, ko: vec4<u32>) -> mat4x4<f32> {
  return mat4x4<f32>(gA4(ra.x + ko), gA4(ra.y + ko), gA4(ra.z + ko), gA4(ra.w + ko));
}

// k offsets ko × columns (offsets cb) of op(B): element [i][j] = (k i, column j).
fn gatherB(ko: vec4<u32>, cb: vec4<u32>) -> mat4x4<f32> {
  return mat4x4<f32>(gB4(cb + ko.x), gB4(cb + ko.y), gB4(cb + ko.z), gB4(cb + ko.w));
}

@compute @workgroup_size(WX, WY)
fn matmul_reg_scalar(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = blockOf(wg, nwg, lid);
  if (!t.ok) { return; }
  let a0 = t.z * P.strideA;
  let b0 = t.z * P.strideB;
  let ra = rowsA(a0, t.row);
  let ra2 = rowsA(a0, t.row + 4u);
  let cb = colsB(b0, t.col);
  let cb2 = colsB(b0, t.col + 4u);
  let kA = select(1u, P.M, TRANS_A);  // element distance of consecutive k in A
  let kB = select(P.N, 1u, TRANS_B);  // ... and in B
  var ka = vec4<u32>(0u, 1u, 2u, 3u) * kA;
  var kb = vec4<u32>(0u, 1u, 2u, 3u) * kB;
  var c0 = vec4<f32>(0.0); var c1 = vec4<f32>(0.0); var c2 = vec4<f32>(0.0); var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0); var c5 = vec4<f32>(0.0); var c6 = vec4<f32>(0.0); var c7 = vec4<f32>(0.0);
  var d0 = vec4<f32>(0.0); var d1 = vec4<f32>(0.0); var d2 = vec4<f32>(0.0); var d3 = vec4<f32>(0.0);
  var d4 = vec4<f32>(0.0); var d5 = vec4<f32>(0.0); var d6 = vec4<f32>(0.0); var d7 = vec4<f32>(0.0);
  var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0);
  let steps = P.K / 4u;
  for (var s = 0u; s < steps; s++) {
    let a = gatherA(ra, ka);
    let b = gatherB(kb, cb);
    c0 = mac(c0, a[0], b); c1 = mac(c1, a[1], b); c2 = mac(c2, a[2], b); c3 = mac(c3, a[3], b);
    if (SUM_B) { s0 += (b[0] + b[1]) + (b[2] + b[3]); }
    if (RM == 8u) {
      let a2 = gatherA(ra2, ka);
      c4 = mac(c4, a2[0], b); c5 = mac(c5, a2[1], b); c6 = mac(c6, a2[2], b); c7 = mac(c7, a2[3], b);
      if (CN == 2u) {
        let e = gatherB(kb, cb2);
        d4 = mac(d4, a2[0], e); d5 = mac(d5, a2[1], e); d6 = mac(d6, a2[2], e); d7 = mac(d7, a2[3], e);
        d0 = mac(d0, a[0], e); d1 = mac(d1, a[1], e); d2 = mac(d2, a[2], e); d3 = mac(d3, a[3], e);
        if (SUM_B) { s1 += (e[0] + e[1]) + (e[2] + e[3]); }
      }
    } else if (CN == 2u) {
      let e = gatherB(kb, cb2);
      d0 = mac(d0, a[0], e); d1 = mac(d1, a[1], e); d2 = mac(d2, a[2], e); d3 = mac(d3, a[3], e);
      if (SUM_B) { s1 += (e[0] + e[1]) + (e[2] + e[3]); }
    }
    ka += vec4<u32>(4u * kA);
    kb += vec4<u32>(4u * kB);
  }
  // The last K % 4 values of k, one at a time.
  for (var k = steps * 4u; k < P.K; k++) {
    let a = gA4(ra + vec4<u32>(ka.x));
    let b = gB4(cb + vec4<u32>(kb.x));
    c0 = mac1(c0, a.x, b); c1 = mac1(c1, a.y, b); c2 = mac1(c2, a.z, b); c3 = mac1(c3, a.w, b);
    if (SUM_B) { s0 += b; }
    if (RM == 8u) {
      let a2 = gA4(ra2 + vec4<u32>(ka.x));
      c4 = mac1(c4, a2.x, b); c5 = mac1(c5, a2.y, b); c6 = mac1(c6, a2.z, b); c7 = mac1(c7, a2.w, b);
      if (CN == 2u) {
        let e = gB4(cb2 + vec4<u32>(kb.x));
        d0 = mac1(d0, a.x, e); d1 = mac1(d1, a.y, e); d2 = mac1(d2, a.z, e); d3 = mac1(d3, a.w, e);
        d4 = mac1(d4, a2.x, e); d5 = mac1(d5, a2.y, e); d6 = mac1(d6, a2.z, e); d7 = mac1(d7, a2.w, e);
        if (SUM_B) { s1 += e; }
      }
    } else if (CN == 2u) {
      let e = gB4(cb2 + vec4<u32>(kb.x));
      d0 = mac1(d0, a.x, e); d1 = mac1(d1, a.y, e); d2 = mac1(d2, a.z, e); d3 = mac1(d3, a.w, e);
      if (SUM_B) { s1 += e; }
    }
    ka += vec4<u32>(kA);
    kb += vec4<u32>(kB);
  }
  let col = t.col;
  let c00 = t.z * P.M * P.N;
  if (SUM_B && t.row == 0u) {
    storeSums(col, s0);
    if (CN == 2u) { storeSums(col + 4u, s1); }
  }
  let row = t.row;
  storeScalar(c00, row, col, c0); storeScalar(c00, row + 1u, col, c1);
  storeScalar(c00, row + 2u, col, c2); storeScalar(c00, row + 3u, col, c3);
  if (RM == 8u) {
    storeScalar(c00, row + 4u, col, c4); storeScalar(c00, row + 5u, col, c5);
    storeScalar(c00, row + 6u, col, c6); storeScalar(c00, row + 7u, col, c7);
  }
  if (CN == 2u) {
    storeScalar(c00, row, col + 4u, d0); storeScalar(c00, row + 1u, col + 4u, d1);
    storeScalar(c00, row + 2u, col + 4u, d2); storeScalar(c00, row + 3u, col + 4u, d3);
    if (RM == 8u) {
      storeScalar(c00, row + 4u, col + 4u, d4); storeScalar(c00, row + 5u, col + 4u, d5);
      storeScalar(c00, row + 6u, col + 4u, d6); storeScalar(c00, row + 7u, col + 4u, d7);
    }
  }
}
