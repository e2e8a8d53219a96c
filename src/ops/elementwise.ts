// Elementwise ops and their gradients: unary functions, binary arithmetic with
// numpy broadcasting, activation derivatives. A number operand never makes a
// tensor: `x * 2` and `1 - x` run as the unary `affine` kernel.
import { isGradEnabled, record } from '../autograd.js';
import type { Backend, BinaryOp, UnaryOp } from '../backends/backend.js';
import { fail } from '../errors.js';
import { scope } from '../memory.js';
import { broadcast, type Shape } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { sumTo } from './reduce.js';
import { arg, deviceOf } from './util.js';

/** @internal A tensor of `shape` filled with `value`. */
export function full(backend: Backend, shape: Shape, value: number): Tensor {
  const out = empty(backend, shape, 'full');
  backend.fill(out.handle('full', 'out'), out.size, value);
  return out;
}

/** @internal Runs one unary kernel; no gradient. */
export function unaryRaw(op: UnaryOp, x: Tensor, alpha = 1, beta = 0): Tensor {
  const be = x.backend;
  const out = empty(be, x.shape, op);
  be.unary(op, x.handle(op, 'x'), out.handle(op, 'out'), x.size, alpha, beta);
  return out;
}

/** @internal Runs one binary kernel with broadcasting; no gradient. */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, name: string = op): Tensor {
  const be = deviceOf(name, { a, b });
  const p = broadcast(name, a.shape, b.shape);
  const out = empty(be, p.shape, name);
  if (out.size > 0) be.binary(op, a.handle(name, 'a'), b.handle(name, 'b'), out.handle(name, 'out'), p);
  return out;
}

/**
 * A unary op whose gradient reads `saves`: its input x, its output y, or
 * nothing (the formula then gets no tensor and must not read one).
 */
function unary(name: string, op: UnaryOp, x: Tensor, saves: 'x' | 'y' | null,
  grad: (g: Tensor, t: Tensor) => Tensor, alpha = 1, beta = 0): Tensor {
  arg(name, 'x', x);
  const y = unaryRaw(op, x, alpha, beta);
  return record(name, y, [x], [saves === 'x' ? x : saves === 'y' ? y : null], (g, [t]) => [grad(g, t as Tensor)]);
}

const mulRaw = (a: Tensor, b: Tensor) => binaryRaw('mul', a, b);
const divRaw = (a: Tensor, b: Tensor) => binaryRaw('div', a, b);
// α·x as affine(x, α, −0): adding −0 changes nothing, where + 0 would turn α·x = −0 into +0.
const scaleRaw = (a: Tensor, alpha: number) => unaryRaw('affine', a, alpha, -0);

export const neg = (x: Tensor) => unary('neg', 'neg', x, null, (g) => unaryRaw('neg', g));
export const exp = (x: Tensor) => unary('exp', 'exp', x, 'y', (g, y) => mulRaw(g, y));
export const log = (x: Tensor) => unary('log', 'log', x, 'x', (g, x) => divRaw(g, x));
export const abs = (x: Tensor) => unary('abs', 'abs', x, 'x', (g, x) => mulRaw(g, unaryRaw('sign', x)));
export const sqrt = (x: Tensor) => unary('sqrt', 'sqrt', x, 'y', (g, y) => divRaw(g, scaleRaw(y, 2)));
export const square = (x: Tensor) => unary('square', 'square', x, 'x', (g, x) => mulRaw(scaleRaw(x, 2), g));
export const relu = (x: Tensor) => unary('relu', 'relu', x, 'x', (g, x) => binaryRaw('relu_bwd', x, g));
export const gelu = (x: Tensor) => unary('gelu', 'gelu', x, 'x', (g, x) => binaryRaw('gelu_bwd', x, g));
export const tanh = (x: Tensor) => unary('tanh', 'tanh', x, 'y', (g, y) => binaryRaw('tanh_bwd', y, g));
export const sigmoid = (x: Tensor) => unary('sigmoid', 'sigmoid', x, 'y', (g, y) => binaryRaw('sigmoid_bwd', y, g));
export const clone = (x: Tensor) => unary('clone', 'copy', x, null, (g) => unaryRaw('copy', g));

/** `alpha * x + beta`, differentiable. */
export const affine = (x: Tensor, alpha: number, beta: number) =>
  unary('affine', 'affine', x, null, (g) => scaleRaw(g, alpha), alpha, beta);

function checkNumber(op: string, name: string, v: number) {
  if (typeof v !== 'number') fail(op, `argument '${name}' must be a Tensor or a number, got ${typeof v}`);
}

type Operand = Tensor | number;
type Saved = readonly (Tensor | null)[];

/**
 * A broadcasting binary op. `saved(y)` lists what the gradient reads; the
 * gradient is given unreduced (output-shaped) and summed back to each operand's shape here.
 */
function binary<const S extends Saved>(name: string, op: BinaryOp, a: Tensor, b: Tensor, saved: (y: Tensor) => S,
  grad: (g: Tensor, saved: S, needs: readonly boolean[]) => [Tensor | null, Tensor | null]): Tensor {
  const y = binaryRaw(op, a, b, name);
  if (!isGradEnabled() || !(a.requiresGrad || b.requiresGrad)) return y;
  const sa = a.shape, sb = b.shape;
  return record(name, y, [a, b], saved(y), (g, s, needs) => {
    const [ga, gb] = grad(g, s, needs);
    return [ga && needs[0] ? sumTo(ga, sa) : null, gb && needs[1] ? sumTo(gb, sb) : null];
  });
}

export function add(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number') { checkNumber('add', 'b', b); return affine(arg('add', 'a', a), 1, b); }
  if (typeof a === 'number') { checkNumber('add', 'a', a); return affine(arg('add', 'b', b), 1, a); }
  return binary('add', 'add', a, b, () => [], (g) => [g, g]);
}

export function sub(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number') { checkNumber('sub', 'b', b); return affine(arg('sub', 'a', a), 1, -b); }
  if (typeof a === 'number') { checkNumber('sub', 'a', a); return affine(arg('sub', 'b', b), -1, a); }
  return binary('sub', 'sub', a, b, () => [], (g, _, [, nb]) => [g, nb ? unaryRaw('neg', g) : null]);
}

export function mul(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number') { checkNumber('mul', 'b', b); return affine(arg('mul', 'a', a), b, -0); }
  if (typeof a === 'number') { checkNumber('mul', 'a', a); return affine(arg('mul', 'b', b), a, -0); }
  // Each operand is saved only where the other one's gradient reads it.
  return binary('mul', 'mul', a, b, () => [b.requiresGrad ? a : null, a.requiresGrad ? b : null],
    (g, [a, b]) => [b && mulRaw(g, b), a && mulRaw(g, a)]);
}

/**
 * Whether x / b may run as x · (1/b): 1/b is a normal float32, or b is ±0,
 * ±inf or NaN (whose reciprocals ±inf, ±0, NaN give x / b's answers). Beyond
 * |b| = 2^126 the reciprocal is denormal (a device may flush it to 0, and it
 * carries fewer digits), and below 2^-128 it overflows: such b divide for real.
 */
function reciprocalExact(b: number): boolean {
  const inv = Math.fround(1 / b);
  return !Number.isFinite(b) || b === 0 || (Math.abs(inv) >= 2 ** -126 && Number.isFinite(inv));
}

export function div(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number') {
    checkNumber('div', 'b', b);
    const x = arg('div', 'a', a);
    if (reciprocalExact(b)) return affine(x, 1 / b, -0);
    return scope(() => div(x, full(x.backend, [], b)));
  }
  if (typeof a === 'number') {
    checkNumber('div', 'a', a);
    const x = arg('div', 'b', b);
    const y = unaryRaw('rdiv', x, a, 0);
    // d(a/x)/dx = -a/x² = -y/x
    return record('div', y, [x], [x, y], (g, [x, y]) => [unaryRaw('neg', mulRaw(g, divRaw(y, x)))]);
  }
  // d(a/b)/da = 1/b, d(a/b)/db = -y/b
  return binary('div', 'div', a, b, (y) => [b, b.requiresGrad ? y : null],
    (g, [b, y], [na]) => [na ? divRaw(g, b) : null, y && unaryRaw('neg', mulRaw(g, divRaw(y, b)))]);
}

/**
 * Gradient weight of an operand of max/min that loses where over > under: 0
 * there, 1/2 on ties, else 1. A NaN operand (every comparison false) gives
 * both operands the whole gradient, as PyTorch.
 */
function keepWeight(over: Tensor, under: Tensor, halfTies: Tensor): Tensor {
  return unaryRaw('affine', binaryRaw('add', binaryRaw('gt', over, under), halfTies), -1, 1);
}

function extremum(name: 'maximum' | 'minimum', a: Operand, b: Operand): Tensor {
  const ta = typeof a === 'number' ? null : arg(name, 'a', a);
  const tb = typeof b === 'number' ? null : arg(name, 'b', b);
  if (!ta && !tb) fail(name, 'needs at least one Tensor operand');
  const dev = (ta ?? tb)!.backend;
  // A number operand becomes a one-element tensor (no gradient), freed by the scope; the graph keeps its own reference.
  return scope(() => {
    const A = ta ?? full(dev, [], a as number), B = tb ?? full(dev, [], b as number);
    return binary(name, name, A, B, () => [A, B], (g, [A, B], [na, nb]) => {
      const ties = scaleRaw(binaryRaw('eq', A, B), 0.5);
      // maximum: A loses where B > A, B where A > B; minimum the other way round.
      const [over, under] = name === 'maximum' ? [B, A] : [A, B];
      return [na ? mulRaw(g, keepWeight(over, under, ties)) : null, nb ? mulRaw(g, keepWeight(under, over, ties)) : null];
    });
  });
}

export const maximum = (a: Operand, b: Operand) => extremum('maximum', a, b);
export const minimum = (a: Operand, b: Operand) => extremum('minimum', a, b);
