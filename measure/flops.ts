// FLOP counts of the timed work, shared by the Node bench (bench/) and the
// playground (its live GFLOP/s and its bench tab). Only the matrix products
// count (2·M·N·K each), the usual basis of GFLOP/s; elementwise work and the
// optimizer update are left out.

/**
 * One training step of an MLP with layer sizes `sizes` ([inputs, hidden…,
 * outputs]) on `batch` rows: every layer's forward product and weight
 * gradient, and the input gradient of every layer but the first (the input
 * is data and needs none).
 */
export function mlpFlops(sizes: readonly number[], batch: number): number {
  let f = 0;
  for (let i = 0; i + 1 < sizes.length; i++) f += 2 * batch * sizes[i] * sizes[i + 1] * (i === 0 ? 2 : 3);
  return f;
}
