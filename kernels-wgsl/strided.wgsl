// Strided gather: out[i] = x[offset + Σ_d coord_d(i) · strides[d]] over the
// row-major output shape (rank <= 8; rank 0 is one element). Serves
// transposes, broadcasts (stride 0) and slices. The host merges dimensions
// that are contiguous in the source first, so most copies run at rank 1 or 2.
// Strides are signed so that reversed views work. Workgroups are linearised
// (x + y * num_workgroups.x) past 65535.

override WG: u32 = 256u;

// StridedDims (src/backends/primitives/strided.ts): dimension d at [d / 4][d % 4].
@group(0) @binding(0) var<uniform> P: StridedDims;
@group(0) @binding(0) var<uniform> Q: StridedIntoDims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(WG)
fn strided(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.x + wg.y * nwg.x) * WG + lid.x;
  if (i >= P.n) { return; }
  var rest = i;
  var at = P.offset;
  for (var d = P.rank; d > 0u; d--) {
    let size = P.shape[(d - 1u) / 4u][(d - 1u) % 4u];
    let c = rest % size;
    rest = rest / size;
    at += i32(c) * P.strides[(d - 1u) / 4u][(d - 1u) % 4u];
  }
  OUT[i] = X[u32(at)];
}

// The copy into a strided region of OUT (concat pieces, a slice's gradient):
// OUT[outOffset + Σ c·outStrides] = X[offset + Σ c·strides]; the rest of OUT
// keeps its values.
@compute @workgroup_size(WG)
fn strided_into(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wg.x + wg.y * nwg.x) * WG + lid.x;
  if (i >= Q.n) { return; }
  var rest = i;
  var src = Q.offset;
  var dst = Q.outOffset;
  for (var d = Q.rank; d > 0u; d--) {
    let size = Q.shape[(d - 1u) / 4u][(d - 1u) % 4u];
    let c = rest % size;
    rest = rest / size;
    src += i32(c) * Q.strides[(d - 1u) / 4u][(d - 1u) % 4u];
    dst += i32(c) * Q.outStrides[(d - 1u) / 4u][(d - 1u) % 4u];
  }
  OUT[u32(dst)] = X[u32(src)];
}
