// Embedding: a gather of weight rows by id and its gradient as a
// deterministic scatter-add. Ids, positions and offsets are f32 values
// (exact below 2^24, which the op checks). One invocation per output element.
//
// embedding_grad: the op has grouped the positions by id on the host
// (ORDER, ascending within an id; OFFSETS: where each id's group starts), so
// each element of the weight's gradient is one invocation's sum over its
// group, in that order: the same bits on every run, and no atomics.

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> P: EmbeddingDims;
@group(0) @binding(1) var<storage, read> SRC: array<f32>;
@group(0) @binding(2) var<storage, read> IDS: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(3) var<storage, read> OFFSETS: array<f32>;
@group(0) @binding(4) var<storage, read_write> GOUT: array<f32>;

fn elementOf(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 { return (wg.x + wg.y * nwg.x) * WG + lid.x; }

@compute @workgroup_size(WG)
fn embedding_gather(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = elementOf(wg, nwg, lid);
  if (e >= P.rows * P.dim) { return; }
  let i = e / P.dim;
  OUT[e] = SRC[u32(IDS[i]) * P.dim + (e - i * P.dim)];
}

@compute @workgroup_size(WG)
fn embedding_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>) {
  let e = elementOf(wg, nwg, lid);
  if (e >= P.rows * P.dim) { return; }
  let v = e / P.dim;
  let c = e - v * P.dim;
  let k1 = u32(OFFSETS[v + 1u]);
  var s = 0.0;
  for (var k = u32(OFFSETS[v]); k < k1; k++) { s += SRC[u32(IDS[k]) * P.dim + c]; }
  GOUT[e] = s;
}
