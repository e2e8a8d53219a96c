// softmax and log-softmax over one axis (the last by default; another axis
// is moved last and back). Gradients:
//   softmax:     dx = y ⊙ (g − Σ g⊙y)
//   logSoftmax:  dx = g − exp(y) ⊙ Σ g
import { record } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { describe } from '../options.js';
import { empty, type Tensor } from '../tensor.js';
import { binaryRaw, unaryRaw } from './elementwise.js';
import { transpose } from './shape.js';
import { arg } from './util.js';

/** Softmax over the last axis; no gradient. */
function softmaxRaw(x: Tensor, log: boolean): Tensor {
  const be = x.backend;
  const cols = x.rank === 0 ? 1 : x.shape[x.rank - 1];
  const out = empty(be, x.shape, log ? 'logSoftmax' : 'softmax');
  if (out.size > 0) be.softmax(x.handle('softmax', 'x'), out.handle('softmax', 'out'), out.size / cols, cols, log);
  return out;
}

/** Σ over the last axis, kept as size 1 (no gradient). */
function rowSums(t: Tensor): Tensor {
  const cols = t.shape[t.rank - 1];
  const out = empty(t.backend, [...t.shape.slice(0, -1), 1], 'sum');
  t.backend.reduce('sum', t.handle('sum', 'x'), out.handle('sum', 'out'), { outer: t.size / cols, reduce: cols, inner: 1 });
  return out;
}

function lastAxis(name: string, x: Tensor, log: boolean): Tensor {
  const y = softmaxRaw(x, log);
  if (x.size === 0) return y;
  return record(name, y, [x], [y], (g, [y]) => [log
    ? binaryRaw('sub', g, binaryRaw('mul', unaryRaw('exp', y), rowSums(g)))
    : binaryRaw('mul', y, binaryRaw('sub', g, rowSums(binaryRaw('mul', g, y))))]);
}

function alongAxis(name: string, x: Tensor, axis: number, log: boolean): Tensor {
  arg(name, 'x', x);
  if (typeof axis !== 'number' || !Number.isInteger(axis)) fail(name, `argument 'axis' must be an integer, got ${describe(axis)}`);
  if (x.rank === 0) fail(name, `needs a tensor of rank >= 1, got a scalar ${fmtShape(x.shape)}`);
  if (!Number.isInteger(axis) || axis < -x.rank || axis >= x.rank) {
    fail(name, `axis ${axis} is out of range for shape ${fmtShape(x.shape)} (needs ${-x.rank} <= axis < ${x.rank})`);
  }
  const ax = axis < 0 ? axis + x.rank : axis;
  if (ax === x.rank - 1) return lastAxis(name, x, log);
  const perm = x.shape.map((_, i) => i);
  perm[ax] = x.rank - 1;
  perm[x.rank - 1] = ax;
  return scope(() => transpose(lastAxis(name, transpose(x, perm), log), perm));
}

export const softmax = (x: Tensor, axis = -1) => alongAxis('softmax', x, axis, false);
export const logSoftmax = (x: Tensor, axis = -1) => alongAxis('logSoftmax', x, axis, true);
