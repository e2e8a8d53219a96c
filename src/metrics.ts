// Metrics computed on the device and read back once: accuracy (top-k) and
// the confusion matrix of class scores, and a running mean (e.g. the loss over
// an epoch). Exported as the `metrics` namespace.
import { noGrad } from './autograd.js';
import { fail, fmtShape } from './errors.js';
import { keep, scope } from './memory.js';
import { argmax } from './ops/argmax.js';
import { binaryRaw, unaryRaw } from './ops/elementwise.js';
import { matmul } from './ops/matmul.js';
import { sum } from './ops/reduce.js';
import { transpose } from './ops/shape.js';
import { integers } from './integers.js';
import { integer, oneOf, options } from './options.js';
import { empty, Tensor } from './tensor.js';

/**
 * Checks logits and labels; `views()` (call it inside the metric's scope, which frees the views)
 * gives the logits as [n, C] and the labels as [n, 1] ids on their device. `owned`: ids uploaded
 * here, to free.
 */
function classRows(op: string, logits: Tensor, labels: Tensor | ArrayLike<number>) {
  if (!(logits instanceof Tensor)) fail(op, `argument 'logits' must be a Tensor, got ${typeof logits}`);
  logits.live(op, 'logits');
  if (logits.rank < 1) fail(op, `argument 'logits' needs a class axis, got shape ${fmtShape(logits.shape)}`);
  const lead = logits.shape.slice(0, -1), C = logits.shape[logits.rank - 1], n = lead.reduce((a, b) => a * b, 1);
  if (n === 0 || C === 0) fail(op, `no rows to score: logits have shape ${fmtShape(logits.shape)}`);
  if (C > 2 ** 24) fail(op, `${C} classes are more than float32 ids can count exactly (2^24)`);
  // Labels follow the integer-data rule (src/integers.ts); a host array may also list the ids flat.
  if (labels instanceof Tensor) labels.live(op, 'labels');
  const ints = integers(op, 'labels', labels, 0, C, 'class id', ` for logits ${fmtShape(logits.shape)}`);
  const flat = !(labels instanceof Tensor) && ints.shape.length === 1;
  if (flat ? ints.shape[0] !== n : ints.shape.length !== lead.length || ints.shape.some((s, i) => s !== lead[i])) {
    fail(op, flat ? `argument 'labels' has ${ints.shape[0]} ids; needs ${n} for logits ${fmtShape(logits.shape)}`
      : `argument 'labels' has shape ${fmtShape(ints.shape)}; needs ${fmtShape(lead)} for logits ${fmtShape(logits.shape)}`);
  }
  if (ints.tensor && ints.tensor.backend !== logits.backend) {
    fail(op, `'labels' is on ${ints.tensor.device} and 'logits' on ${logits.device}; move one with await t.to('${logits.device}')`);
  }
  const ids = ints.tensor ?? hostTensor(logits, [n, 1], ints.values!, op), owned = !ints.tensor;
  return { views: () => ({ rows: logits.view([n, C]), ids: ids.view([n, 1]) }), ids, owned, n, C };
}

/** A tensor on x's device holding `values`. */
function hostTensor(x: Tensor, shape: number[], values: Float32Array, op: string): Tensor {
  const t = empty(x.backend, shape, op);
  x.backend.write(t.handle(op, 'values'), values);
  return t;
}

/** Reads a scalar tensor made by `f` (on the device, without gradients), freeing what it used. */
async function readOnce<T>(make: () => Tensor, read: (t: Tensor) => Promise<T>, owned: Tensor | null): Promise<T> {
  let t: Tensor;
  try {
    t = noGrad(() => scope(make));
  } finally {
    owned?.dispose();
  }
  try {
    return await read(t);
  } finally {
    t.dispose();
  }
}

export interface AccuracyOptions {
  /** A row counts as right when its label is among its topK highest scores. Default 1. */
  topK?: number;
}

/**
 * The share of rows whose label is the highest-scoring class, or with
 * `{ topK: k }` among the k highest (torchmetrics' top_k): `logits` is
 * [..., C] (classes on the last axis), `labels` the class ids of the leading
 * shape (an Int32Array / number[] of that many ids, or a tensor of that shape
 * holding ids). Classes are ranked as a stable descending sort: ties go to
 * the lower class id (top-1 is argmax's first maximum), and NaN ranks above
 * every number (as argmax counts it). Computed on the logits' device; one
 * readback.
 */
export async function accuracy(logits: Tensor, labels: Tensor | ArrayLike<number>, opts?: AccuracyOptions): Promise<number> {
  const op = 'metrics.accuracy';
  const { views, ids, owned, C } = classRows(op, logits, labels);
  const o = (() => {
    try { return options(op, opts, { topK: integer(1) }, { top_k: 'topK', k: 'topK' }); } catch (e) { if (owned) ids.dispose(); throw e; }
  })();
  const k = o.topK ?? 1;
  if (k > C) {
    if (owned) ids.dispose();
    fail(op, `option 'topK' is ${k}; logits ${fmtShape(logits.shape)} have only ${C} classes`);
  }
  return readOnce(() => {
    const { rows, ids } = views();
    if (k === 1) return binaryRaw('eq', argmax(rows, -1, true), ids).mean();
    const rank = labelRank(rows, ids, C, op);
    // rank < k  ⇔  k − ½ − rank > 0 (ranks are whole numbers)
    return unaryRaw('sign', unaryRaw('relu', unaryRaw('affine', rank, -1, k - 0.5))).mean();
  }, (t) => t.item(), owned ? ids : null);
}

/**
 * Per row, the label's place in its row sorted descending (0: first): the
 * classes scoring higher, plus the equal ones with a lower id, NaN above all
 * (NaNs among themselves by id). Only comparisons touch the scores, so ±inf
 * and NaN need no special cases beyond the NaN mask.
 */
function labelRank(rows: Tensor, ids: Tensor, C: number, op: string): Tensor {
  const cls = hostTensor(rows, [1, C], Float32Array.from({ length: C }, (_, c) => c), op);
  const mask = binaryRaw('eq', cls, ids), before = binaryRaw('gt', ids, cls);      // c = y, c < y
  const valid = binaryRaw('eq', rows, rows), isNaN = unaryRaw('affine', valid, -1, 1);
  // relu_bwd(t, x) is x where t > 0, else 0 even for x = NaN: a select, used here to pick values.
  const clean = binaryRaw('relu_bwd', valid, rows);
  const y = sum(binaryRaw('relu_bwd', mask, clean), -1, true);                     // the label's score (0 if NaN)
  const yNaN = sum(binaryRaw('mul', mask, isNaN), -1, true);
  const tiedBefore = binaryRaw('mul', before, binaryRaw('eq', rows, y));
  const overNumber = sum(binaryRaw('add', binaryRaw('add', binaryRaw('gt', rows, y), isNaN), tiedBefore), -1, true);
  const overNaN = sum(binaryRaw('mul', before, isNaN), -1, true);
  return binaryRaw('add', binaryRaw('mul', unaryRaw('affine', yNaN, -1, 1), overNumber), binaryRaw('mul', yNaN, overNaN));
}

export interface ConfusionMatrixOptions {
  /** Divide by the row sums ('true'), the column sums ('pred') or the total ('all'); default 'none' (counts). */
  normalize?: 'none' | 'true' | 'pred' | 'all';
}

/**
 * The C × C confusion matrix of class scores against labels (torchmetrics'
 * and scikit-learn's layout): entry [i][j] counts rows of true class i that
 * argmax predicts as j. Arguments as accuracy(). Counted on the device (one-hot
 * rows multiplied: exact up to 2^24 rows), one readback. With `normalize`, a
 * row or column that sums to 0 stays 0.
 */
export async function confusionMatrix(logits: Tensor, labels: Tensor | ArrayLike<number>, opts?: ConfusionMatrixOptions): Promise<number[][]> {
  const op = 'metrics.confusionMatrix';
  const { views, ids, owned, n, C } = classRows(op, logits, labels);
  let norm: ConfusionMatrixOptions['normalize'];
  try {
    norm = options(op, opts, { normalize: oneOf('none', 'true', 'pred', 'all') }).normalize ?? 'none';
    if (n > 2 ** 24) fail(op, `${n} rows are more than float32 counts hold exactly (2^24); count in parts`);
  } catch (e) {
    if (owned) ids.dispose();
    throw e;
  }
  const flat = await readOnce(() => {
    const { rows, ids } = views();
    const cls = hostTensor(rows, [1, C], Float32Array.from({ length: C }, (_, c) => c), op);
    const truth = binaryRaw('eq', ids, cls), pred = binaryRaw('eq', argmax(rows, -1, true), cls);   // one-hot [n, C]
    return matmul(transpose(truth, [1, 0]), pred);
  }, (t) => t.data(), owned ? ids : null);
  const m = Array.from({ length: C }, (_, i) => Array.from(flat.subarray(i * C, (i + 1) * C)));
  const div = (x: number, d: number) => (d === 0 ? 0 : x / d);
  if (norm === 'true') return m.map((r) => { const s = r.reduce((a, b) => a + b, 0); return r.map((x) => div(x, s)); });
  if (norm === 'pred') {
    const cols = m[0].map((_, j) => m.reduce((a, row) => a + row[j], 0));
    return m.map((r) => r.map((x, j) => div(x, cols[j])));
  }
  if (norm === 'all') return m.map((r) => r.map((x) => div(x, n)));
  return m;
}

/**
 * A running weighted mean of tensor values (as torchmetrics' MeanMetric),
 * kept on the device: update() queues one or two kernels and reads nothing;
 * compute() reads the mean back once. For an epoch's mean loss:
 *
 *   const loss = new metrics.MeanMetric();
 *   for (...) loss.update(stepLoss);       // no readback per step
 *   console.log(await loss.compute());
 *   loss.reset();
 */
export class MeanMetric {
  private total: Tensor | null = null;
  private host = 0;
  private count = 0;

  /** Adds every element of `value` (a tensor, or a number) with weight `weight`. */
  update(value: Tensor | number, weight = 1): void {
    const op = 'MeanMetric.update';
    if (typeof weight !== 'number' || !(weight >= 0) || !Number.isFinite(weight)) fail(op, `argument 'weight' must be a finite number >= 0, got ${weight}`);
    if (typeof value === 'number') {
      this.host += weight * value;
      this.count += weight;
      return;
    }
    if (!(value instanceof Tensor)) fail(op, `argument 'value' must be a Tensor or a number, got ${value === null ? 'null' : typeof value}`);
    value.live(op, 'value');
    if (this.total && this.total.backend !== value.backend) {
      fail(op, `the running total is on ${this.total.device} and 'value' on ${value.device}; compute() and reset() before moving`);
    }
    if (value.size === 0) return;
    const prev = this.total;
    this.total = keep(noGrad(() => scope(() => {
      const s = value.size === 1 ? value.reshape([]) : value.sum();
      const w = weight === 1 ? s : s.mul(weight);
      return prev ? prev.add(w) : w.clone();
    })));
    prev?.dispose();
    this.count += weight * value.size;
  }

  /** The weighted mean of everything added since the last reset (NaN if nothing); one readback. */
  async compute(): Promise<number> {
    const dev = this.total ? await this.total.item() : 0;
    return this.count > 0 ? (dev + this.host) / this.count : NaN;
  }

  /** Starts again from nothing (frees the running total). */
  reset(): void {
    this.total?.dispose();
    this.total = null;
    this.host = 0;
    this.count = 0;
  }

  dispose(): void {
    this.reset();
  }
}
