// Optimizer base: a checked parameter list, hyperparameters checked when set
// and again at every step, gradient checks before any update (an invalid step
// changes nothing), and state tensors that outlive scopes.
import { isLeaf } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { keep } from '../memory.js';
import { full } from '../ops/elementwise.js';
import { describe, number, options, type Accepts, type OptionSpec } from '../options.js';
import { sameShape } from '../shape.js';
import { clearGrads, Tensor } from '../tensor.js';

/** The learning rate: positive and finite. */
export const LR = number(0, Infinity, '()');

/** Spellings from other libraries for the options of every optimizer. */
export const ALIASES = { learningRate: 'lr', learning_rate: 'lr', decay: 'weightDecay', beta: 'betas' };

export abstract class Optimizer {
  readonly params: Tensor[];
  private lrValue = 0;

  constructor(params: Iterable<Tensor>, readonly name: string) {
    if (params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      fail(name, `argument 'params' must be an array of tensors (e.g. model.parameters()), got ${describe(params)}`);
    }
    this.params = [...params];
    if (this.params.length === 0) fail(name, "argument 'params' is empty; an optimizer needs at least one parameter (e.g. model.parameters())");
    const seen = new Map<Tensor, number>();
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) {
        const group = p !== null && typeof p === 'object' && 'params' in p;
        fail(name, `params[${i}] is not a Tensor (got ${describe(p)})${group ? '; parameter groups ({ params, lr }) are not supported: pass one list of tensors' : ''}`);
      }
      p.live(name, `params[${i}]`);
      if (!p.requiresGrad) fail(name, `params[${i}] ${fmtShape(p.shape)} does not require a gradient; create it with { requiresGrad: true }`);
      if (!isLeaf(p)) fail(name, `params[${i}] ${fmtShape(p.shape)} is not a leaf: an op made it, and backward() gives gradients to leaves only; optimize the tensor created with { requiresGrad: true }`);
      const first = seen.get(p);
      if (first !== undefined) fail(name, `params[${i}] is the same tensor as params[${first}]; a parameter may appear only once (each step would update it twice)`);
      seen.set(p, i);
    });
  }

  /** The learning rate; a value that is not a finite number > 0 is refused where it is set. */
  get lr(): number {
    return this.lrValue;
  }
  set lr(v: number) {
    if (!LR.test(v)) fail(this.name, `option 'lr' must be ${LR.what}, got ${describe(v)}`);
    this.lrValue = v;
  }

  /** Every hyperparameter with what it accepts, as the constructor checked them. */
  protected abstract hyperparameters(): [string, unknown, Accepts<unknown>][];

  /** Frees every gradient (the next backward() starts from zero). */
  zeroGrad(): void {
    clearGrads(this.params);
  }

  /**
   * Parameters that have a gradient, after checking the hyperparameters (a
   * field may have been assigned since) and every parameter first.
   */
  protected ready(): Tensor[] {
    const op = `${this.name}.step`;
    for (const [key, v, accepts] of this.hyperparameters()) if (!accepts.test(v)) fail(op, `option '${key}' must be ${accepts.what}, got ${describe(v)}`);
    const list: Tensor[] = [];
    this.params.forEach((p, i) => {
      p.live(op, `params[${i}]`);
      const g: unknown = p.grad;
      if (g === null || g === undefined) return;
      if (!(g instanceof Tensor)) fail(op, `params[${i}].grad must be a Tensor or null, got ${describe(g)}`);
      g.live(op, `params[${i}].grad`);
      if (!sameShape(g.shape, p.shape)) fail(op, `params[${i}].grad has shape ${fmtShape(g.shape)}; needs ${fmtShape(p.shape)}`);
      if (g.device !== p.device) fail(op, `params[${i}] is on ${p.device} but its grad on ${g.device}`);
      list.push(p);
    });
    return list;
  }

  /** Records that `p` was updated in place: a graph that saved its old values refuses a later backward. */
  protected updated(p: Tensor): void {
    p.live(`${this.name}.step`, 'param').version++;
  }

  /** A zero tensor shaped like `p`, exempt from scopes (optimizer state). */
  protected zerosLike(p: Tensor): Tensor {
    return keep(full(p.backend, p.shape, 0));
  }

  abstract step(): void;

  /** Frees the optimizer's state tensors. */
  abstract dispose(): void;
}

/** Checks an optimizer's options object; `name` prefixes the errors. */
export const optimizerOptions = <T extends object>(name: string, opts: T | undefined, spec: OptionSpec<T>): T =>
  options(name, opts, spec, ALIASES);
