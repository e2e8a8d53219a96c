// Dispatch of the elementwise family (kernels-wgsl/elementwise.wgsl): fill,
// unary ops, binary ops with broadcasting.
import { collapse } from '../../collapse.js';
import {
  BINARY_OPS, BroadcastDims, ContigParams, FillParams, UNARY_OPS, UnaryParams,
  type BinaryOp, type BroadcastParams, type UnaryOp,
} from '../../primitives/elementwise.js';
import { MAX_RANK } from '../../primitives/limits.js';
import type { Kernel } from '../pipelines.js';
import { params, WG, WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function fill(rt: GpuRuntime, out: GpuHandle, n: number, value: number): void {
  rt.check(out, n, 'fill');
  rt.dispatch({ file: 'elementwise', entry: 'fill', constants: { WG } }, [out.buffer], Math.ceil(n / WG), params(FillParams, { n, value }));
}

/** The pipeline a unary op runs with (prepare warms the same one). */
export function unaryKernel(op: UnaryOp, inPlace: boolean): Kernel {
  const code = UNARY_OPS[op];
  if (code === undefined) throw new Error(`${WHO}: unknown unary op ${op}`);
  return { file: 'elementwise', entry: inPlace ? 'unary_inplace' : 'unary', constants: { WG, OP: code } };
}

/** The pipeline a binary op over `n` contiguous elements runs with (prepare warms the same one). */
export function contiguousKernel(op: BinaryOp, n: number): Kernel {
  return { file: 'elementwise', entry: n % 4 === 0 ? 'binary_contig4' : 'binary_contig', constants: { WG, OP: BINARY_OPS[op] } };
}

export function unary(rt: GpuRuntime, op: UnaryOp, x: GpuHandle, out: GpuHandle, n: number, alpha = 1, beta = 0): void {
  rt.check(x, n, `unary ${op}`);
  rt.check(out, n, `unary ${op}`);
  const inPlace = x.buffer === out.buffer;
  rt.dispatch(
    unaryKernel(op, inPlace),
    inPlace ? [x.buffer] : [x.buffer, out.buffer], Math.ceil(n / WG), params(UnaryParams, { n, alpha, beta }),
  );
}

export function binary(rt: GpuRuntime, op: BinaryOp, a: GpuHandle, b: GpuHandle, out: GpuHandle, p: BroadcastParams): void {
  const code = BINARY_OPS[op];
  if (code === undefined) throw new Error(`${WHO}: unknown binary op ${op}`);
  if (p.shape.length > MAX_RANK) throw new Error(`${WHO}: binary ${op}: rank ${p.shape.length} exceeds ${MAX_RANK}`);
  const n = size(p.shape);
  rt.check(out, n, `binary ${op}`);
  if (n === 0) return;
  const c = collapse(p.shape, [p.aStrides, p.bStrides]);
  const [sa, sb] = c.strides;
  const contiguous = c.shape.length === 1 && sa[0] === 1 && sb[0] === 1;
  rt.aliasSafe(out, [a, b], n, (dst) => {
    if (contiguous) {
      rt.dispatch(contiguousKernel(op, n), [a.buffer, b.buffer, dst], Math.ceil(n / (n % 4 === 0 ? 4 * WG : WG)), params(ContigParams, { n }));
      return;
    }
    rt.dispatch({ file: 'elementwise', entry: 'binary_strided', constants: { WG, OP: code } },
      [a.buffer, b.buffer, dst], Math.ceil(n / WG), params(BroadcastDims, { shape: c.shape, aStrides: sa, bStrides: sb, n, rank: c.shape.length }));
  });
}
