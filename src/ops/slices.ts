// narrow (a slice along one axis) and cat (concatenation), as PyTorch's
// torch.narrow and torch.cat, both copies. Each is one strided kernel per
// tensor: narrow reads x at an offset (Backend.strided); cat writes each piece
// into its place (Backend.stridedWrite). Their gradients are each other:
// narrow's is g written into zeros, cat's is a narrow of g per input.
import { record } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { stridesOf, type Shape } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { full } from './elementwise.js';
import { arg, deviceOf } from './util.js';

function axisOf(op: string, axis: unknown, rank: number): number {
  if (!Number.isInteger(axis) || (axis as number) < -rank || (axis as number) >= rank) {
    fail(op, `argument 'axis' must be an integer in [${-rank}, ${rank - 1}] for a rank-${rank} tensor, got ${String(axis)}`);
  }
  return (axis as number) < 0 ? (axis as number) + rank : (axis as number);
}

/** @internal The [start, start + length) part of x along `axis`, copied (no gradient). */
export function narrowRaw(x: Tensor, axis: number, start: number, length: number): Tensor {
  const shape = x.shape.map((d, i) => (i === axis ? length : d));
  const strides = stridesOf(x.shape);
  const out = empty(x.backend, shape, 'narrow');
  if (out.size > 0) x.backend.strided(x.handle('narrow', 'x'), out.handle('narrow', 'out'), { shape, strides, offset: start * strides[axis] });
  return out;
}

/** @internal Zeros of `shape` with `g` written at [start, start + g.shape[axis]) along `axis` (no gradient). */
function padRaw(g: Tensor, shape: Shape, axis: number, start: number): Tensor {
  const out = full(g.backend, shape, 0);
  writeInto(g, out, axis, start);
  return out;
}

function writeInto(piece: Tensor, out: Tensor, axis: number, start: number): void {
  if (piece.size === 0) return;
  const strides = stridesOf(out.shape);
  out.backend.stridedWrite(piece.handle('cat', 'piece'), out.handle('cat', 'out'), { shape: piece.shape, strides, offset: start * strides[axis] });
}

/**
 * The elements of `x` at positions [start, start + length) along `axis` (a
 * copy; PyTorch's `torch.narrow`, which returns a view). Negative `axis`
 * counts from the end.
 */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  arg('narrow', 'x', x);
  if (x.rank === 0) fail('narrow', 'argument \'x\' must have at least one axis, got a rank-0 tensor');
  const a = axisOf('narrow', axis, x.rank), n = x.shape[a];
  if (!Number.isInteger(start) || start < 0 || start > n) fail('narrow', `argument 'start' must be an integer in [0, ${n}] (axis ${a} of ${fmtShape(x.shape)}), got ${String(start)}`);
  if (!Number.isInteger(length) || length < 0 || start + length > n) {
    fail('narrow', `argument 'length' must be an integer in [0, ${n - start}] (start ${start} on axis ${a} of ${fmtShape(x.shape)}), got ${String(length)}`);
  }
  const shape0 = x.shape;
  return record('narrow', narrowRaw(x, a, start, length), [x], [], (g) => [padRaw(g, shape0, a, start)]);
}

/**
 * Concatenates `tensors` along `axis` (PyTorch's `torch.cat`): every tensor
 * has the same rank and the same sizes on the other axes.
 */
export function cat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) fail('cat', `argument 'tensors' must be a non-empty array of Tensors, got ${Array.isArray(tensors) ? 'an empty array' : typeof tensors}`);
  const be = deviceOf('cat', Object.fromEntries(tensors.map((t, i) => [`tensors[${i}]`, t])));
  const first: Tensor = tensors[0];
  if (first.rank === 0) fail('cat', 'rank-0 tensors cannot be concatenated (they have no axis); reshape them to [1] first');
  const a = axisOf('cat', axis, first.rank);
  tensors.forEach((t: Tensor, i) => {
    if (t.rank !== first.rank || t.shape.some((d: number, j: number) => j !== a && d !== first.shape[j])) {
      fail('cat', `tensors[${i}] has shape ${fmtShape(t.shape)}; on axes other than ${a} it must match tensors[0]'s ${fmtShape(first.shape)}`);
    }
  });
  const starts: number[] = [];
  let total = 0;
  for (const t of tensors) { starts.push(total); total += t.shape[a]; }
  const out = empty(be, first.shape.map((d, j) => (j === a ? total : d)), 'cat');
  tensors.forEach((t, i) => writeInto(t, out, a, starts[i]));
  const sizes = tensors.map((t) => t.shape[a]);
  return record('cat', out, tensors, [], (g, _saved, needs) => sizes.map((n, i) => (needs[i] ? narrowRaw(g, a, starts[i], n) : null)));
}
