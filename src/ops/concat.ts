// concat (alias cat), stack, split and chunk, with PyTorch's semantics. Each
// concat piece is one strided copy into its region of the output (the
// strided copy's `outStrides` form); split pieces are narrow()s. Gradients:
// a concat input gets its region of g; split pieces are narrows' gradients.
import { record } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { describe } from '../options.js';
import { checkShape, stridesOf } from '../shape.js';
import { empty, Tensor } from '../tensor.js';
import { reshape } from './shape.js';
import { dimArg, narrow } from './slice.js';
import { arg, deviceOf } from './util.js';

function tensorList(op: string, tensors: unknown): Tensor[] {
  if (!Array.isArray(tensors)) fail(op, `argument 'tensors' must be an array of Tensors, got ${describe(tensors)}`);
  if (tensors.length === 0) fail(op, `argument 'tensors' is empty; needs at least one Tensor`);
  tensors.forEach((t, i) => arg(op, `tensors[${i}]`, t));
  deviceOf(op, Object.fromEntries(tensors.map((t, i) => [`tensors[${i}]`, t as Tensor])));
  return tensors as Tensor[];
}

/**
 * Joins tensors along `dim` (default 0). Every other size must match; as in
 * PyTorch, a 1-D tensor of size 0 is skipped whatever the others' shape.
 */
export function concat(tensors: readonly Tensor[], dim = 0): Tensor {
  return join('concat', tensors, dim);
}

/** PyTorch's name for concat (errors and the graph name `cat`). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return join('cat', tensors, dim);
}

function join(op: string, tensors: readonly Tensor[], dim: number): Tensor {
  const all = tensorList(op, tensors);
  const parts = all.filter((t) => !(t.rank === 1 && t.size === 0));
  if (parts.length === 0) return record(op, empty(all[0].backend, [0], op), all, [], (g) => all.map(() => g.view([0])));
  const ref = parts[0];
  if (ref.rank === 0) fail(op, `zero-dimensional tensor (tensors[${all.indexOf(ref)}]) cannot be concatenated; use stack() or reshape it to [1]`);
  const d = dimArg(op, dim, ref.rank);
  for (const t of parts) {
    const i = all.indexOf(t);
    if (t.rank !== ref.rank || t.shape.some((s, k) => k !== d && s !== ref.shape[k])) {
      fail(op, `tensors[${i}] has shape ${fmtShape(t.shape)}, tensors[${all.indexOf(ref)}] has ${fmtShape(ref.shape)}; sizes must match except in dimension ${d}`);
    }
  }
  const shape = [...ref.shape];
  shape[d] = parts.reduce((n, t) => n + t.shape[d], 0);
  checkShape(op, 'result', shape);
  const be = ref.backend;
  const out = empty(be, shape, op);
  const os = stridesOf(shape);
  const starts: number[] = [];
  let at = 0;
  for (const t of all) {
    starts.push(at);
    if (parts.includes(t)) {
      if (t.size > 0) {
        be.strided(t.handle(op, 'tensors'), out.handle(op, 'out'), {
          shape: t.shape, strides: stridesOf(t.shape), offset: 0, outStrides: os, outOffset: at * os[d],
        });
      }
      at += t.shape[d];
    }
  }
  const shapes = all.map((t) => t.shape), skipped = all.map((t) => !parts.includes(t));
  return record(op, out, all, [], (g, _, needs) => shapes.map((s, i) => {
    if (!needs[i]) return null;
    if (skipped[i]) return empty(g.backend, [0], op);
    const gs = stridesOf(g.shape), piece = empty(g.backend, s, op);
    if (piece.size > 0) g.backend.strided(g.handle(op, 'grad'), piece.handle(op, 'out'), { shape: s, strides: gs, offset: starts[i] * gs[d] });
    return piece;
  }));
}

/** Joins tensors of one shape along a new dimension `dim` (default 0; -1 appends it). */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  const all = tensorList('stack', tensors);
  const ref = all[0];
  all.forEach((t, i) => {
    if (t.rank !== ref.rank || t.shape.some((s, k) => s !== ref.shape[k])) {
      fail('stack', `tensors[${i}] has shape ${fmtShape(t.shape)}, tensors[0] has ${fmtShape(ref.shape)}; stack needs tensors of one shape`);
    }
  });
  const d = dimArg('stack', dim, ref.rank + 1);
  const shape = [...ref.shape];
  shape.splice(d, 0, 1);
  return scope(() => concat(all.map((t) => reshape(t, shape)), d));
}

/**
 * Splits `x` along `dim` (default 0): into pieces of `sizeOrSections`
 * elements (the last one smaller if it does not divide), or into pieces of
 * the listed sizes, which must add up to the dimension's size. Copies.
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  arg('split', 'x', x);
  if (x.rank === 0) fail('split', 'cannot split a rank-0 tensor (it has no dimension)');
  const d = dimArg('split', dim, x.rank);
  const n = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections < 0 || (sizeOrSections === 0 && n > 0)) {
      fail('split', `argument 'sizeOrSections' must be a positive integer (or a list of sizes), got ${describe(sizeOrSections)}`);
    }
    const k = sizeOrSections;
    sizes = k === 0 ? [0] : Array.from({ length: Math.max(1, Math.ceil(n / k)) }, (_, i) => Math.min(k, n - i * k));
  } else {
    if (!Array.isArray(sizeOrSections) || !sizeOrSections.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 0)) {
      fail('split', `argument 'sizeOrSections' must be a positive integer or an array of non-negative integers, got ${describe(sizeOrSections)}`);
    }
    const total = sizeOrSections.reduce((a, b) => a + b, 0);
    if (total !== n) fail('split', `sizes ${fmtShape(sizeOrSections)} add up to ${total}; needs ${n}, the size of dimension ${d} of x ${fmtShape(x.shape)}`);
    sizes = [...sizeOrSections];
  }
  let at = 0;
  return sizes.map((s) => { const p = narrow(x, d, at, s); at += s; return p; });
}

/**
 * Splits `x` into `chunks` pieces along `dim` (default 0), as PyTorch: each of
 * ceil(size / chunks) elements, the last smaller; fewer pieces where that
 * size leaves nothing for the last ones.
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  arg('chunk', 'x', x);
  if (typeof chunks !== 'number' || !Number.isInteger(chunks) || chunks < 1) fail('chunk', `argument 'chunks' must be a positive integer, got ${describe(chunks)}`);
  if (x.rank === 0) fail('chunk', 'cannot chunk a rank-0 tensor (it has no dimension)');
  const d = dimArg('chunk', dim, x.rank);
  const n = x.shape[d];
  const size = Math.ceil(n / chunks);
  if (n === 0) return Array.from({ length: chunks }, () => narrow(x, d, 0, 0));
  return split(x, size, d);
}
