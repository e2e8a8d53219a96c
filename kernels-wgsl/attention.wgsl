// Fused scaled dot-product attention (FlashAttention-2). AttentionDims and the
// exp1/log1 helpers are prepended (src/backends/webgpu/shaders.ts). One
// invocation owns one row: a query row (forward, backward_q) or a key row
// (backward_kv), held in registers as D4 vec4s (a head-dimension class;
// lanes past P.d are zero). A workgroup of WG rows walks the other side's
// rows in tiles of TILE: with SHARED, each tile is loaded once into
// workgroup memory for all WG rows; without (CPU adapters, where barriers
// are the slowest operation), every invocation reads the rows from storage.
//
//   attention_forward   online softmax per key: the running max m, sum l
//                       and output are rescaled when m grows; out = o / l,
//                       lse = m + log l (+inf when no key is visible: out 0).
//   attention_prep      per query row: STATS = [lse | D = rowsum(dO ⊙ O) | key lengths]
//   attention_backward_q   dQ = scale Σ_j dS_ij k_j, dS = P (dP − D), P = exp(s − lse);
//                       also dS itself into DBIAS when a mask needs its gradient
//   attention_backward_kv  dV = Σ_i P_ij dO_i, dK = scale Σ_i dS_ij q_i over the
//                       query heads of the key's group; a key past its batch
//                       entry's length gets zeros.
// Masks: causal (key j > query i), key lengths, the additive MASK at
// b·maskB + h·maskH + i·maskQ + j·maskK. Workgroups are linearised (x + y·nx).
// Entry points declare their own bindings (numbered from 1 in the order the
// host binds them); no entry point uses two variables of one binding.

override WG: u32 = 64u;
override D4: u32 = 16u;
override TILE: u32 = 32u;
override SHARED: bool = true;
override TILE_WORDS: u32 = 512u;   // TILE * D4 with SHARED, else 1
// Loops over a row run to ceil(d / 4) read from the uniforms instead of D4: one
// pipeline for every head dimension (CPU adapters, where compiling is slow and
// unrolling gains nothing). Off, they run to the constant D4 and unroll.
override DYN_D: bool = false;

// A row's registers: WGSL sizes private arrays by constants only; loops run to D4.
const MAX_D4: u32 = 64u;
const LOWEST: f32 = -0x1.fffffep+127f;
// An lse above this marks a row without visible keys (+inf).
const EMPTY: f32 = 0x1.0p+127f;

var<workgroup> tileA: array<vec4<f32>, TILE_WORDS>;
var<workgroup> tileB: array<vec4<f32>, TILE_WORDS>;

@group(0) @binding(0) var<uniform> P: AttentionDims;

// vec4s per row the loops visit.
fn nc() -> u32 { return select(D4, (P.d + 3u) / 4u, DYN_D); }
fn linear(wg: vec3<u32>, nwg: vec3<u32>) -> u32 { return wg.x + wg.y * nwg.x; }
fn kvHeads() -> u32 { return P.heads / P.group; }
fn maskOffset(b: u32, h: u32, i: u32) -> u32 { return b * P.maskB + h * P.maskH + i * P.maskQ; }
// Keys a query row may see under the causal mask, within a tile from t0 of n keys.
fn visibleIn(i: u32, t0: u32, n: u32) -> u32 {
  if (P.causal == 0u) { return n; }
  return select(0u, min(n, i + 1u - t0), i + 1u > t0);
}
fn positiveInfinity() -> f32 {
  var bits = 0x7f800000u; // a var: +inf may not be a constant expression
  return bitcast<f32>(bits);
}

// ---- forward ----
@group(0) @binding(1) var<storage, read> FQ: array<f32>;
@group(0) @binding(2) var<storage, read> FK: array<f32>;
@group(0) @binding(3) var<storage, read> FV: array<f32>;
@group(0) @binding(4) var<storage, read> FMASK: array<f32>;
@group(0) @binding(5) var<storage, read> FLENS: array<f32>;
@group(0) @binding(6) var<storage, read_write> FOUT: array<f32>;
@group(0) @binding(7) var<storage, read_write> FLSE: array<f32>;

fn fq(at: u32, c: u32) -> vec4<f32> {
  let i = at + 4u * c; let d = P.d;
  return vec4<f32>(select(0.0, FQ[i], 4u * c < d), select(0.0, FQ[i + 1u], 4u * c + 1u < d),
                   select(0.0, FQ[i + 2u], 4u * c + 2u < d), select(0.0, FQ[i + 3u], 4u * c + 3u < d));
}
fn fk(at: u32, c: u32) -> vec4<f32> {
  let i = at + 4u * c; let d = P.d;
  return vec4<f32>(select(0.0, FK[i], 4u * c < d), select(0.0, FK[i + 1u], 4u * c + 1u < d),
                   select(0.0, FK[i + 2u], 4u * c + 2u < d), select(0.0, FK[i + 3u], 4u * c + 3u < d));
}
fn fv(at: u32, c: u32) -> vec4<f32> {
  let i = at + 4u * c; let d = P.d;
  return vec4<f32>(select(0.0, FV[i], 4u * c < d), select(0.0, FV[i + 1u], 4u * c + 1u < d),
                   select(0.0, FV[i + 2u], 4u * c + 2u < d), select(0.0, FV[i + 3u], 4u * c + 3u < d));
}

// Row jj of the current key/value tile, vec4 c: from workgroup memory or storage.
fn fkey(at: u32, jj: u32, c: u32) -> vec4<f32> {
  if (SHARED) { return tileA[jj * D4 + c]; }
  return fk(at, c);
}
fn fval(at: u32, jj: u32, c: u32) -> vec4<f32> {
  if (SHARED) { return tileB[jj * D4 + c]; }
  return fv(at, c);
}

@compute @workgroup_size(WG)
fn attention_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let g = linear(wg, nwg);
  if (g >= P.batch * P.heads * P.blocks) { return; }
  let bh = g / P.blocks;
  let i0 = (g % P.blocks) * WG;
  let b = bh / P.heads;
  let h = bh % P.heads;
  let kBase = (b * kvHeads() + h / P.group) * P.lk * P.d;
  let i = i0 + lid;
  let live = i < P.lq;
  var kEnd = P.lk;
  if (P.hasLens != 0u) { kEnd = min(kEnd, u32(FLENS[b])); }
  if (P.causal != 0u) { kEnd = min(kEnd, min(i0 + WG, P.lq)); }
  let row = bh * P.lq + min(i, P.lq - 1u);
  var q: array<vec4<f32>, MAX_D4>;
  var o: array<vec4<f32>, MAX_D4>;
  for (var c = 0u; c < nc(); c++) { q[c] = fq(row * P.d, c) * P.scale; o[c] = vec4<f32>(0.0); }
  var m = LOWEST;
  var l = 0.0;
  let mrow = maskOffset(b, h, i);
  for (var t0 = 0u; t0 < kEnd; t0 += TILE) {
    let n = min(TILE, kEnd - t0);
    if (SHARED) {
      workgroupBarrier();
      for (var x = lid; x < TILE * D4; x += WG) {
        let r = x / D4;
        let at = kBase + min(t0 + r, P.lk - 1u) * P.d;
        tileA[x] = fk(at, x % D4);
        tileB[x] = fv(at, x % D4);
      }
      workgroupBarrier();
    }
    if (live) {
      let lim = visibleIn(i, t0, n);
      for (var jj = 0u; jj < lim; jj++) {
        let at = kBase + (t0 + jj) * P.d;
        var s4 = vec4<f32>(0.0);
        for (var c = 0u; c < nc(); c++) { s4 += q[c] * fkey(at, jj, c); }
        var s = (s4.x + s4.y) + (s4.z + s4.w);
        if (P.hasMask != 0u) { s += FMASK[mrow + (t0 + jj) * P.maskK]; }
        if (s > m) {
          let a = exp1(m - s);
          l *= a;
          for (var c = 0u; c < nc(); c++) { o[c] *= a; }
          m = s;
        }
        let p = exp1(s - m);
        l += p;
        for (var c = 0u; c < nc(); c++) { o[c] += p * fval(at, jj, c); }
      }
    }
  }
  if (!live) { return; }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var c = 0u; c < nc(); c++) {
    for (var e = 0u; e < 4u; e++) {
      if (4u * c + e < P.d) { FOUT[row * P.d + 4u * c + e] = o[c][e] * inv; }
    }
  }
  FLSE[row] = select(positiveInfinity(), m + log1(l), l > 0.0);
}

// ---- backward: the per-row statistics ----
@group(0) @binding(1) var<storage, read> PDOUT: array<f32>;
@group(0) @binding(2) var<storage, read> POUT: array<f32>;
@group(0) @binding(3) var<storage, read> PLSE: array<f32>;
@group(0) @binding(4) var<storage, read> PLENS: array<f32>;
@group(0) @binding(5) var<storage, read_write> PSTATS: array<f32>;

// One invocation per query row r (and per batch entry for the key lengths):
// STATS[r] = lse, STATS[N + r] = rowsum(dO ⊙ O), STATS[2N + b] = keys visible to b.
@compute @workgroup_size(WG)
fn attention_prep(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  let n = P.batch * P.heads * P.lq;
  if (r < P.batch) { PSTATS[2u * n + r] = select(f32(P.lk), min(PLENS[r], f32(P.lk)), P.hasLens != 0u); }
  if (r >= n) { return; }
  var acc = vec4<f32>(0.0);
  var d = 0u;
  for (; d + 4u <= P.d; d += 4u) {
    let at = r * P.d + d;
    acc += vec4<f32>(PDOUT[at], PDOUT[at + 1u], PDOUT[at + 2u], PDOUT[at + 3u])
         * vec4<f32>(POUT[at], POUT[at + 1u], POUT[at + 2u], POUT[at + 3u]);
  }
  var tail = 0.0;
  for (; d < P.d; d++) { tail += PDOUT[r * P.d + d] * POUT[r * P.d + d]; }
  PSTATS[r] = PLSE[r];
  PSTATS[n + r] = ((acc.x + acc.y) + (acc.z + acc.w)) + tail;
}

// ---- backward: dQ (one invocation per query row) ----
@group(0) @binding(1) var<storage, read> QQ: array<f32>;
@group(0) @binding(2) var<storage, read> QK: array<f32>;
@group(0) @binding(3) var<storage, read> QV: array<f32>;
@group(0) @binding(4) var<storage, read> QMASK: array<f32>;
@group(0) @binding(5) var<storage, read> QDOUT: array<f32>;
@group(0) @binding(6) var<storage, read> QSTATS: array<f32>;
@group(0) @binding(7) var<storage, read_write> QDQ: array<f32>;
@group(0) @binding(8) var<storage, read_write> QDBIAS: array<f32>;

fn qrow(at: u32, c: u32) -> vec4<f32> {
  let i = at + 4u * c; let d = P.d;
  return vec4<f32>(select(0.0, QQ[i], 4u * c < d), select(0.0, QQ[i + 1u], 4u * c + 1u < d),
                   select(0.0, QQ[i + 2u], 4u * c + 2u < d), select(0.0, QQ[i + 3u], 4u * c + 3u < d));
}
fn qdo(at: u32, c: u32) -> vec4<f32> {
  let i = at + 4u * c; let d = P.d;
  return vec4<f32>(select(0.0, QDOUT[i], 4u * c < d), select(0.0, QDOUT[i + 1u], 4u * c + 1u < d),
                   select(0.0, QDOUT[i + 2u], 4u * c + 2u < d), select(0.0, QDOUT[i + 3u], 4u * c + 3u < d));
}
fn qkey(at: u32, jj: u32, c: u32) -> vec4<f32> {
  if (SHARED) { return tileA[jj * D4 + c]; }
  let i = at + 4u * c; let d = P.d;
  return vec4<f32>(select(0.0, QK[i], 4u * c < d), select(0.0, QK[i + 1u], 4u * c + 1u < d),
                   select(0.0, QK[i + 2u], 4u * c + 2u < d), select(0.0, QK[i + 3u], 4u * c + 3u < d));
}
fn qval(at: u32, jj: u32, c: u32) -> vec4<f32> {
  if (SHARED) { return tileB[jj * D4 + c]; }
  let i = at + 4u * c; let d = P.d;
  return vec4<f32>(select(0.0, QV[i], 4u * c < d), select(0.0, QV[i + 1u], 4u * c + 1u < d),
                   select(0.0, QV[i + 2u], 4u * c + 2u < d), select(0.0, QV[i + 3u], 4u * c + 3u < d));
}

@compute @workgroup_size(WG)
fn attention_backward_q(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32) {
  let g = linear(wg, nwg);
  if (g >= P.batch * P.heads * P.blocks) { return; }
  let n = P.batch * P.heads * P.lq;
  let bh = g / P.blocks;
  let i0 = (g % P.blocks) * WG;
  let b = bh / P.heads;
  let h = bh % P.heads;
  let kBase = (b * kvHeads() + h / P.group) * P.lk * P.d;
  let i = i0 + lid;
  let row = bh * P.lq + min(i, P.lq - 1u);
  let lse = QSTATS[row];
  let live = i < P.lq;
  let empty = lse > EMPTY;
  let di = QSTATS[n + row];
  var kEnd = min(P.lk, u32(QSTATS[2u * n + b]));
  if (P.causal != 0u) { kEnd = min(kEnd, min(i0 + WG, P.lq)); }
  var q: array<vec4<f32>, MAX_D4>;
  var go: array<vec4<f32>, MAX_D4>;
  var dq: array<vec4<f32>, MAX_D4>;
  for (var c = 0u; c < nc(); c++) { q[c] = qrow(row * P.d, c) * P.scale; go[c] = qdo(row * P.d, c); dq[c] = vec4<f32>(0.0); }
  let mrow = maskOffset(b, h, i);
  for (var t0 = 0u; t0 < kEnd; t0 += TILE) {
    let nt = min(TILE, kEnd - t0);
    if (SHARED) {
      workgroupBarrier();
      for (var x = lid; x < TILE * D4; x += WG) {
        let at = kBase + min(t0 + x / D4, P.lk - 1u) * P.d;
        let c = x % D4;
        let e = at + 4u * c;
        tileA[x] = vec4<f32>(select(0.0, QK[e], 4u * c < P.d), select(0.0, QK[e + 1u], 4u * c + 1u < P.d),
                             select(0.0, QK[e + 2u], 4u * c + 2u < P.d), select(0.0, QK[e + 3u], 4u * c + 3u < P.d));
        tileB[x] = vec4<f32>(select(0.0, QV[e], 4u * c < P.d), select(0.0, QV[e + 1u], 4u * c + 1u < P.d),
                             select(0.0, QV[e + 2u], 4u * c + 2u < P.d), select(0.0, QV[e + 3u], 4u * c + 3u < P.d));
      }
      workgroupBarrier();
    }
    if (live && !empty) {
      let lim = visibleIn(i, t0, nt);
      for (var jj = 0u; jj < lim; jj++) {
        let at = kBase + (t0 + jj) * P.d;
        var s4 = vec4<f32>(0.0);
        var dp4 = vec4<f32>(0.0);
        for (var c = 0u; c < nc(); c++) { s4 += q[c] * qkey(at, jj, c); dp4 += go[c] * qval(at, jj, c); }
        var s = (s4.x + s4.y) + (s4.z + s4.w);
        if (P.hasMask != 0u) { s += QMASK[mrow + (t0 + jj) * P.maskK]; }
        let p = exp1(s - lse);
        let ds = p * (((dp4.x + dp4.y) + (dp4.z + dp4.w)) - di);
        for (var c = 0u; c < nc(); c++) { dq[c] += ds * qkey(at, jj, c); }
        if (P.hasBias != 0u) { QDBIAS[row * P.lk + t0 + jj] = ds; }
      }
    }
  }
  if (!live) { return; }
  for (var c = 0u; c < nc(); c++) {
    for (var e = 0u; e < 4u; e++) {
      if (4u * c + e < P.d) { QDQ[row * P.d + 4u * c + e] = dq[c][e] * P.scale; }
    }
  }
}

// ---- backward: dK, dV (one invocation per key row) ----
@group(0) @binding(1) var<storage, read> KQ: array<f32>;
@group(0) @binding(2) var<storage, read> KK: array<f32>;
@group(0) @binding(3) var<storage, read> KV: array<f32>;
@group(0) @binding(4) var<storage, read> KMASK: array<f32>;
@group(0) @binding(5) var<storage, read> KDOUT: array<f32>;
@group(0) @binding(6) var<storage, read> KSTATS: array<f32>;
@group(0) @binding(7) var<storage, read_write> KDK: array<f32>;
@group(0) @binding(8) var<storage, read_write> KDV: array<f32>;

fn kq(at: u32, c: u32) -> vec4<f32> {
  let i = at + 4u * c; let d = P.d;
  return vec4<f32>(select(0.0, KQ[i], 4u * c < d), select(0.0, KQ[i + 1u], 4u * c + 1u < d),
                   select(0.0, KQ[i + 2u], 4u * c + 2u < d), select(0.0, KQ[i + 3u], 4u * c + 3u < d));
}
fn kdo(at: u32, c: u32) -> vec4<f32> {
  let i = at + 4u * c; let d = P.d;
  return vec4<f32>(select(0.0, KDOUT[i], 4u * c < d), select(0.0, KDOUT[i + 1u], 4u * c + 1u < d),
                   select(0.0, KDOUT[i + 2u], 4u * c + 2u < d), select(0.0, KDOUT[i + 3u], 4u * c + 3u < d));
}
// Row ii of the current query / output-gradient tile, vec4 c.
fn kqry(at: u32, ii: u32, c: u32) -> vec4<f32> {
  if (SHARED) { return tileA[ii * D4 + c]; }
  return kq(at, c);
}
fn kgrad(at: u32, ii: u32, c: u32) -> vec4<f32> {
  if (SHARED) { return tileB[ii * D4 + c]; }
  return kdo(at, c);
}

@compute @workgroup_size(WG)
fn attention_backward_kv(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let g = linear(wg, nwg);
  if (g >= P.batch * kvHeads() * P.blocks) { return; }
  let n = P.batch * P.heads * P.lq;
  let bkv = g / P.blocks;
  let j0 = (g % P.blocks) * WG;
  let b = bkv / kvHeads();
  let hk = bkv % kvHeads();
  let j = j0 + lid;
  let krow = bkv * P.lk + min(j, P.lk - 1u);
  let live = j < min(P.lk, u32(KSTATS[2u * n + b]));
  var k: array<vec4<f32>, MAX_D4>;
  var v: array<vec4<f32>, MAX_D4>;
  var dk: array<vec4<f32>, MAX_D4>;
  var dv: array<vec4<f32>, MAX_D4>;
  for (var c = 0u; c < nc(); c++) {
    let e = krow * P.d + 4u * c;
    k[c] = vec4<f32>(select(0.0, KK[e], 4u * c < P.d), select(0.0, KK[e + 1u], 4u * c + 1u < P.d),
                     select(0.0, KK[e + 2u], 4u * c + 2u < P.d), select(0.0, KK[e + 3u], 4u * c + 3u < P.d)) * P.scale;
    v[c] = vec4<f32>(select(0.0, KV[e], 4u * c < P.d), select(0.0, KV[e + 1u], 4u * c + 1u < P.d),
                     select(0.0, KV[e + 2u], 4u * c + 2u < P.d), select(0.0, KV[e + 3u], 4u * c + 3u < P.d));
    dk[c] = vec4<f32>(0.0);
    dv[c] = vec4<f32>(0.0);
  }
  // Causal: queries before the workgroup's first key see none of its keys.
  let iStart = select(0u, min(j0, P.lq), P.causal != 0u);
  for (var gi = 0u; gi < P.group; gi++) {
    let h = hk * P.group + gi;
    let bh = b * P.heads + h;
    for (var i0 = iStart; i0 < P.lq; i0 += TILE) {
      let nt = min(TILE, P.lq - i0);
      if (SHARED) {
        workgroupBarrier();
        for (var x = lid; x < TILE * D4; x += WG) {
          let at = (bh * P.lq + min(i0 + x / D4, P.lq - 1u)) * P.d;
          tileA[x] = kq(at, x % D4);
          tileB[x] = kdo(at, x % D4);
        }
        workgroupBarrier();
      }
      if (live) {
        for (var ii = 0u; ii < nt; ii++) {
          let i = i0 + ii;
          let row = bh * P.lq + i;
          let lse = KSTATS[row];
          if ((P.causal != 0u && j > i) || lse > EMPTY) { continue; }
          let at = row * P.d;
          var s4 = vec4<f32>(0.0);
          var dp4 = vec4<f32>(0.0);
          for (var c = 0u; c < nc(); c++) { s4 += kqry(at, ii, c) * k[c]; dp4 += kgrad(at, ii, c) * v[c]; }
          var s = (s4.x + s4.y) + (s4.z + s4.w);
          if (P.hasMask != 0u) { s += KMASK[maskOffset(b, h, i) + j * P.maskK]; }
          let p = exp1(s - lse);
          let ds = p * (((dp4.x + dp4.y) + (dp4.z + dp4.w)) - KSTATS[n + row]);
          for (var c = 0u; c < nc(); c++) { dv[c] += p * kgrad(at, ii, c); dk[c] += ds * kqry(at, ii, c); }
        }
      }
    }
  }
  if (j >= P.lk) { return; }
  for (var c = 0u; c < nc(); c++) {
    for (var e = 0u; e < 4u; e++) {
      if (4u * c + e < P.d) {
        KDK[krow * P.d + 4u * c + e] = select(0.0, dk[c][e] * P.scale, live);
        KDV[krow * P.d + 4u * c + e] = select(0.0, dv[c][e], live);
      }
    }
  }
}
