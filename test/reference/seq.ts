// Float64 references for the sequence-model kernels and ops: LayerNorm and
// RMSNorm (forward and hand-derived VJP), embedding gather / scatter-add, and
// softmax cross-entropy against class ids. Written from the math, not from
// the kernels: two-pass statistics, plain loops.

/** LayerNorm (rms false) or RMSNorm of `rows` rows of `cols`; w, b may be null. */
export function norm(x: ArrayLike<number>, w: ArrayLike<number> | null, b: ArrayLike<number> | null, rows: number, cols: number, eps: number, rms: boolean) {
  const y = new Float64Array(rows * cols), mean = new Float64Array(rows), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    if (!rms) {
      for (let c = 0; c < cols; c++) m += x[r * cols + c];
      m /= cols;
    }
    let v = 0;
    for (let c = 0; c < cols; c++) v += (x[r * cols + c] - m) ** 2;
    v /= cols;
    const s = 1 / Math.sqrt(v + eps);
    mean[r] = m;
    rstd[r] = s;
    for (let c = 0; c < cols; c++) y[r * cols + c] = (x[r * cols + c] - m) * s * (w ? w[c] : 1) + (b ? b[c] : 0);
  }
  return { y, mean, rstd };
}

/**
 * VJP of norm: with x̂ = (x − μ)·s and u = g·w,
 *   dx = s·(u − mean(u) − x̂·mean(u·x̂))   (RMSNorm: no mean(u) term, μ = 0)
 *   dw = Σ_rows g·x̂,  db = Σ_rows g.
 */
export function normVjp(x: ArrayLike<number>, w: ArrayLike<number> | null, g: ArrayLike<number>, rows: number, cols: number, eps: number, rms: boolean) {
  const { mean, rstd } = norm(x, null, null, rows, cols, eps, rms);
  const dx = new Float64Array(rows * cols), dw = new Float64Array(cols), db = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    let a = 0, c2 = 0;
    for (let c = 0; c < cols; c++) {
      const xh = (x[r * cols + c] - mean[r]) * rstd[r];
      const u = g[r * cols + c] * (w ? w[c] : 1);
      a += u;
      c2 += u * xh;
      dw[c] += g[r * cols + c] * xh;
      db[c] += g[r * cols + c];
    }
    const ma = rms ? 0 : a / cols, mc = c2 / cols;
    for (let c = 0; c < cols; c++) {
      const xh = (x[r * cols + c] - mean[r]) * rstd[r];
      const u = g[r * cols + c] * (w ? w[c] : 1);
      dx[r * cols + c] = rstd[r] * (u - ma - xh * mc);
    }
  }
  return { dx, dw, db };
}

/** out[i, :] = weight[ids[i], :]. */
export function gather(weight: ArrayLike<number>, ids: ArrayLike<number>, dim: number): Float64Array {
  const out = new Float64Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) for (let c = 0; c < dim; c++) out[i * dim + c] = weight[ids[i] * dim + c];
  return out;
}

/** dWeight[v, :] = Σ_{i: ids[i] = v, v ≠ paddingIdx} g[i, :]. */
export function scatterAdd(g: ArrayLike<number>, ids: ArrayLike<number>, num: number, dim: number, paddingIdx?: number): Float64Array {
  const out = new Float64Array(num * dim);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] === paddingIdx) continue;
    for (let c = 0; c < dim; c++) out[ids[i] * dim + c] += g[i * dim + c];
  }
  return out;
}

/** Per-row loss log Σ e^x − x_t, by the log-sum-exp of the row shifted by its max. */
export function xentForward(x: ArrayLike<number>, t: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const loss = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    loss[r] = m + Math.log(s) - x[r * cols + t[r]];
  }
  return loss;
}

/** dx[r, c] = gRow[r] · (softmax(x_r)[c] − [c = t_r]). */
export function xentVjp(x: ArrayLike<number>, t: ArrayLike<number>, gRow: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    for (let c = 0; c < cols; c++) dx[r * cols + c] = gRow[r] * (Math.exp(x[r * cols + c] - m) / s - (c === t[r] ? 1 : 0));
  }
  return dx;
}

/**
 * PyTorch's cross-entropy with `ignore_index` and `label_smoothing`, from its
 * definition: per row r, q = (1 − ε)·onehot(t_r) + ε/cols and
 * loss_r = −Σ_c q_c · log softmax(x_r)_c; a row with t_r = ignore has loss 0.
 */
export function xentOptionsForward(x: ArrayLike<number>, t: ArrayLike<number>, rows: number, cols: number, eps: number, ignore: number): Float64Array {
  const loss = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    if (t[r] === ignore) continue;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < cols; c++) loss[r] -= ((c === t[r] ? 1 - eps : 0) + eps / cols) * (x[r * cols + c] - lse);
  }
  return loss;
}

/** Its gradient: dx[r, c] = gRow[r] · (softmax(x_r)[c] − q_c), 0 on an ignored row. */
export function xentOptionsVjp(x: ArrayLike<number>, t: ArrayLike<number>, gRow: ArrayLike<number>, rows: number, cols: number, eps: number, ignore: number): Float64Array {
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    if (t[r] === ignore) continue;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    for (let c = 0; c < cols; c++) {
      dx[r * cols + c] = gRow[r] * (Math.exp(x[r * cols + c] - m) / s - ((c === t[r] ? 1 - eps : 0) + eps / cols));
    }
  }
  return dx;
}
