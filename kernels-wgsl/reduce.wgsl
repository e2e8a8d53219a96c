// Reduce the middle axis of a contiguous [outer, reduce, inner] view to
// [outer, inner]. OP is a REDUCE_* code; codes and ReduceDims come from
// src/backends/primitives/reduce.ts (prepended: src/backends/webgpu/shaders.ts).
//
// The reduced axis is cut into chunks of P.chunk values; each chunk gives one
// partial, written to OUT[(o * chunks + ch) * inner + c]. With one chunk this
// is the final result; the host reduces long axes in two (or more) passes, so
// that few outputs over a long axis still spread over many workgroups and f32
// sums add short runs (pairwise-like accuracy).
//
//   reduce_rows  inner == 1: one workgroup per (row, chunk); each invocation
//                folds a strided slice, then a tree in workgroup memory.
//   reduce_cols  one invocation per (o, chunk, c), folding values `inner`
//                apart (neighbouring invocations read neighbouring columns).
// Mean divides by P.div (the full axis length) and is only used on the last
// pass; earlier passes sum. Workgroups are linearised (x + y * num_workgroups.x).
// Max starts from −inf (max([−inf, −inf]) = −inf) and is NaN if any value is
// (as PyTorch's), with the bit tests of ieee.wgsl (prepended by
// src/backends/webgpu/shaders.ts): WGSL's max may drop a NaN.

override WG: u32 = 256u;  // power of two
override OP: u32 = 0u;

@group(0) @binding(0) var<uniform> P: ReduceDims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn identity() -> f32 { return select(0.0, negInf(), OP == REDUCE_MAX); }

fn combine(a: f32, b: f32) -> f32 {
  if (OP == REDUCE_MAX) { return maxNan(a, b); }
  return a + b;
}

fn finish(acc: f32) -> f32 {
  if (OP == REDUCE_MEAN) { return acc / P.div; }
  return acc;
}

@compute @workgroup_size(WG)
fn reduce_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let chunks = (P.reduce + P.chunk - 1u) / P.chunk;
  let id = wg.x + wg.y * nwg.x;
  if (id >= P.outer * chunks) { return; }
  let row = id / chunks;
  let k0 = (id - row * chunks) * P.chunk;
  let len = min(P.chunk, P.reduce - k0);
  let base = row * P.reduce + k0;
  var acc = identity();
  for (var k = lid.x; k < len; k += WG) { acc = combine(acc, X[base + k]); }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { partial[lid.x] = combine(partial[lid.x], partial[lid.x + s]); }
    workgroupBarrier();
  }
  if (lid.x == 0u) { OUT[id] = finish(partial[0]); }
}

@compute @workgroup_size(WG)
fn reduce_cols(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_id) lid: vec3<u32>) {
  let chunks = (P.reduce + P.chunk - 1u) / P.chunk;
  let i = (wg.x + wg.y * nwg.x) * WG + lid.x;
  if (i >= P.outer * chunks * P.inner) { return; }
  let oc = i / P.inner;        // o * chunks + ch
  let c = i - oc * P.inner;
  let o = oc / chunks;
  let k0 = (oc - o * chunks) * P.chunk;
  let len = min(P.chunk, P.reduce - k0);
  let base = (o * P.reduce + k0) * P.inner + c;
  // Four interleaved accumulators: shorter sequential chains, smaller f32 error.
  var acc = vec4<f32>(identity());
  var k = 0u;
  for (; k + 4u <= len; k += 4u) {
    let v = vec4<f32>(X[base + k * P.inner], X[base + (k + 1u) * P.inner],
                      X[base + (k + 2u) * P.inner], X[base + (k + 3u) * P.inner]);
    if (OP == REDUCE_MAX) { acc = maxNan4(acc, v); } else { acc += v; }
  }
  for (; k < len; k++) { acc.x = combine(acc.x, X[base + k * P.inner]); }
  OUT[i] = finish(combine(combine(acc.x, acc.y), combine(acc.z, acc.w)));
}
