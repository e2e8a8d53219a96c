// Making tensors from host data, constants and random numbers.
import type { DeviceName } from './backends/backend.js';
import { getBackend } from './backends/registry.js';
import { fail, fmtShape } from './errors.js';
import { generatorFor } from './random.js';
import { checkShape, sizeOf } from './shape.js';
import { newStorage, Tensor, type NestedArray } from './tensor.js';

export interface TensorOptions {
  /** Make a leaf that backward() computes a gradient for (a parameter). */
  requiresGrad?: boolean;
  /** Backend to place it on; default: the one init() chose. */
  device?: DeviceName;
}

export interface RandomOptions extends TensorOptions {
  /** Seed for this tensor alone; without it the global generator (manualSeed) is used. */
  seed?: number;
}

function place(op: string, values: Float32Array, shape: number[], opts: TensorOptions): Tensor {
  if (opts.requiresGrad !== undefined && typeof opts.requiresGrad !== 'boolean') fail(op, `option 'requiresGrad' must be a boolean`);
  const be = getBackend(opts.device);
  const s = newStorage(be, values.length, op);
  be.write(s.handle, values);
  return new Tensor(s, shape, opts.requiresGrad ?? false);
}

/** Shape of a nested array, checking that it is rectangular and numeric. */
function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const check = (v: NestedArray, dim: number, path: string) => {
    if (dim === shape.length) {
      if (typeof v !== 'number') fail('tensor', `element ${path || '[]'} is ${Array.isArray(v) ? 'an array' : typeof v}; needs a number (the data is ragged or not numeric)`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      fail('tensor', `nested arrays are ragged: ${path || 'the top level'} has ${Array.isArray(v) ? `length ${v.length}` : 'a number'} where ${shape[dim]} entries are needed (shape so far ${fmtShape(shape)})`);
    }
    v.forEach((x, i) => check(x, dim + 1, `${path}[${i}]`));
  };
  check(data, 0, '');
  return shape;
}

function flatten(data: NestedArray, out: Float32Array) {
  let k = 0;
  const walk = (v: NestedArray) => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else out[k++] = v;
  };
  walk(data);
}

/**
 * A tensor from host data: a number, nested arrays, or a flat typed array /
 * array with an explicit shape.
 *   tensor([[1, 2], [3, 4]])
 *   tensor(new Float32Array(6), [2, 3], { requiresGrad: true })
 */
export function tensor(data: NestedArray | ArrayLike<number>, shapeOrOpts?: number[] | TensorOptions, maybeOpts?: TensorOptions): Tensor {
  const shapeArg = Array.isArray(shapeOrOpts) ? shapeOrOpts : undefined;
  const opts = (Array.isArray(shapeOrOpts) ? maybeOpts : shapeOrOpts) ?? {};
  if (typeof data === 'number') {
    const shape = shapeArg ? checkShape('tensor', 'shape', shapeArg) : [];
    if (sizeOf(shape) !== 1) fail('tensor', `a single number needs a shape with one element, got ${fmtShape(shape)}`);
    return place('tensor', Float32Array.of(data), shape, opts);
  }
  if (ArrayBuffer.isView(data) || (!Array.isArray(data) && data && typeof (data as ArrayLike<number>).length === 'number')) {
    const flat = data as ArrayLike<number>;
    const shape = shapeArg ? checkShape('tensor', 'shape', shapeArg) : [flat.length];
    if (sizeOf(shape) !== flat.length) fail('tensor', `data has ${flat.length} values but shape ${fmtShape(shape)} needs ${sizeOf(shape)}`);
    return place('tensor', Float32Array.from(flat), shape, opts);
  }
  if (!Array.isArray(data)) fail('tensor', `argument 'data' must be a number, an array or a typed array, got ${data === null ? 'null' : typeof data}`);
  const inferred = inferShape(data as NestedArray);
  const values = new Float32Array(sizeOf(inferred));
  flatten(data as NestedArray, values);
  if (shapeArg) {
    const shape = checkShape('tensor', 'shape', shapeArg);
    if (sizeOf(shape) !== values.length) fail('tensor', `data has ${values.length} values but shape ${fmtShape(shape)} needs ${sizeOf(shape)} (the data's own shape is ${fmtShape(inferred)})`);
    return place('tensor', values, shape, opts);
  }
  return place('tensor', values, inferred, opts);
}

export function full(shape: number[], value: number, opts: TensorOptions = {}): Tensor {
  return filled('full', shape, value, opts);
}

function filled(op: string, shape: number[], value: number, opts: TensorOptions): Tensor {
  const s = checkShape(op, 'shape', shape);
  if (typeof value !== 'number') fail(op, `argument 'value' must be a number, got ${typeof value}`);
  const be = getBackend(opts.device);
  const n = sizeOf(s);
  const st = newStorage(be, n, op);
  be.fill(st.handle, n, value);
  return new Tensor(st, s, opts.requiresGrad ?? false);
}

export const zeros = (shape: number[], opts: TensorOptions = {}) => filled('zeros', shape, 0, opts);
export const ones = (shape: number[], opts: TensorOptions = {}) => filled('ones', shape, 1, opts);

/** Normal samples, mean 0 and std 1 unless given. */
export function randn(shape: number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const s = checkShape('randn', 'shape', shape);
  const g = generatorFor(opts.seed);
  const mean = opts.mean ?? 0, std = opts.std ?? 1;
  const v = new Float32Array(sizeOf(s));
  for (let i = 0; i < v.length; i++) v[i] = mean + std * g.normal();
  return place('randn', v, s, opts);
}

/** Uniform samples in [low, high), default [0, 1). */
export function rand(shape: number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const s = checkShape('rand', 'shape', shape);
  const g = generatorFor(opts.seed);
  const low = opts.low ?? 0, high = opts.high ?? 1;
  if (!(high > low)) fail('rand', `needs low < high, got low ${low}, high ${high}`);
  const v = new Float32Array(sizeOf(s));
  for (let i = 0; i < v.length; i++) v[i] = low + (high - low) * g.next();
  return place('rand', v, s, opts);
}
