// cumsum and topk along one dimension: each line of a contiguous [outer, n,
// inner] view is one serial run in its kernel (src/backends/primitives/gather.ts).
// topk selects on the device (no readback): insertion into the k best per
// line, O(n·k) per line, ties in index order, NaN counted as the largest.
import { record } from '../autograd.js';
import type { GatherParams, ScanParams } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { bool, describe, integer, options, type OptionSpec } from '../options.js';
import { stridesOf } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { scatterAddRaw } from './gather.js';
import { dimArg } from './slice.js';
import { arg } from './util.js';

function lines(x: Tensor, d: number): ScanParams {
  if (x.rank === 0) return { outer: 1, n: 1, inner: 1 };
  const outer = x.shape.slice(0, d).reduce((a, b) => a * b, 1), inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  return { outer, n: x.shape[d], inner };
}

function cumsumRaw(x: Tensor, p: ScanParams, reverse: boolean): Tensor {
  const out = empty(x.backend, x.shape, 'cumsum');
  if (out.size > 0) x.backend.cumsum(x.handle('cumsum', 'x'), out.handle('cumsum', 'out'), { ...p, reverse });
  return out;
}

/**
 * Running sums along `dim`: out[…, k, …] = Σ_{j<=k} x[…, j, …] (PyTorch's
 * cumsum; dim is required, as there). Summed in float64 on WASM and in
 * double-float on WebGPU, rounded once per output. Its gradient is the
 * running sum of g from the end.
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  arg('cumsum', 'x', x);
  const p = lines(x, dimArg('cumsum', dim, x.rank));
  return record('cumsum', cumsumRaw(x, p, false), [x], [], (g) => [cumsumRaw(g, p, true)]);
}

export interface TopkOptions {
  /** The dimension to select along; default -1 (the last). */
  dim?: number;
  /** The k largest (default) or, with false, the k smallest. */
  largest?: boolean;
  /** Results in order (largest first, or smallest first). Always true here: lepton's selection sorts. */
  sorted?: boolean;
}
const SPEC: OptionSpec<TopkOptions> = { dim: integer(), largest: bool, sorted: bool };

/**
 * The k largest (or smallest) entries along `opts.dim` and their indices
 * (float32 values), as PyTorch's topk: results sorted, ties in index order,
 * NaN counted larger than every number (first among the largest, last among
 * the smallest). The values have a gradient (routed back to where they came
 * from); the indices do not. Selection runs on the device, no readback.
 */
export function topk(x: Tensor, k: number, opts?: TopkOptions): { values: Tensor; indices: Tensor } {
  arg('topk', 'x', x);
  const o = options('topk', opts, SPEC);
  const d = dimArg('topk', o.dim ?? -1, x.rank);
  const p = lines(x, d);
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > p.n) {
    fail('topk', `argument 'k' must be an integer in [0, ${p.n}] (the size of dimension ${d} of x ${fmtShape(x.shape)}), got ${describe(k)}`);
  }
  const shape = x.rank === 0 ? [] : x.shape.map((s, e) => (e === d ? k : s));
  const be = x.backend;
  const values = empty(be, shape, 'topk'), indices = empty(be, shape, 'topk');
  if (values.size > 0) {
    be.topk(x.handle('topk', 'x'), values.handle('topk', 'values'), indices.handle('topk', 'indices'), { ...p, k, largest: o.largest ?? true });
  }
  // The gradient adds g at the selected positions: a scatter over the values' lines.
  const full3 = [p.outer, p.n, p.inner], out3 = [p.outer, k, p.inner];
  const gp: GatherParams = { shape: out3, dim: 1, xStrides: stridesOf(full3), idxStrides: stridesOf(out3), size: p.n };
  const shape0 = x.shape;
  record('topk', values, [x], [indices], (g, [i]) => [scatterAddRaw('topk', g.view(out3), i!.view(out3), gp, full3).view(shape0)]);
  return { values, indices };
}
