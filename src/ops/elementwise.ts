// Elementwise ops and their gradients: unary functions, binary arithmetic with
// numpy broadcasting, activation derivatives. A number operand never makes a
// tensor: `x * 2` and `1 - x` run as the unary `affine` kernel.
import { isGradEnabled, record } from '../autograd.js';
import type { Backend, BinaryOp, UnaryOp } from '../backends/backend.js';
import { fail } from '../errors.js';
import { broadcast, type Shape } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { sumTo } from './reduce.js';
import { arg, deviceOf } from './util.js';

/** @internal A tensor of `shape` filled with `value`. */
export function full(backend: Backend, shape: Shape, value: number): Tensor {
  const out = empty(backend, shape);
  backend.fill(out.handle('full', 'out'), out.size, value);
  return out;
}

/** @internal Runs one unary kernel; no gradient. */
export function unaryRaw(op: UnaryOp, x: Tensor, alpha = 1, beta = 0): Tensor {
  const be = x.backend;
  const out = empty(be, x.shape);
  be.unary(op, x.handle(op, 'x'), out.handle(op, 'out'), x.size, alpha, beta);
  return out;
}

/** @internal Runs one binary kernel with broadcasting; no gradient. */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, name: string = op): Tensor {
  const be = deviceOf(name, { a, b });
  const p = broadcast(name, a.shape, b.shape);
  const out = empty(be, p.shape);
  if (out.size > 0) be.binary(op, a.handle(name, 'a'), b.handle(name, 'b'), out.handle(name, 'out'), p);
  return out;
}

function unary(name: string, op: UnaryOp, x: Tensor, grad: ((g: Tensor, y: Tensor) => Tensor) | null, alpha = 1, beta = 0): Tensor {
  arg(name, 'x', x);
  const y = unaryRaw(op, x, alpha, beta);
  if (grad && isGradEnabled() && x.requiresGrad) record(name, y, [x], (g) => [grad(g, y)]);
  return y;
}

export const neg = (x: Tensor) => unary('neg', 'neg', x, (g) => unaryRaw('neg', g));
export const exp = (x: Tensor) => unary('exp', 'exp', x, (g, y) => binaryRaw('mul', g, y));
export const log = (x: Tensor) => unary('log', 'log', x, (g) => binaryRaw('div', g, x));
export const abs = (x: Tensor) => unary('abs', 'abs', x, (g) => mulFree(g, unaryRaw('sign', x)));
export const sqrt = (x: Tensor) => unary('sqrt', 'sqrt', x, (g, y) => divFree(g, unaryRaw('affine', y, 2, 0)));
export const square = (x: Tensor) => unary('square', 'square', x, (g) => mulFree(unaryRaw('affine', x, 2, 0), g));
export const relu = (x: Tensor) => unary('relu', 'relu', x, (g) => binaryRaw('relu_bwd', x, g));
export const gelu = (x: Tensor) => unary('gelu', 'gelu', x, (g) => binaryRaw('gelu_bwd', x, g));
export const tanh = (x: Tensor) => unary('tanh', 'tanh', x, (g, y) => binaryRaw('tanh_bwd', y, g));
export const sigmoid = (x: Tensor) => unary('sigmoid', 'sigmoid', x, (g, y) => binaryRaw('sigmoid_bwd', y, g));
export const clone = (x: Tensor) => unary('clone', 'copy', x, (g) => unaryRaw('copy', g));

/** `alpha * x + beta`, differentiable. */
export const affine = (x: Tensor, alpha: number, beta: number) =>
  unary('affine', 'affine', x, (g) => unaryRaw('affine', g, alpha, 0), alpha, beta);

// Helpers for backward formulas that consume a temporary they made.
function mulFree(a: Tensor, tmp: Tensor): Tensor {
  const out = binaryRaw('mul', a, tmp);
  tmp.dispose();
  return out;
}
function divFree(a: Tensor, tmp: Tensor): Tensor {
  const out = binaryRaw('div', a, tmp);
  tmp.dispose();
  return out;
}

function checkNumber(op: string, name: string, v: number) {
  if (typeof v !== 'number') fail(op, `argument '${name}' must be a Tensor or a number, got ${typeof v}`);
}

type Operand = Tensor | number;

function binary(name: string, op: BinaryOp, a: Tensor, b: Tensor,
  grad: (g: Tensor, y: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  const y = binaryRaw(op, a, b, name);
  if (isGradEnabled() && (a.requiresGrad || b.requiresGrad)) {
    record(name, y, [a, b], (g) => {
      const [ga, gb] = grad(g, y);
      return [ga && a.requiresGrad ? sumToFree(ga, a.shape, g) : null, gb && b.requiresGrad ? sumToFree(gb, b.shape, g) : null];
    });
  }
  return y;
}

/** Reduces a broadcast gradient back to `shape`, freeing the unreduced one unless it is `keepAlive`. */
function sumToFree(t: Tensor, shape: Shape, keepAlive: Tensor): Tensor {
  const r = sumTo(t, shape);
  if (r !== t && t !== keepAlive) t.dispose();
  return r;
}

export function add(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number') { checkNumber('add', 'b', b); return affine(arg('add', 'a', a), 1, b); }
  if (typeof a === 'number') { checkNumber('add', 'a', a); return affine(arg('add', 'b', b), 1, a); }
  return binary('add', 'add', a, b, (g) => [g, g]);
}

export function sub(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number') { checkNumber('sub', 'b', b); return affine(arg('sub', 'a', a), 1, -b); }
  if (typeof a === 'number') { checkNumber('sub', 'a', a); return affine(arg('sub', 'b', b), -1, a); }
  return binary('sub', 'sub', a, b, (g) => [g, b.requiresGrad ? unaryRaw('neg', g) : null]);
}

export function mul(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number') { checkNumber('mul', 'b', b); return affine(arg('mul', 'a', a), b, 0); }
  if (typeof a === 'number') { checkNumber('mul', 'a', a); return affine(arg('mul', 'b', b), a, 0); }
  return binary('mul', 'mul', a, b, (g) => [
    a.requiresGrad ? binaryRaw('mul', g, b) : null,
    b.requiresGrad ? binaryRaw('mul', g, a) : null,
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number') { checkNumber('div', 'b', b); return affine(arg('div', 'a', a), 1 / b, 0); }
  if (typeof a === 'number') {
    checkNumber('div', 'a', a);
    const x = arg('div', 'b', b);
    // d(a/x)/dx = -a/x² = -y/x
    return unary('div', 'rdiv', x, (g, y) => {
      const t = binaryRaw('div', y, x);
      const gy = binaryRaw('mul', g, t);
      t.dispose();
      const out = unaryRaw('neg', gy);
      gy.dispose();
      return out;
    }, a, 0);
  }
  return binary('div', 'div', a, b, (g, y) => {
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      // d(a/b)/db = -y/b
      const t = binaryRaw('div', y, b);
      const gt = binaryRaw('mul', g, t);
      t.dispose();
      gb = unaryRaw('neg', gt);
      gt.dispose();
    }
    return [a.requiresGrad ? binaryRaw('div', g, b) : null, gb];
  });
}

/** Gradient weights for max/min: 1 where `a` wins, 1/2 on ties (as PyTorch). */
function winWeights(a: Tensor, b: Tensor): Tensor {
  const wins = binaryRaw('gt', a, b), ties = binaryRaw('eq', a, b);
  const half = unaryRaw('affine', ties, 0.5, 0);
  const w = binaryRaw('add', wins, half);
  wins.dispose(); ties.dispose(); half.dispose();
  return w;
}

function extremum(name: 'maximum' | 'minimum', a: Operand, b: Operand): Tensor {
  const ta = typeof a === 'number' ? null : arg(name, 'a', a);
  const tb = typeof b === 'number' ? null : arg(name, 'b', b);
  if (!ta && !tb) fail(name, 'needs at least one Tensor operand');
  const dev = (ta ?? tb)!.backend;
  // A number operand becomes a one-element tensor; it needs no gradient.
  const A = ta ?? full(dev, [], a as number), B = tb ?? full(dev, [], b as number);
  const y = binary(name, name, A, B, (g) => {
    const [first, second] = name === 'maximum' ? [A, B] : [B, A];
    const w = winWeights(first, second);
    const ga = A.requiresGrad ? binaryRaw('mul', g, w) : null;
    let gb: Tensor | null = null;
    if (B.requiresGrad) {
      const gw = binaryRaw('mul', g, w);
      gb = binaryRaw('sub', g, gw);
      gw.dispose();
    }
    w.dispose();
    return [ga, gb];
  });
  // The scalar stand-in is needed by backward when a graph was recorded; scopes collect it then.
  if (!y.gradFn) {
    if (!ta) A.dispose();
    if (!tb) B.dispose();
  }
  return y;
}

export const maximum = (a: Operand, b: Operand) => extremum('maximum', a, b);
export const minimum = (a: Operand, b: Operand) => extremum('minimum', a, b);
