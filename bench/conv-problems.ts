// The convolution problems: the forward of four layer shapes (stride 1,
// 'same'), and forward + backward (both gradients, given the output's
// gradient) of two of them. Inputs are NHWC / HWIO (lepton, tfjs); the
// NCHW / OIHW copies for jax-js and onnxruntime are the same numbers,
// transposed before timing. FLOPs count 2·N·Ho·Wo·O·(C/groups)·Kh·Kw per
// pass (a backward is two such passes: the input and the filter gradient).

export interface ConvProblem {
  kind: 'conv'; id: string; name: string;
  N: number; H: number; W: number; C: number; O: number; K: number;
  /** groups = C = O: a depthwise convolution. */
  depthwise: boolean;
  /** Forward + backward (dx and dw from dy) instead of the forward alone. */
  backward: boolean;
  flops: number;
}

function conv(N: number, H: number, W: number, C: number, K: number, O: number, opts: { depthwise?: boolean; backward?: boolean } = {}): ConvProblem {
  const depthwise = opts.depthwise ?? false, backward = opts.backward ?? false;
  const pass = 2 * N * H * W * O * (depthwise ? 1 : C) * K * K;
  const shape = `x[${N},${H},${W},${C}]⊛${K}×${K}${depthwise ? ' depthwise' : `×${C}→${O}`}`;
  return {
    kind: 'conv', id: `conv-${backward ? 'bwd' : depthwise ? 'dw' : 'fwd'}-${N}x${H}x${W}x${C}-${K}x${K}x${O}`,
    name: `conv ${backward ? 'fwd+bwd' : 'fwd'} ${shape}`, N, H, W, C, O, K, depthwise, backward,
    flops: backward ? 3 * pass : pass,
  };
}

export function convProblems(quick: boolean): ConvProblem[] {
  return [
    conv(8, 32, 32, 16, 3, 32),
    ...(quick ? [] : [conv(64, 28, 28, 1, 5, 32)]),
    conv(16, 56, 56, 64, 3, 64),
    ...(quick ? [] : [conv(8, 56, 56, 128, 3, 128, { depthwise: true })]),
    conv(8, 32, 32, 16, 3, 32, { backward: true }),
    ...(quick ? [] : [conv(16, 56, 56, 64, 3, 64, { backward: true })]),
  ];
}

/** Deterministic uniform [-1, 1) data (xorshift), the same as problems.ts `data`. */
function data(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** x [N, H, W, C], w [K, K, C / groups, O] (HWIO; depthwise: [K, K, 1, C]), dy [N, H, W, O]. */
export function convInputs(p: ConvProblem) {
  const cg = p.depthwise ? 1 : p.C;
  return {
    x: data(p.N * p.H * p.W * p.C, 21),
    w: data(p.K * p.K * cg * p.O, 22, 1 / Math.sqrt(p.K * p.K * cg)),
    dy: data(p.N * p.H * p.W * p.O, 23),
    wShape: [p.K, p.K, cg, p.O] as [number, number, number, number],
  };
}

/** NHWC → NCHW. */
export function toNCHW(x: Float32Array, N: number, H: number, W: number, C: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
    out[((n * C + c) * H + h) * W + w] = x[((n * H + h) * W + w) * C + c];
  }
  return out;
}

/** HWIO [K, K, I, O] → OIHW [O, I, K, K]. */
export function toOIHW(w: Float32Array, K: number, I: number, O: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let kh = 0; kh < K; kh++) for (let kw = 0; kw < K; kw++) for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) {
    out[((o * I + i) * K + kh) * K + kw] = w[((kh * K + kw) * I + i) * O + o];
  }
  return out;
}
