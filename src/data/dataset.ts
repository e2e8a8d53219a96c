// TensorDataset: samples held on the host as rows of several arrays (inputs,
// labels, …) sharing their first axis; a DataLoader asks it for batches.
import type { DeviceName } from '../backends/backend.js';
import { tensor } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { Tensor, type NestedArray } from '../tensor.js';

/** What a DataLoader draws batches from. */
export interface Dataset<B> {
  /** Number of samples. */
  readonly length: number;
  /** The samples at `indices`, in that order, as one batch (tensors on `device`, default: the default device). */
  batch(indices: ArrayLike<number>, device?: DeviceName): B;
}

export type IntegerArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

/**
 * One column of a TensorDataset: a Tensor (its first axis indexes samples),
 * a flat typed array or number[] (one value per sample), nested number arrays,
 * or `{ data, shape }` (flat row-major data with its shape, like tensor(data, shape)).
 * Integer typed arrays (Int32Array, Uint8Array, …) are class ids or indices:
 * their batches stay on the host as Int32Array, the form lepton's losses and
 * metrics take labels in. Everything else batches as a float32 Tensor.
 */
export type DatasetColumn = Tensor | ArrayLike<number> | NestedArray[] | { data: ArrayLike<number>; shape: readonly number[] };

type BatchOf<C> = C extends IntegerArray ? Int32Array
  : C extends { data: infer D; shape: readonly number[] } ? (D extends IntegerArray ? Int32Array : Tensor)
    : Tensor;
/** A batch of a TensorDataset: per column a Tensor [B, ...] or (integer columns) an Int32Array. */
export type Batch<T extends readonly DatasetColumn[]> = { -readonly [K in keyof T]: BatchOf<T[K]> };

interface Column { values: Float32Array | Int32Array; shape: number[]; rowSize: number }

const OP = 'data.TensorDataset';

function isInteger(a: unknown): a is IntegerArray {
  return a instanceof Int8Array || a instanceof Uint8Array || a instanceof Uint8ClampedArray || a instanceof Int16Array
    || a instanceof Uint16Array || a instanceof Int32Array || a instanceof Uint32Array;
}

function flatValues(i: number, data: ArrayLike<number>, integer: boolean): Float32Array | Int32Array {
  if (!integer) {
    for (let k = 0; k < data.length; k++) if (typeof data[k] !== 'number') fail(OP, `column ${i}: element ${k} is ${typeof data[k]}; needs a number`);
    return Float32Array.from(data);
  }
  const out = new Int32Array(data.length);
  for (let k = 0; k < data.length; k++) {
    if (data[k] > 2147483647) fail(OP, `column ${i}: value ${data[k]} at ${k} does not fit an Int32 class id or index`);
    out[k] = data[k];
  }
  return out;
}

function nested(i: number, data: NestedArray[]): Column {
  const shape: number[] = [];
  for (let cur: NestedArray = data; Array.isArray(cur); cur = cur[0]) shape.push(cur.length);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let k = 0;
  const walk = (v: NestedArray, dim: number) => {
    if (dim === shape.length) {
      if (typeof v !== 'number') fail(OP, `column ${i}: nested arrays hold ${Array.isArray(v) ? 'an array' : typeof v} where a number is needed`);
      values[k++] = v;
    } else {
      if (!Array.isArray(v) || v.length !== shape[dim]) fail(OP, `column ${i}: nested arrays are ragged (shape so far ${fmtShape(shape)})`);
      for (const x of v) walk(x, dim + 1);
    }
  };
  walk(data, 0);
  return { values, shape, rowSize: shape.slice(1).reduce((a, b) => a * b, 1) };
}

function column(i: number, c: DatasetColumn): Column {
  let values: Float32Array | Int32Array, shape: number[];
  if (c instanceof Tensor) {
    c.live(OP, `column ${i}`);
    if (c.rank === 0) fail(OP, `column ${i} is a scalar tensor; needs a first axis that indexes samples`);
    if (!c.backend.readSync) fail(OP, `column ${i} is a tensor on ${c.device}, which reads asynchronously; pass its values: { data: await t.data(), shape: t.shape }`);
    values = c.dataSync();
    shape = [...c.shape];
  } else if (Array.isArray(c) && c.some((x) => Array.isArray(x))) {
    return nested(i, c as NestedArray[]);
  } else if (c && typeof c === 'object' && 'shape' in c && 'data' in c) {
    const data = c.data;
    if (!data || typeof data.length !== 'number') fail(OP, `column ${i}: 'data' must be an array or a typed array`);
    shape = [...c.shape];
    if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 0)) fail(OP, `column ${i}: 'shape' ${fmtShape(shape)} needs a first axis and non-negative integer sizes`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) fail(OP, `column ${i}: data has ${data.length} values but shape ${fmtShape(shape)} needs ${size}`);
    values = flatValues(i, data, isInteger(data));
  } else if (c && typeof (c as ArrayLike<number>).length === 'number' && !(c instanceof DataView)) {
    const data = c as ArrayLike<number>;
    values = flatValues(i, data, isInteger(data));
    shape = [data.length];
  } else {
    return fail(OP, `column ${i} must be a Tensor, a typed array, an array or { data, shape }, got ${c === null ? 'null' : typeof c}`);
  }
  return { values, shape, rowSize: shape.slice(1).reduce((a, b) => a * b, 1) };
}

/**
 * Samples as rows of several columns sharing their first axis (PyTorch's
 * TensorDataset): `new TensorDataset(x, labels)` with x [n, ...] and labels [n].
 * The values are copied to the host once, here.
 */
export class TensorDataset<T extends DatasetColumn[]> implements Dataset<Batch<T>> {
  readonly length: number;
  private readonly columns: Column[];

  constructor(...columns: T) {
    if (columns.length === 0) fail(OP, 'needs at least one column (e.g. inputs and labels)');
    this.columns = columns.map((c, i) => column(i, c));
    this.length = this.columns[0].shape[0];
    this.columns.forEach((c, i) => {
      if (c.shape[0] !== this.length) fail(OP, `columns disagree on the number of samples: column 0 has ${this.length} (shape ${fmtShape(this.columns[0].shape)}), column ${i} has ${c.shape[0]} (shape ${fmtShape(c.shape)})`);
    });
  }

  /** Per column, the shape of one sample (e.g. [2] for points, [] for labels). */
  get sampleShapes(): number[][] {
    return this.columns.map((c) => c.shape.slice(1));
  }

  batch(indices: ArrayLike<number>, device?: DeviceName): Batch<T> {
    const B = indices.length;
    for (let k = 0; k < B; k++) {
      const j = indices[k];
      if (!Number.isInteger(j) || j < 0 || j >= this.length) fail('data.TensorDataset.batch', `index ${j} at ${k} is out of range for ${this.length} samples`);
    }
    const made: (Tensor | Int32Array)[] = [];
    try {
      for (const c of this.columns) {
        const r = c.rowSize, out = c.values instanceof Int32Array ? new Int32Array(B * r) : new Float32Array(B * r);
        for (let k = 0; k < B; k++) out.set(c.values.subarray(indices[k] * r, (indices[k] + 1) * r), k * r);
        made.push(out instanceof Int32Array ? out : tensor(out, [B, ...c.shape.slice(1)], { device }));
      }
    } catch (e) {
      for (const m of made) if (m instanceof Tensor) m.dispose();
      throw e;
    }
    return made as Batch<T>;
  }
}
