// The one rule for integer data (class labels, indices, token ids), used by
// every op that takes it (crossEntropy, oneHot, gather, indexSelect, …):
//
// - Accepted: a Tensor holding integer values (float32, exact up to 2^24),
//   a number (one id, rank 0), an array of numbers (nested arrays where the op wants a shape), or a
//   typed array (Int32Array, Uint8Array, … or a float one holding integers).
// - Checked: every value is an integer in the op's range, else a LeptonError
//   naming the op, the argument, the bad value, its position and the range.
//   Host data is checked before any kernel runs; so is a Tensor on WASM (its
//   values are read synchronously). On WebGPU a Tensor's values cannot be
//   read synchronously: the kernels check each one instead, and an invalid
//   id gives NaN in the output it would have indexed (never a read out of
//   bounds), as the README says.
import type { Backend } from './backends/backend.js';
import { fail, fmtShape } from './errors.js';
import { describe } from './options.js';
import { checkShape, sizeOf } from './shape.js';
import { empty, Tensor } from './tensor.js';

/** Integer data: a Tensor of integer values, nested arrays of numbers, or a typed array. */
export type IntegerData = Tensor | number | ArrayLike<number> | readonly IntegerArray[];
/** Nested arrays of integers. */
export type IntegerArray = number | readonly IntegerArray[];

/** @internal Host-visible integer data: values and shape (null values: a Tensor only the device can read). */
export interface Integers {
  shape: number[];
  values: Float32Array | null;
  tensor: Tensor | null;
}

const where = (i: number, shape: readonly number[]) => {
  if (shape.length <= 1) return `index ${i}`;
  const c: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) { c.unshift(i % shape[d]); i = Math.floor(i / shape[d]); }
  return `position ${fmtShape(c)}`;
};

/** An array, or a numeric typed array (not a DataView, not 64-bit), as one row of nested integer data. */
function isRow(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView || v instanceof BigInt64Array || v instanceof BigUint64Array));
}

/**
 * @internal Reads integer data for `op`'s argument `name` and checks every
 * value is an integer in [lo, hi) where the host can see it (see above).
 * Errors read "argument 'labels' has class id 3 at index 1; needs an integer
 * in [0, 2] for logits [2, 3]": `noun` names a value, `context` ends the message.
 * `allow` is one more accepted value outside the range (crossEntropy's ignoreIndex).
 */
export function integers(op: string, name: string, data: unknown, lo: number, hi: number, noun: string, context = '',
  allow: number | null = null): Integers {
  const range = `${hi === Infinity ? (lo === 0 ? 'a non-negative integer' : `an integer >= ${lo}`) : `an integer in [${lo}, ${hi - 1}]`}${context}`;
  let shape: number[];
  let values: Float32Array | null;
  let tensor: Tensor | null = null;
  if (data instanceof Tensor) {
    data.live(op, name);
    tensor = data;
    shape = [...data.shape];
    values = data.backend.readSync ? data.dataSync() : null;
  } else if (typeof data === 'number') {
    // One id: rank 0.
    shape = [];
    values = Float32Array.of(data);
    checkExact(op, name, noun, [data], shape);
  } else if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView || data instanceof BigInt64Array || data instanceof BigUint64Array) {
      fail(op, `argument '${name}' is a ${data.constructor.name}; integer data must be a Tensor, an array of numbers or a numeric typed array such as Int32Array`);
    }
    values = Float32Array.from(data as unknown as ArrayLike<number>);
    shape = [values.length];
    checkExact(op, name, noun, data as unknown as ArrayLike<number>, shape);
  } else if (Array.isArray(data)) {
    shape = [];
    let cur: unknown = data;
    // Rows may be numeric typed arrays ([Int32Array, Int32Array]: a batch of token rows).
    while (isRow(cur)) { shape.push(cur.length); cur = cur[0]; }
    checkShape(op, name, shape);
    const flat = new Array<number>(sizeOf(shape));
    let k = 0;
    const walk = (v: unknown, d: number, at: number[]) => {
      if (d === shape.length) {
        if (typeof v !== 'number') fail(op, `argument '${name}' has ${describe(v)} at ${where(k, shape)}; needs ${range}`);
        flat[k++] = v;
        return;
      }
      if (!isRow(v) || v.length !== shape[d]) {
        fail(op, `argument '${name}' is ragged: the entry at ${fmtShape(at)} is ${isRow(v) ? `of length ${v.length}` : describe(v)}; needs an array of length ${shape[d]} (shape ${fmtShape(shape)})`);
      }
      for (let i = 0; i < v.length; i++) walk(v[i], d + 1, [...at, i]);
    };
    walk(data, 0, []);
    checkExact(op, name, noun, flat, shape);
    values = Float32Array.from(flat);
  } else {
    fail(op, `argument '${name}' must be integer data (a Tensor, an array of numbers or an Int32Array), got ${describe(data)}`);
  }
  if (values) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isInteger(v) || ((v < lo || v >= hi) && v !== allow)) fail(op, `argument '${name}' has ${noun} ${describe(v)} at ${where(i, shape)}; needs ${range}`);
    }
  }
  return { shape, values, tensor };
}

/** Values float32 cannot hold exactly (beyond 2^24) would be checked after rounding: refuse them first. */
function checkExact(op: string, name: string, noun: string, v: ArrayLike<number>, shape: number[]) {
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] === 'number' && Number.isInteger(v[i]) && Math.abs(v[i]) > 2 ** 24) {
      fail(op, `argument '${name}' has ${noun} ${v[i]} at ${where(i, shape)}; integer data is held as float32, exact up to 2^24 = 16777216`);
    }
  }
}

/** @internal The data as a tensor on `be`: the caller's Tensor, or the host values uploaded (a temporary the caller's scope frees). */
export function integerTensor(op: string, name: string, ints: Integers, be: Backend): Tensor {
  if (ints.tensor) {
    if (ints.tensor.backend !== be) {
      fail(op, `argument '${name}' is on ${ints.tensor.device} but the data is on ${be.name}; move one with await t.to('${be.name}')`);
    }
    return ints.tensor;
  }
  const t = empty(be, ints.shape, op);
  if (t.size > 0) be.write(t.handle(op, name), ints.values!);
  return t;
}
