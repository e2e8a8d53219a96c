// Categorical over the last axis of logits (torch.distributions.Categorical):
// sampling by the Gumbel-max trick on the device (argmax of logits plus
// Gumbel noise drawn on the host), so a policy samples without reading its
// logits back; logProb and entropy carry gradients to the logits.
import { noGrad } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { argmax } from '../ops/argmax.js';
import { add, log, maximum, mul, neg } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { logSoftmax, softmax } from '../ops/softmax.js';
import { arg } from '../ops/util.js';
import { integers, type IntegerData } from '../integers.js';
import { options, accepts } from '../options.js';
import { Tensor } from '../tensor.js';
import { broadcastShapes, hostNoise, pick, sampleOptions, type SampleOptions } from './common.js';

/** float32's most negative finite value: torch clamps log-probabilities to it so that 0 · log 0 is 0, not NaN. */
const MIN_LOG = -3.4028234663852886e38;

export interface CategoricalParams {
  /** Unnormalised log-probabilities `[...batchShape, k]`. */
  logits?: Tensor;
  /** Non-negative weights `[...batchShape, k]` (normalised along the last axis). */
  probs?: Tensor;
}

const tensorArg = accepts<Tensor>('a Tensor', (v) => v instanceof Tensor);
const PARAMS = { logits: tensorArg, probs: tensorArg };

export class Categorical {
  /** Normalised log-probabilities (logits minus their log-sum-exp), as torch's `.logits`. */
  readonly logits: Tensor;
  /** Shape of the distribution's batch: the logits' shape without the last axis. */
  readonly batchShape: number[];
  /** Number of categories k. */
  readonly numCategories: number;
  private probsCache: Tensor | null = null;

  /** `new Categorical({ logits })` or `new Categorical({ probs })`, exactly one of them. */
  constructor(params: CategoricalParams) {
    const o = options('Categorical', params, PARAMS);
    if ((o.logits === undefined) === (o.probs === undefined)) fail('Categorical', `give exactly one of 'logits' or 'probs'`);
    const name = o.logits ? 'logits' : 'probs';
    const t = arg('Categorical', name, o.logits ?? o.probs);
    if (t.rank < 1 || t.shape[t.rank - 1] < 1) fail('Categorical', `argument '${name}' must have at least one axis of categories (size >= 1), got shape ${fmtShape(t.shape)}`);
    if (t.shape[t.rank - 1] > 2 ** 24) fail('Categorical', `${t.shape[t.rank - 1]} categories are more than float32 ids count exactly (2^24)`);
    this.numCategories = t.shape[t.rank - 1];
    this.batchShape = t.shape.slice(0, -1);
    // probs → log(p / Σp) = log p − log Σp, clamped so that zero-probability categories stay finite.
    this.logits = o.logits ? logSoftmax(t) : maximum(log(t), MIN_LOG).sub(log(sum(t, -1, true)));
  }

  /** Probabilities, softmax of the logits (computed once). */
  get probs(): Tensor {
    return (this.probsCache ??= softmax(this.logits));
  }

  /**
   * Category ids (float32 values) of shape `[...sampleShape, ...batchShape]`,
   * drawn from the seeded stream; no gradient.
   */
  sample(opts?: SampleOptions): Tensor {
    const { sampleShape, gen } = sampleOptions('Categorical.sample', opts);
    const shape = [...sampleShape, ...this.batchShape, this.numCategories];
    // Gumbel(0, 1) = −log(−log u), u uniform in (0, 1): argmax(logits + g) is a draw from softmax(logits).
    const gumbel = () => {
      let u = 0;
      while (u === 0) u = gen.next();
      return -Math.log(-Math.log(u));
    };
    return noGrad(() => argmax(add(this.logits, hostNoise(this.logits, shape, gumbel)), -1));
  }

  /**
   * Log-probability of category ids `value` (integer data: a Tensor of ids, an
   * array or a typed array of integers in [0, k); see "Integer data" in the
   * README), broadcast against the batch shape.
   */
  logProb(value: IntegerData): Tensor {
    const op = 'Categorical.logProb';
    const ids = integers(op, 'value', value, 0, this.numCategories, 'category id');
    broadcastShapes(op, ids.shape, this.batchShape, `value ${fmtShape(ids.shape)} against the batch shape`);
    return pick(op, this.logits, ids, this.numCategories);
  }

  /** Entropy −Σ p log p over the categories, shape `batchShape`. */
  entropy(): Tensor {
    return neg(sum(mul(this.probs, maximum(this.logits, MIN_LOG)), -1));
  }

  /** The most likely category of each batch element (torch's `.mode`). */
  get mode(): Tensor {
    return argmax(this.logits, -1);
  }
}
