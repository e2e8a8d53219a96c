// The matmul prologue: an operand read as op(t, x) with op an activation
// derivative (relu_bwd .. sigmoid_bwd), so a layer's backward needs no
// separate elementwise pass. The packing code runs it over contiguous runs
// that are still in L1 (a packed panel, a staged row), never over a whole
// tensor in memory.
import { BINARY_GELU_BWD, BINARY_RELU_BWD, BINARY_SIGMOID_BWD, BINARY_TANH_BWD } from '../build/gen/elementwise';
import { actGrad4, loadPartial, storePartial } from './math';

// @ts-ignore: decorator
@inline function runLoop(op: i32, t: usize, x: usize, dst: usize, n: i32): void {
  const n4 = <usize>(n & ~3) << 2;
  for (let i: usize = 0; i < n4; i += 16) v128.store(dst + i, actGrad4(op, v128.load(t + i), v128.load(x + i)));
  const r = n & 3;
  if (r) storePartial(dst + n4, actGrad4(op, loadPartial(t + n4, r, 0), loadPartial(x + n4, r, 0)), r);
}

// One function per op: each gets its own straight loop (see elementwise.ts).
function runRelu(t: usize, x: usize, dst: usize, n: i32): void { runLoop(BINARY_RELU_BWD, t, x, dst, n); }
function runGelu(t: usize, x: usize, dst: usize, n: i32): void { runLoop(BINARY_GELU_BWD, t, x, dst, n); }
function runTanh(t: usize, x: usize, dst: usize, n: i32): void { runLoop(BINARY_TANH_BWD, t, x, dst, n); }
function runSigmoid(t: usize, x: usize, dst: usize, n: i32): void { runLoop(BINARY_SIGMOID_BWD, t, x, dst, n); }

/** dst[i] = op(t[i], x[i]) for i < n (dst may equal x). Op 0 copies x. */
export function actGradRun(op: i32, t: usize, x: usize, dst: usize, n: i32): void {
  if (n <= 0) return;
  switch (op) {
    case BINARY_RELU_BWD: runRelu(t, x, dst, n); break;
    case BINARY_GELU_BWD: runGelu(t, x, dst, n); break;
    case BINARY_TANH_BWD: runTanh(t, x, dst, n); break;
    case BINARY_SIGMOID_BWD: runSigmoid(t, x, dst, n); break;
    default: if (dst != x) memory.copy(dst, x, <usize>n << 2);
  }
}
