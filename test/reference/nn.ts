// Float64 references for the normalisation and shape layers (NHWC), written
// from PyTorch's definitions: BatchNorm2d's forward, its VJP (the textbook
// formula through the batch statistics) and its running-statistics update.
import type { Nd } from './ops.js';

/** Per channel (last axis) mean and biased variance over every other axis. */
export function channelStats(x: Nd): { mean: Float64Array; varB: Float64Array; n: number } {
  const C = x.shape.at(-1)!, n = x.data.length / C;
  const mean = new Float64Array(C), varB = new Float64Array(C);
  x.data.forEach((v, i) => { mean[i % C] += v / n; });
  x.data.forEach((v, i) => { varB[i % C] += (v - mean[i % C]) ** 2 / n; });
  return { mean, varB, n };
}

/** (x − μ) / √(σ² + eps) · γ + β with the given statistics (γ, β null: 1 and 0). */
export function batchNorm(x: Nd, mean: ArrayLike<number>, v: ArrayLike<number>, gamma: ArrayLike<number> | null, beta: ArrayLike<number> | null, eps: number): Nd {
  const C = x.shape.at(-1)!;
  const data = x.data.map((val, i) => {
    const c = i % C;
    return (val - mean[c]) / Math.sqrt(v[c] + eps) * (gamma ? gamma[c] : 1) + (beta ? beta[c] : 0);
  });
  return { data, shape: [...x.shape] };
}

/** [dx, dγ, dβ] of <g, batchNorm(x) with the batch's own statistics>. */
export function batchNormTrainVjp(x: Nd, gamma: ArrayLike<number> | null, eps: number, g: Nd): Nd[] {
  const C = x.shape.at(-1)!;
  const { mean, varB, n } = channelStats(x);
  const inv = Float64Array.from(varB, (v) => 1 / Math.sqrt(v + eps));
  const xhat = x.data.map((v, i) => (v - mean[i % C]) * inv[i % C]);
  const dgamma = new Float64Array(C), dbeta = new Float64Array(C), sumDxhat = new Float64Array(C), sumDxhatXhat = new Float64Array(C);
  g.data.forEach((gv, i) => {
    const c = i % C, dxhat = gv * (gamma ? gamma[c] : 1);
    dgamma[c] += gv * xhat[i];
    dbeta[c] += gv;
    sumDxhat[c] += dxhat;
    sumDxhatXhat[c] += dxhat * xhat[i];
  });
  const dx = g.data.map((gv, i) => {
    const c = i % C, dxhat = gv * (gamma ? gamma[c] : 1);
    return inv[c] / n * (n * dxhat - sumDxhat[c] - xhat[i] * sumDxhatXhat[c]);
  });
  return [{ data: dx, shape: [...x.shape] }, { data: dgamma, shape: [C] }, { data: dbeta, shape: [C] }];
}

/** One training step's running statistics: (1 − m)·old + m·batch, the variance unbiased; m = 1 / step when momentum is null. */
export function runningUpdate(runMean: Float64Array, runVar: Float64Array, x: Nd, momentum: number | null, step: number): void {
  const { mean, varB, n } = channelStats(x);
  const m = momentum ?? 1 / step;
  for (let c = 0; c < runMean.length; c++) {
    runMean[c] = (1 - m) * runMean[c] + m * mean[c];
    runVar[c] = (1 - m) * runVar[c] + m * varB[c] * n / (n - 1);
  }
}
