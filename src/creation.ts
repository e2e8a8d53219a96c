// Making tensors from host data, constants and random numbers.
import type { DeviceName } from './backends/backend.js';
import { getBackend } from './backends/registry.js';
import { fail, fmtShape } from './errors.js';
import { bool, describe, device, finite, number, options, type OptionSpec } from './options.js';
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

const TENSOR_OPTIONS: OptionSpec<TensorOptions> = { requiresGrad: bool, device };
const RANDN_OPTIONS: OptionSpec<RandnOptions> = { ...TENSOR_OPTIONS, seed: finite, mean: finite, std: number(0, Infinity) };
const RAND_OPTIONS: OptionSpec<RandOptions> = { ...TENSOR_OPTIONS, seed: finite, low: finite, high: finite };

function place(op: string, values: Float32Array, shape: number[], opts: TensorOptions): Tensor {
  const be = getBackend(opts.device);
  const s = newStorage(be, values.length, op);
  be.write(s.handle, values);
  return new Tensor(s, shape, opts.requiresGrad ?? false);
}

/** Host data as float32 values: a typed array of numbers, or an array-like whose every entry is a number. */
function flatValues(data: ArrayLike<number>): Float32Array {
  if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView || data instanceof BigInt64Array || data instanceof BigUint64Array) {
      fail('tensor', `argument 'data' is a ${data.constructor.name}; needs numbers: a Float32Array or another numeric typed array`);
    }
    return Float32Array.from(data as ArrayLike<number>);
  }
  const n = data.length;
  if (!Number.isSafeInteger(n) || n < 0) fail('tensor', `argument 'data' has length ${describe(n)}; needs a non-negative integer`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (typeof v !== 'number') fail('tensor', `argument 'data' has no number at index ${i} (got ${describe(v)}); needs an array-like of numbers`);
    out[i] = v;
  }
  return out;
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
  const opts = options('tensor', Array.isArray(shapeOrOpts) ? maybeOpts : shapeOrOpts, TENSOR_OPTIONS);
  if (typeof data === 'number') {
    const shape = shapeArg ? checkShape('tensor', 'shape', shapeArg) : [];
    if (sizeOf(shape) !== 1) fail('tensor', `a single number needs a shape with one element, got ${fmtShape(shape)}`);
    return place('tensor', Float32Array.of(data), shape, opts);
  }
  // Strings have a length too, but are not numeric data ('123' is not [1, 2, 3]).
  const arrayLike = data !== null && typeof data === 'object' && !Array.isArray(data) && ('length' in data || ArrayBuffer.isView(data));
  if (arrayLike) {
    const values = flatValues(data as ArrayLike<number>);
    const shape = shapeArg ? checkShape('tensor', 'shape', shapeArg) : [values.length];
    if (sizeOf(shape) !== values.length) fail('tensor', `data has ${values.length} values but shape ${fmtShape(shape)} needs ${sizeOf(shape)}`);
    return place('tensor', values, shape, opts);
  }
  if (!Array.isArray(data)) fail('tensor', `argument 'data' must be a number, an array or a typed array, got ${describe(data)}`);
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

function filled(op: string, shape: number[], value: number, opts: TensorOptions | undefined): Tensor {
  const s = checkShape(op, 'shape', shape);
  if (typeof value !== 'number') fail(op, `argument 'value' must be a number, got ${describe(value)}`);
  const o = options(op, opts, TENSOR_OPTIONS);
  const be = getBackend(o.device);
  const n = sizeOf(s);
  const st = newStorage(be, n, op);
  be.fill(st.handle, n, value);
  return new Tensor(st, s, o.requiresGrad ?? false);
}

export const full = (shape: number[], value: number, opts?: TensorOptions) => filled('full', shape, value, opts);
export const zeros = (shape: number[], opts?: TensorOptions) => filled('zeros', shape, 0, opts);
export const ones = (shape: number[], opts?: TensorOptions) => filled('ones', shape, 1, opts);

export interface RandnOptions extends RandomOptions {
  /** Default 0. */
  mean?: number;
  /** Standard deviation, >= 0 (0 gives the constant `mean`). Default 1. */
  std?: number;
}

export interface RandOptions extends RandomOptions {
  /** The interval [low, high); default [0, 1). */
  low?: number;
  high?: number;
}

/** Normal samples, mean 0 and std 1 unless given. */
export function randn(shape: number[], opts?: RandnOptions): Tensor {
  const s = checkShape('randn', 'shape', shape);
  const o = options('randn', opts, RANDN_OPTIONS);
  const g = generatorFor(o.seed);
  const mean = o.mean ?? 0, std = o.std ?? 1;
  const v = new Float32Array(sizeOf(s));
  for (let i = 0; i < v.length; i++) v[i] = mean + std * g.normal();
  return place('randn', v, s, o);
}

/** Uniform samples in [low, high), default [0, 1). */
export function rand(shape: number[], opts?: RandOptions): Tensor {
  const s = checkShape('rand', 'shape', shape);
  const o = options('rand', opts, RAND_OPTIONS);
  const g = generatorFor(o.seed);
  const low = o.low ?? 0, high = o.high ?? 1;
  if (!(high > low)) fail('rand', `needs low < high, got low ${low}, high ${high}`);
  const v = new Float32Array(sizeOf(s));
  for (let i = 0; i < v.length; i++) v[i] = low + (high - low) * g.next();
  return place('rand', v, s, o);
}
