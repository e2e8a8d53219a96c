// Elementwise kernels: unary ops, binary ops with numpy broadcasting, fill.
// Op codes (UNARY_*, BINARY_*) and job layouts come from src/backends/primitives/elementwise.ts.
//
// Each exported kernel switches on the op once, outside the loops: every case
// calls a function that inlines the loop with the op as a literal, and the
// optimiser folds the op's own switch away, so each op gets its own straight
// vector loop.
import {
  BINARY_ADD, BINARY_DIV, BINARY_EQ, BINARY_GELU_BWD, BINARY_GT, BINARY_MAXIMUM, BINARY_MINIMUM, BINARY_MUL, BINARY_RELU_BWD,
  BINARY_SIGMOID_BWD, BINARY_SUB, BINARY_TANH_BWD, BINARY_XMUL, BINARY_MASK, BINARY_GE, BINARY_POW, BinaryJob, FillJob, UNARY_ABS, UNARY_AFFINE, UNARY_COPY, UNARY_EXP,
  UNARY_GELU, UNARY_LOG, UNARY_NEG, UNARY_RDIV, UNARY_RELU, UNARY_SIGMOID, UNARY_SIGN, UNARY_SQRT, UNARY_SQUARE, UNARY_TANH, UnaryJob,
} from '../build/gen/elementwise';
import {
  actGrad4, exp4, fma4, gelu4, loadPartial, log4, minusOne4, one4, relu4, sigmoid4, storePartial, tanh4,
} from './math';
import { partStart } from './parts';

// @ts-ignore: decorator
@inline function unary4(op: i32, x: v128, alpha: v128, beta: v128): v128 {
  const one = one4();
  switch (op) {
    case UNARY_NEG: return f32x4.neg(x);
    case UNARY_EXP: return exp4(x);
    case UNARY_LOG: return log4(x);
    case UNARY_ABS: return f32x4.abs(x);
    case UNARY_SQRT: return f32x4.sqrt(x);
    case UNARY_SQUARE: return f32x4.mul(x, x);
    case UNARY_SIGN: // sign: 1, -1, or 0 (also for NaN, as PyTorch 1.13's)
      return v128.or(v128.and(f32x4.gt(x, f32x4.splat(0)), one), v128.and(f32x4.lt(x, f32x4.splat(0)), minusOne4()));
    case UNARY_RELU: return relu4(x);
    case UNARY_GELU: return gelu4(x);
    case UNARY_TANH: return tanh4(x);
    case UNARY_SIGMOID: return sigmoid4(x);
    case UNARY_AFFINE: return fma4(alpha, x, beta);
    case UNARY_RDIV: return f32x4.div(alpha, x);
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
function uNeg(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_NEG, x, out, n, al, be); }
function uExp(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_EXP, x, out, n, al, be); }
function uLog(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_LOG, x, out, n, al, be); }
function uAbs(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_ABS, x, out, n, al, be); }
function uSqrt(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_SQRT, x, out, n, al, be); }
function uSquare(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_SQUARE, x, out, n, al, be); }
function uSign(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_SIGN, x, out, n, al, be); }
function uRelu(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_RELU, x, out, n, al, be); }
function uGelu(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_GELU, x, out, n, al, be); }
function uTanh(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_TANH, x, out, n, al, be); }
function uSigmoid(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_SIGMOID, x, out, n, al, be); }
function uAffine(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_AFFINE, x, out, n, al, be); }
function uRdiv(x: usize, out: usize, n: i32, al: f32, be: f32): void { unaryLoop(UNARY_RDIV, x, out, n, al, be); }

/** out[i] = op(x[i]) for i < n; out may equal x. */
function unary(op: i32, x: usize, out: usize, n: i32, alpha: f32, beta: f32): void {
  if (n <= 0) return;
  switch (op) {
    case UNARY_COPY: if (out != x) memory.copy(out, x, <usize>n << 2); break;
    case UNARY_NEG: uNeg(x, out, n, alpha, beta); break;
    case UNARY_EXP: uExp(x, out, n, alpha, beta); break;
    case UNARY_LOG: uLog(x, out, n, alpha, beta); break;
    case UNARY_ABS: uAbs(x, out, n, alpha, beta); break;
    case UNARY_SQRT: uSqrt(x, out, n, alpha, beta); break;
    case UNARY_SQUARE: uSquare(x, out, n, alpha, beta); break;
    case UNARY_SIGN: uSign(x, out, n, alpha, beta); break;
    case UNARY_RELU: uRelu(x, out, n, alpha, beta); break;
    case UNARY_GELU: uGelu(x, out, n, alpha, beta); break;
    case UNARY_TANH: uTanh(x, out, n, alpha, beta); break;
    case UNARY_SIGMOID: uSigmoid(x, out, n, alpha, beta); break;
    case UNARY_AFFINE: uAffine(x, out, n, alpha, beta); break;
    case UNARY_RDIV: uRdiv(x, out, n, alpha, beta); break;
    default: break;
  }
}

// @ts-ignore: decorator
@inline function binary4(op: i32, a: v128, b: v128): v128 {
  const one = one4();
  switch (op) {
    case BINARY_ADD: return f32x4.add(a, b);
    case BINARY_SUB: return f32x4.sub(a, b);
    case BINARY_MUL: return f32x4.mul(a, b);
    case BINARY_DIV: return f32x4.div(a, b);
    case BINARY_MAXIMUM: return f32x4.max(a, b);
    case BINARY_MINIMUM: return f32x4.min(a, b);
    case BINARY_EQ: return v128.and(f32x4.eq(a, b), one);
    case BINARY_GT: return v128.and(f32x4.gt(a, b), one);
    case BINARY_RELU_BWD: return actGrad4(BINARY_RELU_BWD, a, b); // relu_bwd(x, dy)
    case BINARY_GELU_BWD: return actGrad4(BINARY_GELU_BWD, a, b); // gelu_bwd(x, dy)
    case BINARY_TANH_BWD: return actGrad4(BINARY_TANH_BWD, a, b); // tanh_bwd(y, dy)
    case BINARY_SIGMOID_BWD: return actGrad4(BINARY_SIGMOID_BWD, a, b); // sigmoid_bwd(y, dy)
    // a·b, but 0 where a == 0 and b is not NaN (b == b)
    case BINARY_XMUL: return v128.andnot(f32x4.mul(a, b), v128.and(f32x4.eq(a, f32x4.splat(0)), f32x4.eq(b, b)));
    // a where b != 0 (NaN included: eq is false), else −0 (see BINARY's declaration).
    case BINARY_MASK: return v128.bitselect(f32x4.splat(-0.0), a, f32x4.eq(b, f32x4.splat(0)));
    case BINARY_GE: return v128.and(f32x4.ge(a, b), one);
    case BINARY_POW: return pow4(a, b);
    default: return a;
  }
}

/**
 * C's pow (C99 F.9.4.4, PyTorch's): AssemblyScript's Mathf.pow (musl's powf,
 * under 1 ulp; its tables are a fraction of the f64 pow's, which would add
 * 7 KB gzipped to each module), except where it follows JavaScript: 1^NaN
 * and (±1)^±inf are NaN there, 1 in C (and x^±0 = 1 for every x, NaN too).
 */
// @ts-ignore: decorator
@inline function powC(a: f32, b: f32): f32 {
  if (b == 0 || a == 1) return 1;
  if (a == -1 && Mathf.abs(b) == Infinity) return 1;
  return Mathf.pow(a, b);
}

/** powC per lane. */
// @ts-ignore: decorator
@inline function pow4(a: v128, b: v128): v128 {
  let v = f32x4.splat(powC(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
  v = f32x4.replace_lane(v, 1, powC(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
  v = f32x4.replace_lane(v, 2, powC(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
  return f32x4.replace_lane(v, 3, powC(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
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

// The broadcast shape and strides are arrays of the BinaryJob descriptor:
// shape[d] at dims + 4d, a's strides 32 bytes on, b's 64 bytes on (dims =
// desc + BinaryJob.shape); each part keeps its coordinates in its own 32 bytes.
const ASTR: usize = BinaryJob.aStrides - BinaryJob.shape;
const BSTR: usize = BinaryJob.bStrides - BinaryJob.shape;

/**
 * Rows [r0, r1) of the output (a row is the innermost dimension), or for
 * rank 1 elements [r0, r1) of the one row; `coord` is this part's scratch.
 */
// @ts-ignore: decorator
@inline function binaryLoop(op: i32, a: usize, b: usize, out: usize, rank: i32, dims: usize, coord: usize, r0: i32, r1: i32): void {
  const last = rank - 1;
  const len = load<i32>(dims + (<usize>last << 2));
  const sa = <isize>load<i32>(dims + ASTR + (<usize>last << 2));
  const sb = <isize>load<i32>(dims + BSTR + (<usize>last << 2));
  if (rank == 1) {
    binaryRow(op, a + ((<isize>r0 * sa) << 2), b + ((<isize>r0 * sb) << 2), out + (<usize>r0 << 2), r1 - r0, sa, sb);
    return;
  }
  // The coordinates and input offsets of row r0 (row-major over the outer dimensions).
  let offA: isize = 0, offB: isize = 0;
  let rest = r0;
  for (let d = last - 1; d >= 0; d--) {
    const at = dims + (<usize>d << 2);
    const size = load<i32>(at);
    const c = rest % size;
    rest /= size;
    store<i32>(coord + (<usize>d << 2), c);
    offA += <isize>c * load<i32>(at, ASTR);
    offB += <isize>c * load<i32>(at, BSTR);
  }
  const rowBytes = <usize>len << 2;
  let o = out + <usize>r0 * rowBytes;
  for (let row = r0; row < r1; row++) {
    binaryRow(op, a + (offA << 2), b + (offB << 2), o, len, sa, sb);
    o += rowBytes;
    // Advance the outer coordinates (row-major odometer).
    for (let d = last - 1; d >= 0; d--) {
      const at = dims + (<usize>d << 2);
      const cd = coord + (<usize>d << 2);
      const c = load<i32>(cd) + 1;
      const sizeD = load<i32>(at);
      if (c < sizeD) {
        store<i32>(cd, c);
        offA += load<i32>(at, ASTR);
        offB += load<i32>(at, BSTR);
        break;
      }
      store<i32>(cd, 0);
      offA -= <isize>(sizeD - 1) * load<i32>(at, ASTR);
      offB -= <isize>(sizeD - 1) * load<i32>(at, BSTR);
    }
  }
}

// @ts-ignore: decorator
@inline function binaryRun(op: i32, desc: usize, part: i32): void {
  const rank = load<i32>(desc + BinaryJob.rank);
  const dims = desc + BinaryJob.shape;
  const last = rank - 1;
  let units = 1; // rows, or the elements of the one row
  for (let d = 0; d < last; d++) units *= load<i32>(dims + (<usize>d << 2));
  if (rank == 1) units = load<i32>(dims);
  const parts = load<i32>(desc + BinaryJob.parts);
  const align = rank == 1 ? 16 : 1;
  const r0 = partStart(units, parts, part, align), r1 = partStart(units, parts, part + 1, align);
  if (r0 >= r1) return;
  binaryLoop(op, <usize>load<u32>(desc + BinaryJob.a), <usize>load<u32>(desc + BinaryJob.b), <usize>load<u32>(desc + BinaryJob.out),
    rank, dims, desc + BinaryJob.coords + (<usize>part << 5), r0, r1);
}

// One function per op (see unary): the op is a literal in each.
function bAdd(desc: usize, part: i32): void { binaryRun(BINARY_ADD, desc, part); }
function bSub(desc: usize, part: i32): void { binaryRun(BINARY_SUB, desc, part); }
function bMul(desc: usize, part: i32): void { binaryRun(BINARY_MUL, desc, part); }
function bDiv(desc: usize, part: i32): void { binaryRun(BINARY_DIV, desc, part); }
function bMax(desc: usize, part: i32): void { binaryRun(BINARY_MAXIMUM, desc, part); }
function bMin(desc: usize, part: i32): void { binaryRun(BINARY_MINIMUM, desc, part); }
function bEq(desc: usize, part: i32): void { binaryRun(BINARY_EQ, desc, part); }
function bGt(desc: usize, part: i32): void { binaryRun(BINARY_GT, desc, part); }
function bReluBwd(desc: usize, part: i32): void { binaryRun(BINARY_RELU_BWD, desc, part); }
function bGeluBwd(desc: usize, part: i32): void { binaryRun(BINARY_GELU_BWD, desc, part); }
function bTanhBwd(desc: usize, part: i32): void { binaryRun(BINARY_TANH_BWD, desc, part); }
function bSigmoidBwd(desc: usize, part: i32): void { binaryRun(BINARY_SIGMOID_BWD, desc, part); }
function bXmul(desc: usize, part: i32): void { binaryRun(BINARY_XMUL, desc, part); }
function bMask(desc: usize, part: i32): void { binaryRun(BINARY_MASK, desc, part); }
function bGe(desc: usize, part: i32): void { binaryRun(BINARY_GE, desc, part); }
function bPow(desc: usize, part: i32): void { binaryRun(BINARY_POW, desc, part); }

/**
 * Part `part` of the BinaryJob at `desc`: out = op(a, b) over the row-major
 * output shape (rank 1..8, every size > 0; the JS side turns rank 0 into [1]
 * and merges dimensions that are contiguous in both inputs, so the innermost
 * row is as long as possible). Parts split the rows, or the one row.
 */
export function binaryPart(desc: usize, part: i32): void {
  switch (load<i32>(desc + BinaryJob.op)) {
    case BINARY_ADD: bAdd(desc, part); break;
    case BINARY_SUB: bSub(desc, part); break;
    case BINARY_MUL: bMul(desc, part); break;
    case BINARY_DIV: bDiv(desc, part); break;
    case BINARY_MAXIMUM: bMax(desc, part); break;
    case BINARY_MINIMUM: bMin(desc, part); break;
    case BINARY_EQ: bEq(desc, part); break;
    case BINARY_GT: bGt(desc, part); break;
    case BINARY_RELU_BWD: bReluBwd(desc, part); break;
    case BINARY_GELU_BWD: bGeluBwd(desc, part); break;
    case BINARY_TANH_BWD: bTanhBwd(desc, part); break;
    case BINARY_SIGMOID_BWD: bSigmoidBwd(desc, part); break;
    case BINARY_XMUL: bXmul(desc, part); break;
    case BINARY_MASK: bMask(desc, part); break;
    case BINARY_GE: bGe(desc, part); break;
    case BINARY_POW: bPow(desc, part); break;
    default: break;
  }
}

/** out[i] = value for i < n. */
function fill(out: usize, n: i32, value: f32): void {
  if (n <= 0) return;
  const v = f32x4.splat(value);
  const end = out + (<usize>(n & ~3) << 2);
  let p = out;
  for (; p < end; p += 16) v128.store(p, v);
  const r = n & 3;
  if (r) storePartial(p, v, r);
}

/** Part `part` of the FillJob at `desc`. */
export function fillPart(desc: usize, part: i32): void {
  const n = load<i32>(desc + FillJob.n), parts = load<i32>(desc + FillJob.parts);
  const lo = partStart(n, parts, part, 16), hi = partStart(n, parts, part + 1, 16);
  fill(<usize>load<u32>(desc + FillJob.out) + (<usize>lo << 2), hi - lo, load<f32>(desc + FillJob.value));
}

/** Part `part` of the UnaryJob at `desc`. */
export function unaryPart(desc: usize, part: i32): void {
  const n = load<i32>(desc + UnaryJob.n), parts = load<i32>(desc + UnaryJob.parts);
  const lo = partStart(n, parts, part, 16), hi = partStart(n, parts, part + 1, 16);
  const at = <usize>lo << 2;
  unary(load<i32>(desc + UnaryJob.op), <usize>load<u32>(desc + UnaryJob.x) + at, <usize>load<u32>(desc + UnaryJob.out) + at, hi - lo,
    load<f32>(desc + UnaryJob.alpha), load<f32>(desc + UnaryJob.beta));
}
