// Shape simplification before a strided kernel (both backends): fewer
// dimensions mean less index arithmetic per element and expose the
// contiguous fast paths.

/**
 * Drops size-1 dimensions and merges neighbours d, d+1 wherever every stride
 * vector satisfies strides[d] == strides[d+1] * shape[d+1] (row-major
 * contiguity, including broadcast 0 == 0). The element order is unchanged.
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]) {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}
