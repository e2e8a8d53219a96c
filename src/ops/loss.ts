// Losses. crossEntropy takes integer class ids (the integer rule of
// src/integers.ts: arrays, typed arrays or a 1-D tensor) or a 2-D tensor of
// target probabilities.
import { record } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { oneOf, options, type OptionSpec } from '../options.js';
import { integers, type IntegerData, type Integers } from '../integers.js';
import { Tensor } from '../tensor.js';
import { oneHotRaw } from './gather.js';
import { binaryRaw, mul, sub, square } from './elementwise.js';
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

/**
 * target · logProb, with 0 · (−inf) = 0: a class of probability 0 adds
 * nothing even where its logit is −inf (masked) or so far below the others
 * that its log-probability is −inf. Plain products would make those rows NaN.
 * Gradients: target for logProb (finite), logProb for target (as a product's).
 */
function weighted(target: Tensor, logProb: Tensor): Tensor {
  const y = binaryRaw('xmul', target, logProb, 'crossEntropy');
  return record('crossEntropy', y, [target, logProb], [target.requiresGrad ? logProb : null, logProb.requiresGrad ? target : null], (g, [lp, t], [nt, nlp]) =>
    [nt ? binaryRaw('mul', g, lp!) : null, nlp ? binaryRaw('mul', g, t!) : null]);
}

/**
 * Softmax cross-entropy of `logits` [N, C] against `labels`: integer class
 * ids (N of them: an array, an Int32Array or a 1-D Tensor; see "Integer
 * data" in the README) or target probabilities (a Tensor [N, C]). Mean over rows by
 * default. A logit of −inf (a masked class) is fine where its class has
 * probability 0: that class adds 0 to the loss and gets gradient 0 (PyTorch
 * does the same for class ids; for probability targets PyTorch 1.13 returns a
 * NaN loss there, with the same finite gradient).
 */
export function crossEntropy(logits: Tensor, labels: IntegerData | Tensor, opts?: LossOptions): Tensor {
  arg('crossEntropy', 'logits', logits);
  const reduction = options('crossEntropy', opts, SPEC, ALIASES).reduction ?? 'mean';
  if (logits.rank !== 2) fail('crossEntropy', `argument 'logits' must be 2-D [batch, classes], got ${fmtShape(logits.shape)}`);
  const [N, C] = logits.shape;
  let ids: Integers | null = null;
  if (labels instanceof Tensor && labels.rank === 2) {
    deviceOf('crossEntropy', { logits, labels });
    if (labels.shape[0] !== N || labels.shape[1] !== C) {
      fail('crossEntropy', `a 2-D Tensor 'labels' holds probabilities and needs the logits' shape ${fmtShape(logits.shape)}, got ${fmtShape(labels.shape)}; class ids are 1-D`);
    }
  } else {
    if (labels instanceof Tensor) deviceOf('crossEntropy', { logits, labels });
    ids = integers('crossEntropy', 'labels', labels, 0, C, 'class id', ` for logits ${fmtShape(logits.shape)}`);
    if (ids.shape.length !== 1 || ids.shape[0] !== N) {
      fail('crossEntropy', `argument 'labels' has shape ${fmtShape(ids.shape)}; needs ${N} class ids (one per row of logits ${fmtShape(logits.shape)}) or probabilities ${fmtShape(logits.shape)}`);
    }
  }
  // Temporaries (the one-hot rows, log-probabilities…) die with the scope; the graph keeps what backward reads.
  return scope(() => {
    const target = ids ? oneHotRaw('crossEntropy', ids, C, logits.backend) : labels as Tensor;
    const perRow = sum(weighted(target, logSoftmax(logits)), 1);
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
