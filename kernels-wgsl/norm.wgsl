// LayerNorm and RMSNorm over contiguous rows of P.cols values.
//
// norm_forward: one workgroup per row (linearised past 65535 rows). Each
// invocation keeps Welford's running (count, mean, M2) over its strided slice
// of the row, shifted by the row's first value; the triples are merged by one
// tree in workgroup memory (Chan's pairwise update), so the statistics take
// one pass and a large mean never cancels against Σx². RMSNorm merges plain sums of squares. Then
// y = (x − mean)·rstd·w + b, with the scale and shift fused.
//
// norm_backward: one workgroup per block of NORM_BLOCK_ROWS rows. For each row
// it reduces Σ g·w and Σ g·w·x̂ by one tree and writes
// dx = rstd·(g·w − mean(g·w) − x̂·mean(g·w·x̂)); in the same pass each
// invocation adds g·x̂ and g of the columns it owns into the block's partial
// row (PART: dw's cols, then db's), which no other workgroup touches.
// norm_params then sums the blocks per column, in block order: the same bits
// on every run.

override WG: u32 = 64u;   // power of two
override RMS: bool = false;
override HAS_W: bool = false;
override HAS_B: bool = false;
override PARAMS: bool = false; // backward: write the partials (some parameter gradient is wanted)

@group(0) @binding(0) var<uniform> P: NormDims;

var<workgroup> wn: array<f32, WG>;
var<workgroup> wa: array<f32, WG>;
var<workgroup> wb: array<f32, WG>;

fn rowOf(wg: vec3<u32>, nwg: vec3<u32>) -> u32 { return wg.x + wg.y * nwg.x; }

// Merges slot lid + h into slot lid: Welford triples (count, mean, M2), or two sums when !welford.
fn mergeTree(lid: u32, welford: bool) {
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) {
      let n1 = wn[lid];
      let n2 = wn[lid + h];
      if (!welford) {
        wa[lid] = wa[lid] + wa[lid + h];
        wb[lid] = wb[lid] + wb[lid + h];
      } else if (n2 > 0.0) {
        if (n1 == 0.0) {
          wn[lid] = n2;
          wa[lid] = wa[lid + h];
          wb[lid] = wb[lid + h];
        } else {
          let n = n1 + n2;
          let d = wa[lid + h] - wa[lid];
          wn[lid] = n;
          wa[lid] = wa[lid] + d * (n2 / n);
          wb[lid] = wb[lid] + wb[lid + h] + d * d * (n1 * n2 / n);
        }
      }
    }
    workgroupBarrier();
  }
}

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(5) var<storage, read_write> STATS: array<f32>;

@compute @workgroup_size(WG)
fn norm_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = rowOf(wg, nwg);
  if (row >= P.rows) { return; }
  let base = row * P.cols;
  // Shifted by the row's first value: the merge's mean differences are then of
  // the spread's size, not rounded to ulp(mean) (at mean 100, ulp 8e-6).
  let k = select(X[base], 0.0, RMS);
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var c = lid.x; c < P.cols; c += WG) {
    let v = X[base + c] - k;
    if (RMS) {
      m2 += v * v;
    } else {
      n += 1.0;
      let d = v - mean;
      mean += d / n;
      m2 += d * (v - mean);
    }
  }
  wn[lid.x] = n;
  wa[lid.x] = mean;
  wb[lid.x] = m2;
  workgroupBarrier();
  mergeTree(lid.x, !RMS);
  let mu = select(k + wa[0], 0.0, RMS);
  let rstd = 1.0 / sqrt(wb[0] / f32(P.cols) + P.eps);
  if (lid.x == 0u) {
    STATS[2u * row] = mu;
    STATS[2u * row + 1u] = rstd;
  }
  for (var c = lid.x; c < P.cols; c += WG) {
    var y = (X[base + c] - mu) * rstd;
    if (HAS_W) { y *= W[c]; }
    if (HAS_B) { y += B[c]; }
    OUT[base + c] = y;
  }
}

@group(0) @binding(1) var<storage, read> BX: array<f32>;
@group(0) @binding(2) var<storage, read> BW: array<f32>;
@group(0) @binding(3) var<storage, read> BG: array<f32>;
@group(0) @binding(4) var<storage, read> BSTATS: array<f32>;
@group(0) @binding(5) var<storage, read_write> DX: array<f32>;
@group(0) @binding(6) var<storage, read_write> PART: array<f32>;

fn gw(base: u32, c: u32) -> f32 { return select(BG[base + c], BG[base + c] * BW[c], HAS_W); }

@compute @workgroup_size(WG)
fn norm_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_id) lid: vec3<u32>) {
  let blk = rowOf(wg, nwg);
  if (blk >= P.blocks) { return; }
  let r0 = blk * NORM_BLOCK_ROWS;
  let r1 = min(P.rows, r0 + NORM_BLOCK_ROWS);
  let pb = blk * 2u * P.cols;
  if (PARAMS) {
    for (var c = lid.x; c < P.cols; c += WG) {
      PART[pb + c] = 0.0;
      PART[pb + P.cols + c] = 0.0;
    }
  }
  for (var row = r0; row < r1; row++) {
    let base = row * P.cols;
    let mu = BSTATS[2u * row];
    let rstd = BSTATS[2u * row + 1u];
    var a = 0.0;
    var b = 0.0;
    for (var c = lid.x; c < P.cols; c += WG) {
      let xh = (BX[base + c] - mu) * rstd;
      let q = gw(base, c);
      a += q;
      b += q * xh;
      if (PARAMS) {
        PART[pb + c] += BG[base + c] * xh;
        PART[pb + P.cols + c] += BG[base + c];
      }
    }
    wa[lid.x] = a;
    wb[lid.x] = b;
    workgroupBarrier();
    mergeTree(lid.x, false);
    let n = f32(P.cols);
    let ma = select(wa[0] / n, 0.0, RMS);
    let mb = wb[0] / n;
    for (var c = lid.x; c < P.cols; c += WG) {
      let xh = (BX[base + c] - mu) * rstd;
      DX[base + c] = rstd * ((gw(base, c) - ma) - xh * mb);
    }
    // The next row's tree overwrites slot 0, which every invocation has just read.
    workgroupBarrier();
  }
}

@group(0) @binding(1) var<storage, read> SUMS: array<f32>;
@group(0) @binding(2) var<storage, read_write> DW: array<f32>;
@group(0) @binding(3) var<storage, read_write> DB: array<f32>;

// One invocation per partial column (dw's cols, then db's): Σ over the blocks in block order.
@compute @workgroup_size(WG)
fn norm_params(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let c = rowOf(wg, nwg) * WG + lid.x;
  if (c >= 2u * P.cols) { return; }
  var s = 0.0;
  for (var k = 0u; k < P.blocks; k++) { s += SUMS[k * 2u * P.cols + c]; }
  if (c < P.cols) {
    if (HAS_W) { DW[c] = s; }
  } else if (HAS_B) {
    DB[c - P.cols] = s;
  }
}
