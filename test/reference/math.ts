// Scalar float64 definitions of every elementwise function. These are the
// mathematical definitions, written independently of the kernels, with
// PyTorch's answers at NaN, ±inf and ±0: relu(NaN) = NaN, relu(−0) = −0, a
// relu gradient that passes through NaN (torch's threshold_backward: zero only
// where x <= 0), sign(NaN) = 0 (torch 1.13), maximum/minimum NaN if either is.

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

export const relu = (x: number) => (x < 0 ? 0 : x);
export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/**
 * GELU, tanh approximation (as jax.nn.gelu and GPT-2): 0.5 x (1 + tanh u),
 * u = sqrt(2/pi) (x + 0.044715 x^3). Evaluated as x * sigmoid(2u), the same
 * function: `1 + tanh u` cancels for x < -6 even in float64 (relative error
 * 3e-7 at x = -6, 7e-3 at x = -7, 100% below -7.4).
 */
export const gelu = (x: number) => x / (1 + Math.exp(-2 * SQRT_2_OVER_PI * (x + GELU_C * x * x * x)));
/** The two terms of d gelu / dx = 0.5 (1 + t) + 0.5 x (1 - t^2) u' (t = tanh u) as s and 2 x s (1 - s) u', s = sigmoid(2u). */
function geluGradTerms(x: number): [number, number] {
  const u = SQRT_2_OVER_PI * (x + GELU_C * x * x * x);
  const s = 1 / (1 + Math.exp(-2 * u));
  const du = SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
  return [s, 2 * x * s * (1 - s) * du];
}
export function geluGrad(x: number): number {
  const [s, t] = geluGradTerms(x);
  return s + t;
}

/**
 * The size of the terms an evaluation of geluGrad adds: s + |2 x s (1 - s) u'|.
 * geluGrad has a root at x = -0.7518 where those terms cancel, so near it any
 * float32 evaluation has an unbounded error relative to geluGrad but stays a
 * few ulp of this scale. Tests measure gelu_bwd errors against it.
 */
export function geluGradScale(x: number): number {
  const [s, t] = geluGradTerms(x);
  return s + Math.abs(t);
}

/** |binary(op, a, b)|, except gelu_bwd: |b| · geluGradScale(a) (see there). */
export function binaryScale(op: string, a: number, b: number): number {
  return op === 'gelu_bwd' ? Math.abs(b) * geluGradScale(a) : Math.abs(binary(op, a, b));
}

export function activation(act: string, x: number): number {
  switch (act) {
    case 'none': return x;
    case 'relu': return relu(x);
    case 'gelu': return gelu(x);
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return sigmoid(x);
  }
  throw new Error(`reference: unknown activation ${act}`);
}

/** d activation / dx. */
export function activationGrad(act: string, x: number): number {
  switch (act) {
    case 'none': return 1;
    case 'relu': return x <= 0 ? 0 : 1;
    case 'gelu': return geluGrad(x);
    case 'tanh': return 1 - Math.tanh(x) ** 2;
    case 'sigmoid': return sigmoid(x) * (1 - sigmoid(x));
  }
  throw new Error(`reference: unknown activation ${act}`);
}

export function unary(op: string, x: number, alpha = 1, beta = 0): number {
  switch (op) {
    case 'copy': return x;
    case 'neg': return -x;
    case 'exp': return Math.exp(x);
    case 'log': return Math.log(x);
    case 'abs': return Math.abs(x);
    case 'sqrt': return Math.sqrt(x);
    case 'square': return x * x;
    case 'sign': return x > 0 ? 1 : x < 0 ? -1 : 0;
    case 'relu': return relu(x);
    case 'gelu': return gelu(x);
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return sigmoid(x);
    case 'affine': return alpha * x + beta;
    case 'rdiv': return alpha / x;
  }
  throw new Error(`reference: unknown unary op ${op}`);
}

export function binary(op: string, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'maximum': return Math.max(a, b);
    case 'minimum': return Math.min(a, b);
    case 'eq': return a === b ? 1 : 0;
    case 'gt': return a > b ? 1 : 0;
    case 'relu_bwd': return a <= 0 ? 0 : b;
    case 'gelu_bwd': return b * geluGrad(a);
    case 'tanh_bwd': return b * (1 - a * a);
    case 'sigmoid_bwd': return b * a * (1 - a);
    // 0 · b = 0 even for b = ±inf (the 0 · log 0 = 0 of an entropy, as torch.xlogy); NaN stays NaN.
    case 'xmul': return a === 0 && !Number.isNaN(b) ? 0 : a * b;
    // a where b is true (non-zero; NaN is true), else −0.
    case 'mask': return b !== 0 ? a : -0;
    case 'ge': return a >= b ? 1 : 0;
    case 'pow': return pow(a, b);
  }
  throw new Error(`reference: unknown binary op ${op}`);
}

/** C's pow (PyTorch's): JavaScript's Math.pow except x^±0 = 1 and 1^y = 1 for every x, y (NaN too), and (−1)^±inf = 1. */
export function pow(a: number, b: number): number {
  if (b === 0 || a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}
