// where(cond, a, b) and clamp(x, min, max), with PyTorch's gradients. where
// adds two masked operands: mask(a, cond) is a where cond is true (non-zero or
// NaN) and −0 elsewhere, and adding −0 changes no value (not even −0), so
// ±inf and NaN in the unselected operand never leak into the result.
import { record } from '../autograd.js';
import type { Backend } from '../backends/backend.js';
import { fail } from '../errors.js';
import { scope } from '../memory.js';
import { describe } from '../options.js';
import { broadcast, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { binaryRaw, full, unaryRaw } from './elementwise.js';
import { sumTo } from './reduce.js';
import { arg, deviceOf } from './util.js';

type Operand = Tensor | number;

/** The tensor operands (checked, on one device), and the device. */
function operands(op: string, named: Record<string, Operand | null | undefined>): Backend {
  const tensors: Record<string, Tensor> = {};
  for (const [name, v] of Object.entries(named)) {
    if (v === null || v === undefined || typeof v === 'number') continue;
    tensors[name] = arg(op, name, v);
  }
  return deviceOf(op, tensors);
}

const asTensor = (be: Backend, v: Operand) => (typeof v === 'number' ? full(be, [], v) : v);

function checkNumber(op: string, name: string, v: unknown, optional = false) {
  if (v instanceof Tensor || typeof v === 'number' || (optional && (v === null || v === undefined))) return;
  fail(op, `argument '${name}' must be a Tensor or a number${optional ? ' (or null)' : ''}, got ${describe(v)}`);
}

/** The result's shape: all operands broadcast together (numpy rules), or an error naming them. */
function shapeOf(op: string, named: Record<string, Operand | null | undefined>): Shape {
  let shape: Shape = [];
  for (const v of Object.values(named)) if (v instanceof Tensor) shape = broadcast(op, shape, v.shape).shape;
  return shape;
}

/**
 * `a` where `cond` is true (non-zero; NaN counts as true, as bool(NaN) in
 * PyTorch), else `b`; the three broadcast together. `a` and `b` may be
 * numbers. Gradients flow to the selected operand only; `cond` gets none.
 */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  arg('where', 'cond', cond);
  checkNumber('where', 'a', a);
  checkNumber('where', 'b', b);
  const be = operands('where', { cond, a, b });
  shapeOf('where', { cond, a, b });
  const y = scope(() => {
    const A = asTensor(be, a), B = asTensor(be, b);
    const notCond = binaryRaw('eq', cond, full(be, [], 0), 'where');
    return binaryRaw('add', binaryRaw('mask', A, cond, 'where'), binaryRaw('mask', B, notCond, 'where'), 'where');
  });
  const inputs = [a, b].filter((t): t is Tensor => t instanceof Tensor);
  const shapes = inputs.map((t) => t.shape), isA = inputs.map((t) => t === a);
  return record('where', y, inputs, [cond], (g, [c], needs) => inputs.map((_, i) => {
    if (!needs[i]) return null;
    const sel = isA[i] ? c! : binaryRaw('eq', c!, full(g.backend, [], 0));
    return sumTo(binaryRaw('mask', g, sel), shapes[i]);
  }));
}

/**
 * Limits x to [min, max] (either may be omitted, not both; numbers or
 * tensors, broadcast with x). NaN stays NaN. Where min > max every element
 * is max, as PyTorch. Gradients as PyTorch's: x's where min <= x <= max, min's
 * where x < min (and min < max), max's where x > max (or max < min).
 */
export function clamp(x: Tensor, min?: Operand | null, max?: Operand | null): Tensor {
  arg('clamp', 'x', x);
  checkNumber('clamp', 'min', min, true);
  checkNumber('clamp', 'max', max, true);
  const hasMin = min !== null && min !== undefined, hasMax = max !== null && max !== undefined;
  if (!hasMin && !hasMax) fail('clamp', "needs at least one of 'min' and 'max'");
  const be = operands('clamp', { x, min, max });
  shapeOf('clamp', { x, min, max });
  const y = scope(() => {
    let t = x;
    if (hasMin) t = binaryRaw('maximum', t, asTensor(be, min!), 'clamp');
    if (hasMax) t = binaryRaw('minimum', t, asTensor(be, max!), 'clamp');
    return t === x ? unaryRaw('copy', x) : t;
  });
  const bounds = [min, max].map((v) => (v instanceof Tensor ? v : null));
  const inputs = [x, ...bounds.filter((t): t is Tensor => t !== null)];
  const lo = typeof min === 'number' ? min : null, hi = typeof max === 'number' ? max : null;
  const shapes = inputs.map((t) => t.shape);
  return record('clamp', y, inputs, [x, bounds[0], bounds[1]], (g, [X, MIN, MAX], needs) => {
    const dev = g.backend;
    const L = hasMin ? (MIN ?? full(dev, [], lo!)) : null, H = hasMax ? (MAX ?? full(dev, [], hi!)) : null;
    const and = (p: Tensor | null, q: Tensor | null) => (p && q ? binaryRaw('mul', p, q) : p ?? q!);
    const grads: (Tensor | null)[] = [];
    // x: min <= x <= max.
    grads.push(needs[0] ? binaryRaw('mask', g, and(L && binaryRaw('ge', X!, L), H && binaryRaw('ge', H, X!))) : null);
    let k = 1;
    if (MIN) {
      grads.push(needs[k] ? binaryRaw('mask', g, and(binaryRaw('gt', L!, X!), H && binaryRaw('gt', H, L!))) : null);
      k++;
    }
    if (MAX) {
      const over = binaryRaw('gt', X!, H!);
      grads.push(needs[k] ? binaryRaw('mask', g, L ? binaryRaw('maximum', over, binaryRaw('gt', L, H!)) : over) : null);
    }
    return grads.map((gr, i) => gr && sumTo(gr, shapes[i]));
  });
}

/** PyTorch's alias of clamp. */
export const clip = clamp;
