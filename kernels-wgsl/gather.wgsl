// Indexing and scans along one dimension (src/backends/primitives/gather.ts):
//   gather       one invocation per output: x at the index read from IDX;
//                NaN where the index is not an integer in [0, size).
//   scatter_add  the adjoint: one invocation per line along `dim` (lines
//                reach distinct outputs), adding g serially in index order, so
//                repeated indices sum deterministically; bad indices skipped.
//   cumsum       one invocation per line of [outer, n, inner], summed in
//                double-float (twoSum), forward or from the end.
//   topk         one invocation per line: insertion into the k best so far,
//                compared on order keys (NaN above +inf, −0 equal to +0),
//                ties kept in index order.
// Indices are f32 values. Workgroups are linearised (x + y * num_workgroups.x).

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> G: GatherDims;
@group(0) @binding(0) var<uniform> S: ScanDims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> IDX: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(2) var<storage, read_write> SOUT: array<f32>;
@group(0) @binding(2) var<storage, read_write> VALS: array<f32>;
@group(0) @binding(3) var<storage, read_write> INDS: array<f32>;

fn at(a: array<vec4<u32>, MAX_RANK / 4u>, d: u32) -> u32 { return a[d / 4u][d % 4u]; }
fn ati(a: array<vec4<i32>, MAX_RANK / 4u>, d: u32) -> i32 { return a[d / 4u][d % 4u]; }

// The index as an integer, or −1 where it is NaN, not an integer, or out of [0, size).
fn checked(v: f32) -> i32 {
  if (isNan(v) || !(v >= 0.0) || !(v < f32(G.size)) || floor(v) != v) { return -1; }
  return i32(v);
}

@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.x + wg.y * nwg.x) * WG + lid.x;
  if (i >= G.n) { return; }
  var rest = i;
  var xo = 0;
  var io = 0;
  for (var d = G.rank; d > 0u; d--) {
    let size = at(G.shape, d - 1u);
    let c = rest % size;
    rest = rest / size;
    io += i32(c) * ati(G.idxStrides, d - 1u);
    if (d - 1u != G.dim) { xo += i32(c) * ati(G.xStrides, d - 1u); }
  }
  let k = checked(IDX[u32(io)]);
  if (k < 0) {
    OUT[i] = nanOf(0.0);
  } else {
    OUT[i] = X[u32(xo + k * ati(G.xStrides, G.dim))];
  }
}

@compute @workgroup_size(WG)
fn scatter_add(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let line = (wg.x + wg.y * nwg.x) * WG + lid.x;
  if (line >= G.n) { return; }
  // Coordinates of the line (dim's coordinate 0); g is contiguous over G.shape.
  var rest = line;
  var oo = 0;
  var io = 0;
  var go = 0u;
  var gStride = 1u;
  var gDim = 1u;
  for (var d = G.rank; d > 0u; d--) {
    let size = at(G.shape, d - 1u);
    if (d - 1u == G.dim) {
      gDim = gStride;
    } else {
      let c = rest % size;
      rest = rest / size;
      oo += i32(c) * ati(G.xStrides, d - 1u);
      io += i32(c) * ati(G.idxStrides, d - 1u);
      go += c * gStride;
    }
    gStride *= size;
  }
  let len = at(G.shape, G.dim);
  let iStep = ati(G.idxStrides, G.dim);
  let oStep = ati(G.xStrides, G.dim);
  for (var k = 0u; k < len; k++) {
    let t = checked(IDX[u32(io + i32(k) * iStep)]);
    if (t >= 0) {
      let o = u32(oo + t * oStep);
      OUT[o] = OUT[o] + X[go + k * gDim];
    }
  }
}

@compute @workgroup_size(WG)
fn cumsum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  let line = (wg.x + wg.y * nwg.x) * WG + lid.x;
  if (line >= S.outer * S.inner) { return; }
  let base = (line / S.inner) * S.n * S.inner + line % S.inner;
  var acc = vec2<f32>(0.0, 0.0);
  for (var j = 0u; j < S.n; j++) {
    let k = select(j, S.n - 1u - j, S.flag != 0u);
    let o = base + k * S.inner;
    let v = X[o];
    // Past a non-finite value or sum, the low part would be NaN (inf − inf): add plainly.
    if (isFinite(acc.x) && isFinite(v)) {
      acc = add2(acc, vec2<f32>(v, 0.0));
    } else {
      acc = vec2<f32>(acc.x + v, 0.0);
    }
    SOUT[o] = select(acc.x, acc.x + acc.y, isFinite(acc.x));
  }
}

// An order on f32 bits: larger keys for larger values, NaN above +inf, −0 = +0.
fn key(v: f32) -> u32 {
  var b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) == 0u) { b = 0u; }
  if (isNan(v)) { return 0xffffffffu; }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Larger ranks come first: the key (largest first), or its complement
// (smallest first) with NaN last, as PyTorch orders them.
fn rank(v: f32, largest: bool) -> u32 {
  if (largest) { return key(v); }
  return select(~key(v), 0u, isNan(v));
}

@compute @workgroup_size(WG)
fn topk(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let line = (wg.x + wg.y * nwg.x) * WG + lid.x;
  if (line >= S.outer * S.inner) { return; }
  let base = (line / S.inner) * S.n * S.inner + line % S.inner;
  let obase = (line / S.inner) * S.k * S.inner + line % S.inner;
  let largest = S.flag != 0u;
  var count = 0u;
  for (var j = 0u; j < S.n; j++) {
    let v = X[base + j * S.inner];
    let r = rank(v, largest);
    if (count == S.k) {
      // Full: v must beat the last kept value strictly (a tie keeps the earlier index).
      if (r <= rank(VALS[obase + (S.k - 1u) * S.inner], largest)) { continue; }
      count = S.k - 1u;
    }
    // Shift the entries v beats down one place, then insert after the ones it ties.
    var p = count;
    loop {
      if (p == 0u) { break; }
      let w = VALS[obase + (p - 1u) * S.inner];
      if (r <= rank(w, largest)) { break; }
      VALS[obase + p * S.inner] = w;
      INDS[obase + p * S.inner] = INDS[obase + (p - 1u) * S.inner];
      p--;
    }
    VALS[obase + p * S.inner] = v;
    INDS[obase + p * S.inner] = f32(j);
    count++;
  }
}
