// Losses. crossEntropy takes integer class ids (the integer rule of
// src/integers.ts: arrays, typed arrays or a 1-D tensor; the fused
// cross-entropy kernels) or a 2-D tensor of target probabilities (composed
// from logSoftmax).
import { record } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { integer, number, oneOf, options, type OptionSpec } from '../options.js';
import { integers, integerTensor, type IntegerData, type Integers } from '../integers.js';
import { empty, Tensor } from '../tensor.js';
import type { XentOptions } from '../backends/primitives/xent.js';
import { add, binaryRaw, full, mul, sub, square, unaryRaw } from './elementwise.js';
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

export interface CrossEntropyOptions extends LossOptions {
  /**
   * Rows whose class id is this value add nothing: loss 0, gradient 0, and the
   * mean divides by the other rows (PyTorch's `ignore_index`; default −100).
   * Class ids only; probability targets ignore it, as PyTorch.
   */
  ignoreIndex?: number;
  /**
   * ε in [0, 1]: the target becomes (1 − ε)·target + ε/C, a share ε spread
   * over every class (PyTorch's `label_smoothing`; default 0).
   */
  labelSmoothing?: number;
}
const XENT_SPEC: OptionSpec<CrossEntropyOptions> = {
  ...SPEC,
  // Ids travel as f32: the ignored one must be exact there too.
  ignoreIndex: integer(-(2 ** 24), 2 ** 24),
  labelSmoothing: number(0, 1),
};
const XENT_ALIASES = { ...ALIASES, ignore_index: 'ignoreIndex', label_smoothing: 'labelSmoothing' };

/**
 * Cross-entropy against class ids by the fused kernels: the forward keeps
 * only each row's log-sum-exp (two floats), the backward recomputes
 * softmax − target from the logits, scaled by the incoming gradient (one per
 * row, or one for all rows under a mean or sum reduction). The ids are the
 * host's checked values uploaded, or (a Tensor on WebGPU, which cannot be read
 * synchronously) the caller's tensor itself: the kernels then check each id
 * and make its row NaN where it is not a class (src/integers.ts). The mean
 * divides by the rows not ignored: counted on the host where the ids are
 * visible, else on the device (and the backward divides g by that count).
 */
function fusedClassIds(logits: Tensor, ids: Integers, reduction: Reduction, o: XentOptions): Tensor {
  const op = 'crossEntropy';
  const be = logits.backend;
  const [N, C] = logits.shape;
  return scope(() => {
    const targets = integerTensor(op, 'labels', ids, be), loss = empty(be, [N], op), lse = empty(be, [N, 2], op);
    be.xentForward(logits.handle(op, 'logits'), targets.handle(op, 'labels'), loss.handle(op, 'loss'), lse.handle(op, 'lse'), N, C, o);
    let out = reduction === 'none' ? loss : sum(loss), scale = reduction === 'mean' ? 1 / N : 1;
    let count: Tensor | null = null;
    if (reduction === 'mean') {
      if (ids.values) {
        const kept = o.ignore === null ? N : ids.values.reduce((n, v) => n + (v === o.ignore ? 0 : 1), 0);
        out = kept === N ? mean(loss) : mul(out, 1 / kept);
        scale = 1 / kept;
      } else {
        const hit = binaryRaw('eq', targets, full(be, [], o.ignore ?? NaN));
        count = add(mul(sum(hit), -1), N);
        out = binaryRaw('div', out, count);
      }
    }
    // The backward reads the logits. An op's own fresh output (a model's last layer) is saved as it
    // is; a leaf or a view may be updated in place before backward (an optimizer step), so the
    // graph keeps a copy of it, as the composed version kept its log-probabilities. Caller-owned
    // ids are copied for the same reason.
    const fresh = logits.gradFn !== null && !logits.live(op, 'logits').shared;
    const saved = fresh ? logits : unaryRaw('copy', logits);
    const savedIds = ids.tensor ? unaryRaw('copy', targets) : targets;
    return record(op, out, [logits], [saved, savedIds, lse, count], (g, [x, t, l, n]) => {
      const dx = empty(be, [N, C], op);
      const gs = n ? binaryRaw('div', g, n) : g;
      be.xentBackward(x!.handle(op, 'logits'), t!.handle(op, 'labels'), l!.handle(op, 'lse'), gs.handle(op, 'grad'), dx.handle(op, 'dx'),
        N, C, reduction === 'none' ? 1 : 0, n ? 1 : scale, o);
      return [dx];
    });
  });
}

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
 * NaN loss there, with the same finite gradient). `ignoreIndex` (default
 * −100) and `labelSmoothing` (default 0) are PyTorch's `ignore_index` and
 * `label_smoothing` (see CrossEntropyOptions).
 */
export function crossEntropy(logits: Tensor, labels: IntegerData | Tensor, opts?: CrossEntropyOptions): Tensor {
  arg('crossEntropy', 'logits', logits);
  const o = options('crossEntropy', opts, XENT_SPEC, XENT_ALIASES);
  const reduction = o.reduction ?? 'mean', eps = o.labelSmoothing ?? 0, ignore = o.ignoreIndex ?? -100;
  if (logits.rank !== 2) fail('crossEntropy', `argument 'logits' must be 2-D [batch, classes], got ${fmtShape(logits.shape)}`);
  const [N, C] = logits.shape;
  if (!(labels instanceof Tensor && labels.rank === 2)) {
    if (labels instanceof Tensor) deviceOf('crossEntropy', { logits, labels });
    // Ids travel as f32, exact below 2^24 (a vocabulary of 16.7M classes).
    if (C > 2 ** 24) fail('crossEntropy', `argument 'logits' has ${C} classes; class ids support at most ${2 ** 24}`);
    const ids = integers('crossEntropy', 'labels', labels, 0, C, 'class id', ` for logits ${fmtShape(logits.shape)} (or the ignoreIndex ${ignore})`, ignore);
    if (ids.shape.length !== 1 || ids.shape[0] !== N) {
      fail('crossEntropy', `argument 'labels' has shape ${fmtShape(ids.shape)}; needs ${N} class ids (one per row of logits ${fmtShape(logits.shape)}) or probabilities ${fmtShape(logits.shape)}`);
    }
    return fusedClassIds(logits, ids, reduction, { ignore, smoothing: eps });
  }
  deviceOf('crossEntropy', { logits, labels });
  if (labels.shape[0] !== N || labels.shape[1] !== C) {
    fail('crossEntropy', `a 2-D Tensor 'labels' holds probabilities and needs the logits' shape ${fmtShape(logits.shape)}, got ${fmtShape(labels.shape)}; class ids are 1-D`);
  }
  // Temporaries (log-probabilities, products…) die with the scope; the graph keeps what backward reads.
  return scope(() => {
    const target = eps > 0 ? add(mul(labels, 1 - eps), eps / C) : labels;
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
