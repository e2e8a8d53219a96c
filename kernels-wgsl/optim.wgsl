// In-place optimizer steps, one invocation per parameter, exactly as
// test/reference/kernels.ts (PyTorch's definitions). The gradient is only read.
// Workgroups are linearised (x + y * num_workgroups.x) past 65535.

override WG: u32 = 256u;

struct Sgd { n: u32, lr: f32, momentum: f32, weightDecay: f32, nesterov: u32 }
// 1 - beta and 1 - lr·wd come from the host in float64: f32(1 - 0.9999) is
// far more accurate than 1 - f32(0.9999).
struct Adam {
  n: u32, lr: f32, beta1: f32, beta2: f32, oneMinusBeta1: f32, oneMinusBeta2: f32,
  eps: f32, weightDecay: f32, decay: f32, decoupled: u32, biasCorrection1: f32, biasCorrection2: f32,
}

@group(0) @binding(0) var<uniform> S: Sgd;
@group(0) @binding(0) var<uniform> A: Adam;
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

// Plain SGD (momentum 0): no velocity buffer is bound.
@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i >= S.n) { return; }
  let p = PARAM[i];
  PARAM[i] = p - S.lr * (GRAD[i] + S.weightDecay * p);
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
  PARAM4[i] = p - S.lr * (GRAD4[i] + S.weightDecay * p);
}

@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = linear(wg, nwg, lid);
  if (i >= S.n) { return; }
  let p = PARAM[i];
  let d = GRAD[i] + S.weightDecay * p;
  let v = S.momentum * VEL[i] + d;
  VEL[i] = v;
  PARAM[i] = p - S.lr * select(v, d + S.momentum * v, S.nesterov != 0u);
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
