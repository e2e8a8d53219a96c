// The elementwise family on WASM (kernels-as/elementwise.ts): fill, unary ops,
// binary ops with broadcasting; long arrays split over the threads.
import { collapse } from '../../collapse.js';
import {
  BINARY_OPS, BinaryJob, FillJob, UNARY_OPS, UnaryJob, type BinaryOp, type BroadcastParams, type UnaryOp,
} from '../../primitives/elementwise.js';
import { MAX_RANK } from '../../primitives/limits.js';
import { WHO, type WasmHandle, type WasmRuntime } from '../runtime.js';

/**
 * Flop-equivalents per element for the thread split (see minFlopsPerThread):
 * a memory-bound pass costs about as much per element as 40 multiply-adds,
 * a polynomial (exp, log, tanh, gelu …) about 100.
 */
const CHEAP = 40, COSTLY = 100;
const COSTLY_UNARY: ReadonlySet<UnaryOp> = new Set(['exp', 'log', 'gelu', 'tanh', 'sigmoid', 'sqrt', 'rdiv']);
const COSTLY_BINARY: ReadonlySet<BinaryOp> = new Set(['div', 'gelu_bwd', 'pow']);
/** Elements of a part of a split row: a multiple of a cache line. */
const LINE = 16;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function fill(rt: WasmRuntime, out: WasmHandle, n: number, value: number): void {
  rt.check(out, n, 'fill');
  if (n <= 0) return;
  // A fill only writes: a quarter of the cost of a read-modify-write pass.
  const parts = rt.partsFor((n * CHEAP) / 4, Math.ceil(n / LINE));
  rt.job('fill', FillJob, { out: out.ptr, n, value, parts }, parts);
}

export function unary(rt: WasmRuntime, op: UnaryOp, x: WasmHandle, out: WasmHandle, n: number, alpha = 1, beta = 0): void {
  rt.check(x, n, `unary ${op} input`);
  rt.check(out, n, `unary ${op} output`);
  const code = UNARY_OPS[op];
  if (code === undefined) throw new Error(`${WHO}: unknown unary op ${op}`);
  if (n <= 0) return;
  const parts = rt.partsFor(n * (COSTLY_UNARY.has(op) ? COSTLY : CHEAP), Math.ceil(n / LINE));
  rt.job('unary', UnaryJob, { op: code, x: x.ptr, out: out.ptr, n, alpha, beta, parts }, parts);
}

export function binary(rt: WasmRuntime, op: BinaryOp, a: WasmHandle, b: WasmHandle, out: WasmHandle, p: BroadcastParams): void {
  const code = BINARY_OPS[op];
  if (code === undefined) throw new Error(`${WHO}: unknown binary op ${op}`);
  if (p.shape.length > MAX_RANK) throw new Error(`${WHO}: binary ${op}: rank ${p.shape.length} exceeds ${MAX_RANK}`);
  const n = size(p.shape);
  rt.check(out, n, `binary ${op} output`);
  if (n === 0) return;
  rt.check(a, reach(`binary ${op} a`, p.shape, p.aStrides), `binary ${op} a`);
  rt.check(b, reach(`binary ${op} b`, p.shape, p.bStrides), `binary ${op} b`);
  const c = collapse(p.shape, [p.aStrides, p.bStrides]);
  const shape = c.shape.length ? c.shape : [1];
  const [sa, sb] = c.shape.length ? c.strides : [[0], [0]];
  // Parts split the rows (the innermost dimension's runs), or the elements of a single row.
  const units = shape.length === 1 ? Math.ceil(n / LINE) : n / shape[shape.length - 1];
  const parts = rt.partsFor(n * (COSTLY_BINARY.has(op) ? COSTLY : CHEAP), units);
  rt.job('binary', BinaryJob, {
    op: code, a: a.ptr, b: b.ptr, out: out.ptr, rank: shape.length, parts, shape, aStrides: sa, bStrides: sb, coords: [],
  }, parts, MAX_RANK * parts);
}

/**
 * Values a strided view at `offset` needs in its storage (highest element
 * reached + 1); throws if a negative stride reaches below element 0.
 */
export function reach(what: string, shape: readonly number[], strides: readonly number[], offset = 0): number {
  let lo = offset, hi = offset;
  for (let d = 0; d < shape.length; d++) {
    const step = (shape[d] - 1) * strides[d];
    if (step < 0) lo += step;
    else hi += step;
  }
  if (lo < 0) throw new Error(`${WHO}: ${what}: strides [${strides}] from offset ${offset} reach element ${lo}`);
  return hi + 1;
}
