// gather, indexSelect and oneHot: reads at integer positions along one
// dimension (the gather kernel), with scatterAdd as the gradient. Index data
// follows the integer rule of src/integers.ts: checked on the host where its
// values are visible, by the kernel (NaN) otherwise.
import { record } from '../autograd.js';
import type { Backend, DeviceName, GatherParams } from '../backends/backend.js';
import { getBackend } from '../backends/registry.js';
import { fail, fmtShape } from '../errors.js';
import { integers, integerTensor, type IntegerData, type Integers } from '../integers.js';
import { scope } from '../memory.js';
import { describe, device, options, type OptionSpec } from '../options.js';
import { stridesOf, type Shape } from '../shape.js';
import { empty, Tensor } from '../tensor.js';
import { full } from './elementwise.js';
import { dimArg } from './slice.js';
import { arg } from './util.js';

/** @internal out (of p.shape) = x at the indices; NaN at invalid ones. */
export function gatherRaw(op: string, x: Tensor, idx: Tensor, p: GatherParams, shape: Shape): Tensor {
  const out = empty(x.backend, shape, op);
  if (out.size > 0) x.backend.gather(x.handle(op, 'x'), idx.handle(op, 'index'), out.handle(op, 'out'), p);
  return out;
}

/** @internal Zeros of `shape` with g added at the indices (gather's adjoint). */
export function scatterAddRaw(op: string, g: Tensor, idx: Tensor, p: GatherParams, shape: Shape): Tensor {
  const out = full(g.backend, shape, 0);
  if (g.size > 0) g.backend.scatterAdd(g.handle(op, 'grad'), idx.handle(op, 'index'), out.handle(op, 'out'), p);
  return out;
}

/** Reads integer data against a tensor's device: its Tensor, or host values uploaded in the current scope. */
const indexOn = (op: string, ints: Integers, be: Backend) => integerTensor(op, 'index', ints, be);

/**
 * PyTorch's gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and so
 * on for other dims). `index` has x's rank, each size at most x's outside
 * `dim`; the result has index's shape. Indices in [0, x.shape[dim]).
 */
export function gather(x: Tensor, dim: number, index: IntegerData): Tensor {
  arg('gather', 'x', x);
  const d = dimArg('gather', dim, x.rank);
  const n = x.rank === 0 ? 1 : x.shape[d];
  const ints = integers('gather', 'index', index, 0, n, 'index', ` (dimension ${d} of x ${fmtShape(x.shape)})`);
  if (ints.shape.length !== x.rank) {
    fail('gather', `argument 'index' has rank ${ints.shape.length} ${fmtShape(ints.shape)}; needs x's rank ${x.rank} (x ${fmtShape(x.shape)})`);
  }
  ints.shape.forEach((s, k) => {
    if (k !== d && s > x.shape[k]) fail('gather', `argument 'index' ${fmtShape(ints.shape)} has size ${s} in dimension ${k}, larger than x's ${x.shape[k]} (x ${fmtShape(x.shape)})`);
  });
  // A rank-0 gather reads one element: run it as rank 1.
  const xShape = x.rank === 0 ? [1] : x.shape, iShape = x.rank === 0 ? [1] : ints.shape;
  const p: GatherParams = { shape: iShape, dim: d, xStrides: stridesOf(xShape), idxStrides: stridesOf(iShape), size: n };
  const outShape = ints.shape, shape0 = x.shape;
  return scope(() => {
    const idx = indexOn('gather', ints, x.backend);
    const y = gatherRaw('gather', x, idx, p, outShape);
    return record('gather', y, [x], [idx], (g, [i]) => [scatterAddRaw('gather', g, i!, p, shape0)]);
  });
}

/**
 * PyTorch's index_select: the entries of `x` at positions `index` (1-D) along
 * `dim`; the result has x's shape with that dimension's size index.length.
 */
export function indexSelect(x: Tensor, dim: number, index: IntegerData): Tensor {
  arg('indexSelect', 'x', x);
  const d = dimArg('indexSelect', dim, x.rank);
  const xShape = x.rank === 0 ? [1] : [...x.shape];
  const n = xShape[d];
  const ints = integers('indexSelect', 'index', index, 0, n, 'index', ` (dimension ${d} of x ${fmtShape(x.shape)})`);
  if (ints.shape.length > 1) fail('indexSelect', `argument 'index' must be 1-D, got shape ${fmtShape(ints.shape)}`);
  const k = ints.shape.length === 0 ? 1 : ints.shape[0];
  const outShape = [...xShape];
  outShape[d] = k;
  const p: GatherParams = { shape: outShape, dim: d, xStrides: stridesOf(xShape), idxStrides: outShape.map((_, e) => (e === d ? 1 : 0)), size: n };
  const finalShape = x.rank === 0 ? (ints.shape.length === 0 ? [] : [k]) : outShape, shape0 = x.shape;
  return scope(() => {
    const idx = indexOn('indexSelect', ints, x.backend);
    const y = gatherRaw('indexSelect', x, idx, p, outShape).view(finalShape);
    return record('indexSelect', y, [x], [idx], (g, [i]) => [scatterAddRaw('indexSelect', g, i!, p, xShape).view(shape0)]);
  });
}

/** @internal One-hot rows [...shape, C] for checked integer data on `be`: built on the host, or read from eye(C) by the kernel. */
export function oneHotRaw(op: string, ints: Integers, C: number, be: Backend): Tensor {
  const n = sizeOfShape(ints.shape), shape = [...ints.shape, C];
  if (ints.values) {
    const hot = new Float32Array(n * C);
    for (let i = 0; i < n; i++) hot[i * C + ints.values[i]] = 1;
    const t = empty(be, shape, op);
    if (hot.length > 0) be.write(t.handle(op, 'out'), hot);
    return t;
  }
  return scope(() => {
    const eye = empty(be, [C, C], op);
    const I = new Float32Array(C * C);
    for (let i = 0; i < C; i++) I[i * C + i] = 1;
    if (I.length > 0) be.write(eye.handle(op, 'eye'), I);
    const p: GatherParams = { shape: [n, C], dim: 0, xStrides: [C, 1], idxStrides: [1, 0], size: C };
    return gatherRaw(op, eye, ints.tensor!, p, [n, C]).view(shape);
  });
}
const sizeOfShape = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export interface OneHotOptions {
  /** Where host ids' result goes; default: init()'s backend. */
  device?: DeviceName;
}
const ONE_HOT: OptionSpec<OneHotOptions> = { device };

/**
 * PyTorch's one_hot: for integer data of shape S, a tensor [...S, numClasses]
 * with a 1 at each id's class and 0 elsewhere. `numClasses` -1 (the default)
 * takes max(ids) + 1, which needs host-visible ids (not a WebGPU tensor).
 * On the ids tensor's device, else `opts.device` (default: init()'s).
 */
export function oneHot(ids: IntegerData, numClasses = -1, opts?: OneHotOptions): Tensor {
  const o = options('oneHot', opts, ONE_HOT);
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < -1) {
    fail('oneHot', `argument 'numClasses' must be a non-negative integer or -1 (one more than the largest id), got ${describe(numClasses)}`);
  }
  let C = numClasses;
  if (C === -1) {
    const probe = integers('oneHot', 'ids', ids, 0, Infinity, 'class id');
    if (!probe.values) fail('oneHot', "cannot infer 'numClasses' from a webgpu tensor without reading it; pass numClasses");
    C = probe.values.reduce((m, v) => Math.max(m, v + 1), 0);
  }
  const ints = integers('oneHot', 'ids', ids, 0, C, 'class id', ` (numClasses ${C})`);
  if (ints.tensor && o.device && o.device !== ints.tensor.device) fail('oneHot', `the ids tensor is on ${ints.tensor.device}, but device '${o.device}' was asked for`);
  const be = ints.tensor ? ints.tensor.backend : getBackend(o.device);
  return oneHotRaw('oneHot', ints, C, be);
}

