// Float64 references for the classification metrics, by plain host loops.

/** Scores in a stable descending sort, NaN first (as argmax / torch.sort with descending: NaN counts as the largest). */
function above(a: number, b: number): boolean {
  if (Number.isNaN(a)) return !Number.isNaN(b);
  return !Number.isNaN(b) && a > b;
}

/** Place of `label` in the row sorted descending, ties by class id (0: first). */
export function labelRank(row: ArrayLike<number>, label: number): number {
  let r = 0;
  for (let c = 0; c < row.length; c++) {
    const eq = Object.is(row[c], row[label]) || row[c] === row[label] || (Number.isNaN(row[c]) && Number.isNaN(row[label]));
    if (above(row[c], row[label]) || (c < label && eq)) r++;
  }
  return r;
}

/** Top-k accuracy of [n, C] scores. */
export function topKAccuracy(z: ArrayLike<number>, n: number, C: number, labels: ArrayLike<number>, k: number): number {
  let right = 0;
  for (let i = 0; i < n; i++) if (labelRank(Array.from({ length: C }, (_, c) => z[i * C + c]), labels[i]) < k) right++;
  return right / n;
}

/** Counts [true][predicted], the prediction being the first largest score (NaN largest). */
export function confusion(z: ArrayLike<number>, n: number, C: number, labels: ArrayLike<number>): number[][] {
  const m = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (above(z[i * C + c], z[i * C + best])) best = c;
    m[labels[i]][best]++;
  }
  return m;
}
