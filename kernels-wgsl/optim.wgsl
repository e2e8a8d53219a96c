// In-place optimizer steps, one invocation per parameter, exactly as
// test/reference/kernels.ts (PyTorch's definitions). The gradient is only read.
// Workgroups are linearised (x + y * num_workgroups.x) past 65535.

override WG: u32 = 256u;

// SgdUniform and AdamUniform come from src/backends/primitives/optim.ts.
@group(0) @binding(0) var<uniform> S: SgdUniform;
@group(0) @binding(0) var<uniform> A: AdamUniform;
@group(0) @binding(1) var<storage, read_write> PARAM: array<f32>;
@group(0) @binding(2) var<storage, read> GRAD: array<f32>;
@group(0) @binding(3) var<storage, read_write> VEL: array<f32>;
@group(0) @binding(3) var<storage, read_write> M1: array<f32>;
@group(0) @binding(4) var<storage, read_write> M2: array<f32>;
// vec4 views for sgd4 (n a multiple of 4).
@group(0) @binding(1) var<storage, read_write> PARAM4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> GRAD4: array<vec4<f32>>;

fn linear(wg: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wg.x + wg.y * nwg.x) * WG + lid.x;
}

// SGD in double-float (twoSum, mul2, add2 from double-float.wgsl, prepended
// by src/backends/webgpu/shaders.ts): in `p − lr·d` or `μ·v + d` the two terms can nearly cancel
// (a large step on a small weight), and in plain f32 the result would then be
// mostly the rounding error of the product. Memory-bound, so the extra
// arithmetic is free.

// g + wd·p, the gradient with L2 decay.
fn decayed(g: f32, p: f32) -> vec2<f32> {
  return add2(vec2<f32>(g, 0.0), mul2(vec2<f32>(S.weightDecay, S.weightDecayLo), vec2<f32>(p, 0.0)));
}

// p − lr·d, rounded once.
fn stepped(p: f32, d: vec2<f32>) -> f32 {
  let r = add2(vec2<f32>(p, 0.0), mul2(vec2<f32>(-S.lr, -S.lrLo), d));
  return r.x + r.y;
}

// Plain SGD (momentum 0): no velocity buffer is bound.
@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i >= S.n) { return; }
  let p = PARAM[i];
  PARAM[i] = stepped(p, decayed(GRAD[i], p));
}

// Plain SGD, 4 values per invocation: a quarter of the invocations, which is
// what the update costs on CPU adapters (index math and bounds checks per
// invocation); the host uses it when n is a multiple of 4.
@compute @workgroup_size(WG)
fn sgd4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i >= S.n / 4u) { return; }
  let p = PARAM4[i];
  let g = GRAD4[i];
  PARAM4[i] = vec4<f32>(stepped(p.x, decayed(g.x, p.x)), stepped(p.y, decayed(g.y, p.y)),
                        stepped(p.z, decayed(g.z, p.z)), stepped(p.w, decayed(g.w, p.w)));
}

@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i >= S.n) { return; }
  let p = PARAM[i];
  let d = decayed(GRAD[i], p);
  let mu = vec2<f32>(S.momentum, S.momentumLo);
  let v = add2(mul2(mu, vec2<f32>(VEL[i], 0.0)), d);
  VEL[i] = v.x + v.y;
  PARAM[i] = stepped(p, select(v, add2(d, mul2(mu, v)), S.nesterov != 0u));
}

@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i >= A.n) { return; }
  var p = PARAM[i];
  var g = GRAD[i];
  if (A.decoupled != 0u) { p *= A.decay; } else { g += A.weightDecay * p; }
  let m = A.beta1 * M1[i] + A.oneMinusBeta1 * g;
  let v = A.beta2 * M2[i] + A.oneMinusBeta2 * g * g;
  M1[i] = m;
  M2[i] = v;
  PARAM[i] = p - A.lr * (m / A.biasCorrection1) / (sqrt(v / A.biasCorrection2) + A.eps);
}
