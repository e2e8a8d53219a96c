// argmax and argmin, composed from existing kernels: the first index of the
// maximum (minimum) along an axis, as PyTorch's, with NaN counted as the
// answer wherever there is one (PyTorch's argmax and argmin both return the
// first NaN). argmin is argmax of −x: negation keeps NaN and makes ±0 tie.
// No gradient (an index is piecewise constant).
import { noGrad } from '../autograd.js';
import { fail } from '../errors.js';
import { describe } from '../options.js';
import { scope } from '../memory.js';
import { normalizeAxes } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { binaryRaw, unaryRaw } from './elementwise.js';
import { max } from './reduce.js';
import { arg } from './util.js';

/**
 * Indices (as float32 values) of the largest value along `axis`; the first
 * one where several tie, and the first NaN if there is one (as PyTorch).
 * Without `axis`, the index into the flattened tensor. `keepDims` keeps the
 * reduced axis with size 1. Never records a gradient.
 */
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argExtreme('argmax', x, axis, keepDims);
}

/**
 * Indices (as float32 values) of the smallest value along `axis`; the first
 * one where several tie, and the first NaN if there is one (as PyTorch).
 * Otherwise as argmax.
 */
export function argmin(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argExtreme('argmin', x, axis, keepDims);
}

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  arg(op, 'x', x);
  if (axis !== undefined && axis !== null && !Number.isInteger(axis)) fail(op, `argument 'axis' must be an integer, got ${describe(axis)}`);
  if (typeof keepDims !== 'boolean') fail(op, `argument 'keepDims' must be a boolean, got ${describe(keepDims)}`);
  if (axis === null) axis = undefined;
  const flat = axis === undefined || x.rank === 0;
  const shape = flat ? [x.size] : [...x.shape];
  const ax = flat ? 0 : normalizeAxes(op, axis, x.rank)[0];
  const n = shape[ax];
  if (n === 0) fail(op, `cannot take the ${op} of an empty axis: x has shape [${x.shape.join(', ')}], axis ${axis ?? '(all)'}`);
  if (n > 2 ** 24) fail(op, `axis of length ${n} is longer than float32 indices can count exactly (2^24)`);
  const outShape = flat
    ? (keepDims ? x.shape.map(() => 1) : [])
    : (keepDims ? shape.map((d, i) => (i === ax ? 1 : d)) : shape.filter((_, i) => i !== ax));
  return noGrad(() => scope(() => {
    const v = op === 'argmin' ? unaryRaw('neg', x).view(shape) : x.view(shape);
    // Weights along the axis: rev = n − i (1 … n) at the maximum, n + rev at a NaN, so the largest
    // weight belongs to the first NaN if there is one, else to the first maximum. The NaN test does
    // not rely on max() propagating NaN (not every backend's does yet).
    const revShape = [n, ...shape.slice(ax + 1).map(() => 1)];
    const rev = hostTensor(x, revShape, (i) => n - i), revNaN = hostTensor(x, revShape, (i) => 2 * n - i);
    const isNaN = unaryRaw('affine', binaryRaw('eq', v, v), -1, 1);
    const atMax = binaryRaw('eq', v, max(v, ax, true));
    const w = binaryRaw('maximum', binaryRaw('mul', atMax, rev), binaryRaw('mul', isNaN, revNaN));
    const r = max(w, ax, keepDims && !flat);
    // index = n − r at a maximum, 2n − r at a NaN (r > n); r = 0 (no hit: a backend whose max
    // misses a row of −inf) gives 0, never n.
    const nanWon = unaryRaw('sign', unaryRaw('relu', unaryRaw('affine', r, 1, -n)));
    const idx = binaryRaw('add', unaryRaw('affine', r, -1, n), unaryRaw('affine', nanWon, n, 0));
    return binaryRaw('mul', idx, unaryRaw('sign', r)).view(outShape);
  }));
}

/** A tensor on x's backend with values f(i) along its first axis. */
function hostTensor(x: Tensor, shape: number[], f: (i: number) => number): Tensor {
  const t = empty(x.backend, shape, 'argmax');
  x.backend.write(t.handle('argmax', 'weights'), Float32Array.from({ length: shape[0] }, (_, i) => f(i)));
  return t;
}
