// Elementwise kernels: unary ops, binary ops with numpy broadcasting, fill.
// Op codes are UNARY_OPS / BINARY_OPS in src/backends/backend.ts.
//
// Each exported kernel switches on the op once, outside the loops: every case
// calls a function that inlines the loop with the op as a literal, and the
// optimiser folds the op's own switch away, so each op gets its own straight
// vector loop.
import {
  actGrad4, exp4, fma4, gelu4, loadPartial, log4, minusOne4, one4, relu4, sigmoid4, storePartial, tanh4,
} from './math';

// @ts-ignore: decorator
@inline function unary4(op: i32, x: v128, alpha: v128, beta: v128): v128 {
  const one = one4();
  switch (op) {
    case 1: return f32x4.neg(x);
    case 2: return exp4(x);
    case 3: return log4(x);
    case 4: return f32x4.abs(x);
    case 5: return f32x4.sqrt(x);
    case 6: return f32x4.mul(x, x);
    case 7: // sign: 1, -1, or 0 (also for NaN)
      return v128.or(v128.and(f32x4.gt(x, f32x4.splat(0)), one), v128.and(f32x4.lt(x, f32x4.splat(0)), minusOne4()));
    case 8: return relu4(x);
    case 9: return gelu4(x);
    case 10: return tanh4(x);
    case 11: return sigmoid4(x);
    case 12: return fma4(alpha, x, beta);
    case 13: return f32x4.div(alpha, x);
    default: return x;
  }
}

// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, out: usize, n: i32, alpha: f32, beta: f32): void {
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  const end = x + (<usize>(n & ~3) << 2);
  let o = out;
  let p = x;
  for (; p < end; p += 16, o += 16) v128.store(o, unary4(op, v128.load(p), va, vb));
  const r = n & 3;
  if (r) storePartial(o, unary4(op, loadPartial(p, r, 1), va, vb), r);
}

// One small function per op, so that the engine optimises each on its own
// (V8 tiers a wasm function up as a whole; one giant switch would wait long).
function uNeg(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(1, x, out, n, al, be); }
function uExp(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(2, x, out, n, al, be); }
function uLog(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(3, x, out, n, al, be); }
function uAbs(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(4, x, out, n, al, be); }
function uSqrt(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(5, x, out, n, al, be); }
function uSquare(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(6, x, out, n, al, be); }
function uSign(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(7, x, out, n, al, be); }
function uRelu(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(8, x, out, n, al, be); }
function uGelu(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(9, x, out, n, al, be); }
function uTanh(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(10, x, out, n, al, be); }
function uSigmoid(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(11, x, out, n, al, be); }
function uAffine(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(12, x, out, n, al, be); }
function uRdiv(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(13, x, out, n, al, be); }

/** out[i] = op(x[i]) for i < n; out may equal x. */
export function unary(op: i32, x: usize, out: usize, n: i32, alpha: f32, beta: f32): void {
  if (n <= 0) return;
  switch (op) {
    case 0: if (out != x) memory.copy(out, x, <usize>n << 2); break;
    case 1: uNeg(x, out, n, alpha, beta); break;
    case 2: uExp(x, out, n, alpha, beta); break;
    case 3: uLog(x, out, n, alpha, beta); break;
    case 4: uAbs(x, out, n, alpha, beta); break;
    case 5: uSqrt(x, out, n, alpha, beta); break;
    case 6: uSquare(x, out, n, alpha, beta); break;
    case 7: uSign(x, out, n, alpha, beta); break;
    case 8: uRelu(x, out, n, alpha, beta); break;
    case 9: uGelu(x, out, n, alpha, beta); break;
    case 10: uTanh(x, out, n, alpha, beta); break;
    case 11: uSigmoid(x, out, n, alpha, beta); break;
    case 12: uAffine(x, out, n, alpha, beta); break;
    case 13: uRdiv(x, out, n, alpha, beta); break;
    default: break;
  }
}

// @ts-ignore: decorator
@inline function binary4(op: i32, a: v128, b: v128): v128 {
  const one = one4();
  switch (op) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    case 3: return f32x4.div(a, b);
    case 4: return f32x4.max(a, b);
    case 5: return f32x4.min(a, b);
    case 6: return v128.and(f32x4.eq(a, b), one);
    case 7: return v128.and(f32x4.gt(a, b), one);
    case 8: return actGrad4(8, a, b); // relu_bwd(x, dy)
    case 9: return actGrad4(9, a, b); // gelu_bwd(x, dy)
    case 10: return actGrad4(10, a, b); // tanh_bwd(y, dy)
    case 11: return actGrad4(11, a, b); // sigmoid_bwd(y, dy)
    default: return a;
  }
}

/** Gathers 4 floats `stride` elements apart. */
// @ts-ignore: decorator
@inline function gather4(p: usize, stride: isize): v128 {
  const s = stride << 2;
  let v = f32x4.splat(load<f32>(p));
  v = f32x4.replace_lane(v, 1, load<f32>(p + s));
  v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * s));
  return f32x4.replace_lane(v, 3, load<f32>(p + 3 * s));
}

/** One output row of `len` elements; `sa`/`sb` are the inputs' strides along it. */
// @ts-ignore: decorator
@inline function binaryRow(op: i32, a: usize, b: usize, out: usize, len: i32, sa: isize, sb: isize): void {
  const n4 = len & ~3;
  const r = len & 3;
  const tail = <usize>n4 << 2;
  if (sa == 1 && sb == 1) {
    for (let i: usize = 0; i < tail; i += 16) v128.store(out + i, binary4(op, v128.load(a + i), v128.load(b + i)));
    if (r) storePartial(out + tail, binary4(op, loadPartial(a + tail, r, 1), loadPartial(b + tail, r, 1)), r);
  } else if (sa == 1 && sb == 0) {
    const vb = v128.load32_splat(b);
    for (let i: usize = 0; i < tail; i += 16) v128.store(out + i, binary4(op, v128.load(a + i), vb));
    if (r) storePartial(out + tail, binary4(op, loadPartial(a + tail, r, 1), vb), r);
  } else if (sa == 0 && sb == 1) {
    const va = v128.load32_splat(a);
    for (let i: usize = 0; i < tail; i += 16) v128.store(out + i, binary4(op, va, v128.load(b + i)));
    if (r) storePartial(out + tail, binary4(op, va, loadPartial(b + tail, r, 1)), r);
  } else if (sa == 0 && sb == 0) {
    const v = binary4(op, v128.load32_splat(a), v128.load32_splat(b));
    for (let i: usize = 0; i < tail; i += 16) v128.store(out + i, v);
    if (r) storePartial(out + tail, v, r);
  } else {
    // Any other strides: gather 4 at a time, scalar tail through lane 0.
    let i = 0;
    for (; i < n4; i += 4) {
      v128.store(out + (<usize>i << 2), binary4(op, gather4(a + ((<isize>i * sa) << 2), sa), gather4(b + ((<isize>i * sb) << 2), sb)));
    }
    for (; i < len; i++) {
      const v = binary4(op, v128.load32_splat(a + ((<isize>i * sa) << 2)), v128.load32_splat(b + ((<isize>i * sb) << 2)));
      store<f32>(out + (<usize>i << 2), f32x4.extract_lane(v, 0));
    }
  }
}

/**
 * Layout of the `dims` block the JS side writes (i32s): shape at [0, 8),
 * a strides at [8, 16), b strides at [16, 24), scratch coordinates at [24, 32).
 */
const SHAPE = 0;
const ASTR = 32;
const BSTR = 64;
const COORD = 96;

// @ts-ignore: decorator
@inline function binaryLoop(op: i32, a: usize, b: usize, out: usize, rank: i32, dims: usize): void {
  const last = rank - 1;
  const len = load<i32>(dims + SHAPE + (<usize>last << 2));
  const sa = <isize>load<i32>(dims + ASTR + (<usize>last << 2));
  const sb = <isize>load<i32>(dims + BSTR + (<usize>last << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) {
    rows *= load<i32>(dims + SHAPE + (<usize>d << 2));
    store<i32>(dims + COORD + (<usize>d << 2), 0);
  }
  let offA: isize = 0, offB: isize = 0;
  let o = out;
  const rowBytes = <usize>len << 2;
  for (let row = 0; row < rows; row++) {
    binaryRow(op, a + (offA << 2), b + (offB << 2), o, len, sa, sb);
    o += rowBytes;
    // Advance the outer coordinates (row-major odometer).
    for (let d = last - 1; d >= 0; d--) {
      const at = dims + (<usize>d << 2);
      const c = load<i32>(at, COORD) + 1;
      const sizeD = load<i32>(at, SHAPE);
      if (c < sizeD) {
        store<i32>(at, c, COORD);
        offA += load<i32>(at, ASTR);
        offB += load<i32>(at, BSTR);
        break;
      }
      store<i32>(at, 0, COORD);
      offA -= <isize>(sizeD - 1) * load<i32>(at, ASTR);
      offB -= <isize>(sizeD - 1) * load<i32>(at, BSTR);
    }
  }
}

function bAdd(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(0, a, b, out, rank, dims); }
function bSub(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(1, a, b, out, rank, dims); }
function bMul(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(2, a, b, out, rank, dims); }
function bDiv(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(3, a, b, out, rank, dims); }
function bMax(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(4, a, b, out, rank, dims); }
function bMin(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(5, a, b, out, rank, dims); }
function bEq(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(6, a, b, out, rank, dims); }
function bGt(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(7, a, b, out, rank, dims); }
function bReluBwd(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(8, a, b, out, rank, dims); }
function bGeluBwd(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(9, a, b, out, rank, dims); }
function bTanhBwd(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(10, a, b, out, rank, dims); }
function bSigmoidBwd(a: usize, b: usize, out: usize, rank: i32, dims: usize): void { binaryLoop(11, a, b, out, rank, dims); }

/**
 * out = op(a, b) over the row-major output shape in `dims` (rank 1..8; the
 * JS side turns rank 0 into [1] and merges dimensions that are contiguous in
 * both inputs, so the innermost row is as long as possible).
 */
export function binary(op: i32, a: usize, b: usize, out: usize, rank: i32, dims: usize): void {
  if (rank <= 0) return;
  for (let d = 0; d < rank; d++) if (load<i32>(dims + (<usize>d << 2)) <= 0) return;
  switch (op) {
    case 0: bAdd(a, b, out, rank, dims); break;
    case 1: bSub(a, b, out, rank, dims); break;
    case 2: bMul(a, b, out, rank, dims); break;
    case 3: bDiv(a, b, out, rank, dims); break;
    case 4: bMax(a, b, out, rank, dims); break;
    case 5: bMin(a, b, out, rank, dims); break;
    case 6: bEq(a, b, out, rank, dims); break;
    case 7: bGt(a, b, out, rank, dims); break;
    case 8: bReluBwd(a, b, out, rank, dims); break;
    case 9: bGeluBwd(a, b, out, rank, dims); break;
    case 10: bTanhBwd(a, b, out, rank, dims); break;
    case 11: bSigmoidBwd(a, b, out, rank, dims); break;
    default: break;
  }
}

/** out[i] = value for i < n. */
export function fill(out: usize, n: i32, value: f32): void {
  if (n <= 0) return;
  const v = f32x4.splat(value);
  const end = out + (<usize>(n & ~3) << 2);
  let p = out;
  for (; p < end; p += 16) v128.store(p, v);
  const r = n & 3;
  if (r) storePartial(p, v, r);
}
