// Activation functions shared by matmul.wgsl (the fused epilogue) and
// elementwise.wgsl (unary ops and their derivatives), so both compute the
// same numbers. pipelines.ts prepends this file to those two modules.

// exp of a non-positive argument only, so nothing overflows.
fn sigmoid1(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

// tanh from exp(-2|x|); an odd polynomial near 0 where 1 - e cancels.
fn tanh1(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.25) {
    let x2 = x * x;
    return x * (1.0 + x2 * (-0.33333333 + x2 * (0.13333333 + x2 * (-0.053968254 + x2 * 0.021869488))));
  }
  let e = exp(-2.0 * a);
  return sign(x) * (1.0 - e) / (1.0 + e);
}

fn geluArg(x: f32) -> f32 { return 0.7978845608 * (x + 0.044715 * x * x * x); }

// 0.5·x·(1 + tanh(u)) == x·sigmoid(2u): no cancellation for negative x.
fn gelu1(x: f32) -> f32 { return x * sigmoid1(2.0 * geluArg(x)); }

// d/dx gelu with s = sigmoid(2u): 0.5(1 + tanh u) = s and 1 - tanh²u = 4s(1 - s).
fn geluGrad(x: f32) -> f32 {
  let s = sigmoid1(2.0 * geluArg(x));
  let du = 0.7978845608 * (1.0 + 3.0 * 0.044715 * x * x);
  return s + 2.0 * x * s * (1.0 - s) * du;
}
