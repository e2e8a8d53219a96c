// Metrics computed on the device and read back once: accuracy of class
// scores, and a running mean (e.g. the loss over an epoch). Exported as the
// `metrics` namespace.
import { noGrad } from './autograd.js';
import { fail, fmtShape } from './errors.js';
import { keep, scope } from './memory.js';
import { argmax } from './ops/argmax.js';
import { binaryRaw } from './ops/elementwise.js';
import { empty, Tensor } from './tensor.js';

/**
 * The share of rows whose largest score is the label's class: `logits` is
 * [..., C] (classes on the last axis), `labels` the class ids of the leading
 * shape (an Int32Array / number[] of that many ids, or a tensor of that
 * shape holding ids). Ties count the first class, as argmax. Computed on the
 * logits' device; one readback.
 */
export async function accuracy(logits: Tensor, labels: Tensor | ArrayLike<number>): Promise<number> {
  const op = 'metrics.accuracy';
  if (!(logits instanceof Tensor)) fail(op, `argument 'logits' must be a Tensor, got ${typeof logits}`);
  logits.live(op, 'logits');
  if (logits.rank < 1) fail(op, `argument 'logits' needs a class axis, got shape ${fmtShape(logits.shape)}`);
  const lead = logits.shape.slice(0, -1), C = logits.shape[logits.rank - 1], n = lead.reduce((a, b) => a * b, 1);
  if (n === 0) fail(op, `no rows to score: logits have shape ${fmtShape(logits.shape)}`);
  let ids: Tensor | null = null;
  if (labels instanceof Tensor) {
    labels.live(op, 'labels');
    if (labels.shape.length !== lead.length || labels.shape.some((s, i) => s !== lead[i])) {
      fail(op, `argument 'labels' has shape ${fmtShape(labels.shape)}; needs ${fmtShape(lead)} for logits ${fmtShape(logits.shape)}`);
    }
    if (labels.backend !== logits.backend) fail(op, `'labels' is on ${labels.device} and 'logits' on ${logits.device}; move one with await t.to('${logits.device}')`);
  } else {
    if (!labels || typeof (labels as ArrayLike<number>).length !== 'number') fail(op, `argument 'labels' must be a Tensor, an Int32Array or a number[], got ${typeof labels}`);
    if (labels.length !== n) fail(op, `argument 'labels' has ${labels.length} ids; needs ${n} for logits ${fmtShape(logits.shape)}`);
    const host = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      if (!Number.isInteger(c) || c < 0 || c >= C) fail(op, `argument 'labels' has class id ${c} at index ${i}; needs an integer in [0, ${C - 1}] for logits ${fmtShape(logits.shape)}`);
      host[i] = c;
    }
    ids = empty(logits.backend, lead, op);
    logits.backend.write(ids.handle(op, 'labels'), host);
  }
  let right: Tensor;
  try {
    right = noGrad(() => scope(() => binaryRaw('eq', argmax(logits, -1), ids ?? (labels as Tensor)).mean()));
  } finally {
    ids?.dispose();
  }
  try {
    return await right.item();
  } finally {
    right.dispose();
  }
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
