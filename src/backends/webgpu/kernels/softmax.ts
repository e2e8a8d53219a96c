// Dispatch of softmax / log-softmax (kernels-wgsl/softmax.wgsl).
import { SoftmaxDims } from '../../primitives/softmax.js';
import { params, type GpuHandle, type GpuRuntime } from '../runtime.js';

/**
 * Rows up to this long run one per invocation (softmax_rows) instead of one
 * per workgroup with a tree: short rows on a GPU, and on a CPU adapter
 * (barriers are its slowest operation) rows a lane walks quickly.
 */
const ROWS_GPU = 32, ROWS_CPU = 1024;
/** Workgroup size of the row-per-invocation kernel. */
const ROWS_WG = 64;

export function softmax(rt: GpuRuntime, x: GpuHandle, out: GpuHandle, rows: number, cols: number, log: boolean): void {
  rt.check(x, rows * cols, 'softmax');
  rt.check(out, rows * cols, 'softmax');
  if (rows * cols === 0) return;
  const dims = params(SoftmaxDims, { rows, cols });
  rt.aliasSafe(out, [x], rows * cols, (dst) => {
    if (cols <= (rt.isFallbackAdapter ? ROWS_CPU : ROWS_GPU)) {
      rt.dispatch({ file: 'softmax', entry: 'softmax_rows', constants: { WG: ROWS_WG, LOG: log } }, [x.buffer, dst], Math.ceil(rows / ROWS_WG), dims);
      return;
    }
    // Short rows: a smaller workgroup means a shorter tree (fewer barriers).
    const wg = cols <= 64 ? 64 : 256;
    rt.dispatch({ file: 'softmax', entry: 'softmax', constants: { WG: wg, LOG: log } }, [x.buffer, dst], rows, dims);
  });
}
