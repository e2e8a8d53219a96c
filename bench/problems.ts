// The problems every library is timed on. FLOP counts are for the matrix
// products (2·M·N·K each), the standard way to quote GFLOP/s.

export interface MatmulProblem { kind: 'matmul'; name: string; M: number; N: number; K: number; flops: number }
export interface MlpProblem { kind: 'mlp'; name: string; sizes: number[]; batch: number; optimizer: 'sgd' | 'adam'; flops: number }
export type Problem = MatmulProblem | MlpProblem;

const mm = (M: number, K: number, N: number, name = `matmul ${M}×${K}×${N}`): MatmulProblem =>
  ({ kind: 'matmul', name, M, N, K, flops: 2 * M * N * K });

/** Forward, dW for every layer and dX for every layer but the first (the input needs no gradient). */
export function mlpFlops(sizes: number[], batch: number): number {
  let f = 0;
  for (let i = 0; i + 1 < sizes.length; i++) {
    const layer = 2 * batch * sizes[i] * sizes[i + 1];
    f += layer * (i === 0 ? 2 : 3);
  }
  return f;
}

const mlp = (optimizer: 'sgd' | 'adam'): MlpProblem => {
  const sizes = [784, 256, 256, 10], batch = 128;
  return { kind: 'mlp', name: `MLP step 784-256-256-10 b128 ${optimizer.toUpperCase()}`, sizes, batch, optimizer, flops: mlpFlops(sizes, batch) };
};

export const SQUARE = [64, 128, 256, 512, 1024];

export function problems(quick: boolean): Problem[] {
  const sizes = quick ? [64, 256, 512] : SQUARE;
  return [
    ...sizes.map((n) => mm(n, n, n, `matmul ${n}³`)),
    mm(128, 784, 256),
    mlp('sgd'),
  ];
}
