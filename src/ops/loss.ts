// Losses. crossEntropy takes integer class ids (checked on the host, before
// any kernel) or a tensor of target probabilities.
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { oneOf, options, type OptionSpec } from '../options.js';
import { empty, Tensor } from '../tensor.js';
import { mul, sub, square } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { logSoftmax } from './softmax.js';
import { arg, deviceOf } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossOptions {
  /** 'mean' (default) over rows or elements, 'sum', or 'none' (per row / element). */
  reduction?: Reduction;
}

const SPEC: OptionSpec<LossOptions> = { reduction: oneOf('mean', 'sum', 'none') };
/** Other libraries' spellings: PyTorch's deprecated `reduce`, Keras's `reduction` values differ. */
const ALIASES = { reduce: 'reduction' };

/** One-hot rows for class ids, validated on the host. */
function oneHot(logits: Tensor, labels: ArrayLike<number>): Float32Array {
  const [N, C] = logits.shape;
  if (labels.length !== N) fail('crossEntropy', `argument 'labels' has ${labels.length} entries; needs ${N} (one per row of logits ${fmtShape(logits.shape)})`);
  const hot = new Float32Array(N * C);
  for (let i = 0; i < N; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= C) {
      fail('crossEntropy', `argument 'labels' has class id ${c} at index ${i}; needs an integer in [0, ${C - 1}] for logits ${fmtShape(logits.shape)}`);
    }
    hot[i * C + c] = 1;
  }
  return hot;
}

/**
 * Softmax cross-entropy of `logits` [N, C] against `labels`: integer class
 * ids (length N) or target probabilities (a Tensor [N, C]). Mean over rows by
 * default.
 */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number> | Tensor, opts?: LossOptions): Tensor {
  arg('crossEntropy', 'logits', logits);
  const reduction = options('crossEntropy', opts, SPEC, ALIASES).reduction ?? 'mean';
  if (logits.rank !== 2) fail('crossEntropy', `argument 'logits' must be 2-D [batch, classes], got ${fmtShape(logits.shape)}`);
  let hot: Float32Array | null = null;
  if (labels instanceof Tensor) {
    deviceOf('crossEntropy', { logits, labels });
    if (labels.rank !== 2 || labels.shape[0] !== logits.shape[0] || labels.shape[1] !== logits.shape[1]) {
      fail('crossEntropy', `a Tensor 'labels' holds probabilities and needs the logits' shape ${fmtShape(logits.shape)}, got ${fmtShape(labels.shape)}; pass class ids as an array`);
    }
  } else {
    if (labels === null || typeof labels !== 'object' || typeof (labels as ArrayLike<number>).length !== 'number') {
      fail('crossEntropy', `argument 'labels' must be an array of class ids or a Tensor, got ${labels === null ? 'null' : typeof labels}`);
    }
    hot = oneHot(logits, labels);
  }
  // Temporaries (the one-hot rows, log-probabilities…) die with the scope; the graph keeps what backward reads.
  return scope(() => {
    let target = labels as Tensor;
    if (hot) {
      target = empty(logits.backend, logits.shape);
      logits.backend.write(target.handle('crossEntropy', 'labels'), hot);
    }
    const perRow = sum(mul(logSoftmax(logits), target), 1);
    return mul(reduction === 'none' ? perRow : reduction === 'sum' ? sum(perRow) : mean(perRow), -1);
  });
}

/** Mean squared error; `pred` and `target` must have the same shape. */
export function mse(pred: Tensor, target: Tensor, opts?: LossOptions): Tensor {
  deviceOf('mse', { pred, target });
  const reduction = options('mse', opts, SPEC, ALIASES).reduction ?? 'mean';
  if (pred.rank !== target.rank || pred.shape.some((d, i) => d !== target.shape[i])) {
    fail('mse', `argument 'target' has shape ${fmtShape(target.shape)}; needs ${fmtShape(pred.shape)} (the prediction's shape)`);
  }
  return scope(() => {
    const sq = square(sub(pred, target));
    return reduction === 'none' ? sq : reduction === 'sum' ? sum(sq) : mean(sq);
  });
}
