// The policy that splits one product over threads: which block of C each
// part of a MatmulJob (kernels-as/matmul.ts matmulPart) computes.

/** One part's block of the output: batch range [z0, z1), rows [m0, m1), columns [n0, n1). */
export interface Part { z0: number; z1: number; m0: number; m1: number; n0: number; n1: number }

/** Micro-tile columns of the packed kernel (NR in matmul.ts). */
const NR = 8;
/** Output floats per cache line: column and vector splits align to it so parts share no line. */
const LINE = 16;
/**
 * Cost of packing one element, in units of one multiply-add lane (the kernel
 * does 8 lanes per cycle; packing moves an element in about one): a row split
 * repacks all of B in every part, a column split all of A.
 */
const PACK_COST = 8;

/** Splits `units` into `parts` contiguous ranges of near-equal size; returns [from, to) in units. */
function ranges(units: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, p) => [Math.floor((p * units) / parts), Math.floor(((p + 1) * units) / parts)]);
}

/**
 * The parts of a product for at most `want` threads. Batches split first
 * when there are enough to go round; otherwise the output splits by columns
 * or rows, whichever leaves the busiest part the least work (tile padding and
 * the packing each part repeats included). Matrix-vector products split the
 * output vector.
 */
export function planMatmul(batch: number, M: number, N: number, K: number, want: number, tileRows: number): Part[] {
  const whole: Part = { z0: 0, z1: batch, m0: 0, m1: M, n0: 0, n1: N };
  if (want <= 1) return [whole];
  if (batch >= want && (batch % want === 0 || batch >= 4 * want)) {
    return ranges(batch, want).map(([z0, z1]) => ({ ...whole, z0, z1 }));
  }
  if (M === 1 || N === 1) {
    const L = N === 1 ? M : N;
    const units = Math.ceil(L / LINE);
    const parts = Math.min(want, units);
    if (parts <= 1) return [whole];
    return ranges(units, parts).map(([u0, u1]) => {
      const lo = u0 * LINE, hi = Math.min(L, u1 * LINE);
      return N === 1 ? { ...whole, m0: lo, m1: hi } : { ...whole, n0: lo, n1: hi };
    });
  }
  const padM = Math.ceil(M / tileRows) * tileRows, padN = Math.ceil(N / NR) * NR;
  // Column split: LINE-wide units where there are enough, else NR-wide.
  const colUnit = N >= LINE * want ? LINE : NR;
  const colUnits = Math.ceil(N / colUnit);
  const colParts = Math.min(want, colUnits);
  const colCost = Math.ceil(colUnits / colParts) * colUnit * padM * K + PACK_COST * M * K;
  const rowUnits = Math.ceil(M / tileRows);
  const rowParts = Math.min(want, rowUnits);
  const rowCost = Math.ceil(rowUnits / rowParts) * tileRows * padN * K + PACK_COST * N * K;
  // Costs are of the busiest part; the split with more than one part and the lower cost wins.
  const useCols = colParts > 1 && (rowParts <= 1 || colCost <= rowCost);
  if (useCols) {
    return ranges(colUnits, colParts).map(([u0, u1]) => ({ ...whole, n0: u0 * colUnit, n1: Math.min(N, u1 * colUnit) }));
  }
  if (rowParts > 1) {
    return ranges(rowUnits, rowParts).map(([u0, u1]) => ({ ...whole, m0: u0 * tileRows, m1: Math.min(M, u1 * tileRows) }));
  }
  return [whole];
}
