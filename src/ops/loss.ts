// Losses. crossEntropy takes integer class ids (checked on the host, before
// any kernel; the fused cross-entropy kernels) or a tensor of target
// probabilities (composed from logSoftmax).
import { record } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { oneOf, options, type OptionSpec } from '../options.js';
import { empty, Tensor } from '../tensor.js';
import { binaryRaw, mul, sub, square, unaryRaw } from './elementwise.js';
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

/** Class ids as f32 values (the fused kernel's targets), validated on the host. */
function classIds(logits: Tensor, labels: ArrayLike<number>): Float32Array {
  const [N, C] = logits.shape;
  if (labels.length !== N) fail('crossEntropy', `argument 'labels' has ${labels.length} entries; needs ${N} (one per row of logits ${fmtShape(logits.shape)})`);
  // Ids travel as f32, exact below 2^24 (a vocabulary of 16.7M classes).
  if (C >= 2 ** 24) fail('crossEntropy', `argument 'logits' has ${C} classes; class ids support at most ${2 ** 24 - 1}`);
  const ids = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= C) {
      fail('crossEntropy', `argument 'labels' has class id ${c} at index ${i}; needs an integer in [0, ${C - 1}] for logits ${fmtShape(logits.shape)}`);
    }
    ids[i] = c;
  }
  return ids;
}

/**
 * Cross-entropy against class ids by the fused kernels: the forward keeps
 * only each row's log-sum-exp (two floats), the backward recomputes
 * softmax − onehot from the logits, scaled by the incoming gradient (one per
 * row, or one for all rows under a mean or sum reduction).
 */
function fusedClassIds(logits: Tensor, ids: Float32Array, reduction: Reduction): Tensor {
  const op = 'crossEntropy';
  const be = logits.backend;
  const [N, C] = logits.shape;
  return scope(() => {
    const targets = empty(be, [N], op), loss = empty(be, [N], op), lse = empty(be, [N, 2], op);
    if (N > 0) be.write(targets.handle(op, 'labels'), ids);
    be.xentForward(logits.handle(op, 'logits'), targets.handle(op, 'labels'), loss.handle(op, 'loss'), lse.handle(op, 'lse'), N, C);
    const out = reduction === 'none' ? loss : reduction === 'sum' ? sum(loss) : mean(loss);
    // The backward reads the logits. An op's own fresh output (a model's last layer) is saved as it
    // is; a leaf or a view may be updated in place before backward (an optimizer step), so the
    // graph keeps a copy of it, as the composed version kept its log-probabilities.
    const fresh = logits.gradFn !== null && !logits.live(op, 'logits').shared;
    const saved = fresh ? logits : unaryRaw('copy', logits);
    return record(op, out, [logits], [saved, targets, lse], (g, [x, t, l]) => {
      const dx = empty(be, [N, C], op);
      be.xentBackward(x!.handle(op, 'logits'), t!.handle(op, 'labels'), l!.handle(op, 'lse'), g.handle(op, 'grad'), dx.handle(op, 'dx'),
        N, C, reduction === 'none' ? 1 : 0, reduction === 'mean' ? 1 / N : 1);
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
 * ids (length N) or target probabilities (a Tensor [N, C]). Mean over rows by
 * default. A logit of −inf (a masked class) is fine where its class has
 * probability 0: that class adds 0 to the loss and gets gradient 0 (PyTorch
 * does the same for class ids; for probability targets PyTorch 1.13 returns a
 * NaN loss there, with the same finite gradient).
 */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number> | Tensor, opts?: LossOptions): Tensor {
  arg('crossEntropy', 'logits', logits);
  const reduction = options('crossEntropy', opts, SPEC, ALIASES).reduction ?? 'mean';
  if (logits.rank !== 2) fail('crossEntropy', `argument 'logits' must be 2-D [batch, classes], got ${fmtShape(logits.shape)}`);
  if (!(labels instanceof Tensor)) {
    if (labels === null || typeof labels !== 'object' || typeof (labels as ArrayLike<number>).length !== 'number') {
      fail('crossEntropy', `argument 'labels' must be an array of class ids or a Tensor, got ${labels === null ? 'null' : typeof labels}`);
    }
    return fusedClassIds(logits, classIds(logits, labels), reduction);
  }
  deviceOf('crossEntropy', { logits, labels });
  if (labels.rank !== 2 || labels.shape[0] !== logits.shape[0] || labels.shape[1] !== logits.shape[1]) {
    fail('crossEntropy', `a Tensor 'labels' holds probabilities and needs the logits' shape ${fmtShape(logits.shape)}, got ${fmtShape(labels.shape)}; pass class ids as an array`);
  }
  // Temporaries (log-probabilities, products…) die with the scope; the graph keeps what backward reads.
  return scope(() => {
    const perRow = sum(weighted(labels, logSoftmax(logits)), 1);
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
