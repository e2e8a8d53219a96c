// Optimizer base: a checked parameter list, hyperparameters checked when set
// and again at every step, gradient checks before any update (an invalid step
// changes nothing), and state tensors that outlive scopes.
import { isLeaf } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { keep } from '../memory.js';
import { planLoad, type LoadPlan, type StateValue } from '../nn/state-dict.js';
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

  // State dict (checkpoints), as PyTorch's optimizer.state_dict() / load_state_dict().

  // Hooks a subclass overrides so that stateDict() carries its state (the defaults: a stateless optimizer).
  /** The names of a parameter's state: tensors shaped like it, and integer counters. */
  protected stateNames(): { tensors: readonly string[]; counts: readonly string[] } {
    return { tensors: [], counts: [] };
  }
  /** Parameter `p`'s state, or undefined before its first step. */
  protected paramState(_p: Tensor): Record<string, Tensor | number> | undefined {
    return undefined;
  }
  /** Replaces `p`'s state (undefined: none), freeing tensors it no longer holds. */
  protected setParamState(_p: Tensor, _s: Record<string, Tensor | number> | undefined): void {}
  /** The hyperparameters, as in stateDict().paramGroups[0]. */
  protected hyperValues(): Record<string, number | boolean | number[]> {
    return {};
  }
  /** Checks loaded hyperparameters; returns the assignment to make. */
  protected checkHyperparameters(op: string, h: Record<string, unknown>): () => void {
    for (const k of Object.keys(h)) fail(op, `paramGroups[0] has unknown hyperparameter '${k}'`);
    return () => {};
  }

  /**
   * The optimizer's state (PyTorch's `state_dict()`): `state[i]` is the
   * state of `params[i]` (e.g. Adam's `{ step, expAvg, expAvgSq }`; tensors
   * are views sharing the optimizer's storage, yours to dispose), absent
   * before its first step; `paramGroups` holds the hyperparameters and the
   * indices of the parameters they apply to.
   */
  stateDict(): OptimizerStateDict {
    const state: Record<number, Record<string, Tensor | number>> = {};
    this.params.forEach((p, i) => {
      const s = this.paramState(p);
      if (s) state[i] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v instanceof Tensor ? v.detach() : v]));
    });
    return { state, paramGroups: [{ ...this.hyperValues(), params: this.params.map((_, i) => i) }] };
  }

  /**
   * Restores a state from stateDict() (PyTorch's `load_state_dict`):
   * hyperparameters and per-parameter state, matched to `params` by
   * position. Tensor values may be Tensors (any device) or host arrays.
   * Everything is checked first; a mismatch throws a LeptonError and the
   * optimizer is unchanged. Training then continues exactly as it would
   * have from where the state was taken.
   */
  loadStateDict(sd: OptimizerStateDictInput): void {
    this.planLoadStateDict(sd).write();
  }

  /** @internal loadStateDict's checks; `write()` applies them. */
  planLoadStateDict(sd: OptimizerStateDictInput, op = `${this.name}.loadStateDict`): LoadPlan {
    const obj = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v);
    if (!obj(sd) || !obj(sd.state) || !Array.isArray(sd.paramGroups)) fail(op, "argument 'stateDict' must be { state, paramGroups } (from optimizer.stateDict())");
    if (sd.paramGroups.length !== 1) fail(op, `the state dict has ${sd.paramGroups.length} parameter groups; this optimizer has 1`);
    const { params: ids, ...hyper } = sd.paramGroups[0] ?? {};
    if (!Array.isArray(ids) || ids.length !== this.params.length || ids.some((id) => !Number.isSafeInteger(id)) || new Set(ids).size !== ids.length) {
      fail(op, `paramGroups[0].params must list ${this.params.length} distinct integer ids (one per parameter), got ${Array.isArray(ids) ? `${ids.length} entries` : typeof ids}`);
    }
    const applyHyper = this.checkHyperparameters(op, hyper);
    const index = new Map(ids.map((id, i) => [id, i]));
    const { tensors: tNames, counts: cNames } = this.stateNames();
    const fresh: Tensor[] = [], target = new Map<string, Tensor>(), values = new Map<string, StateValue>();
    const loaded = new Map<Tensor, Record<string, Tensor | number>>();
    try {
      for (const [id, entry] of Object.entries(sd.state)) {
        const i = index.get(Number(id));
        if (i === undefined) fail(op, `state has an entry for parameter id ${id}, which paramGroups[0].params does not list`);
        if (!obj(entry)) fail(op, `state[${id}] must be an object of ${[...tNames, ...cNames].join(', ')}`);
        const p = this.params[i], old = this.paramState(p), s: Record<string, Tensor | number> = {};
        const extra = Object.keys(entry).filter((k) => !tNames.includes(k) && !cNames.includes(k));
        if (extra.length) fail(op, `state[${id}] has unknown key(s) ${extra.join(', ')}; ${this.name} keeps ${[...tNames, ...cNames].join(', ')}`);
        for (const c of cNames) {
          const v = entry[c];
          if (!Number.isSafeInteger(v) || (v as number) < 0) fail(op, `state[${id}].${c} must be a non-negative integer, got ${String(v)}`);
          s[c] = v as number;
        }
        for (const t of tNames) {
          if (!(t in entry)) fail(op, `state[${id}] lacks '${t}'`);
          let dst = old?.[t];
          if (!(dst instanceof Tensor)) { dst = this.zerosLike(p); fresh.push(dst); }
          target.set(`state.${id}.${t}`, dst);
          values.set(`state.${id}.${t}`, entry[t] as StateValue);
          s[t] = dst;
        }
        loaded.set(p, s);
      }
      const plan = planLoad(target, values, {}, op);
      return {
        result: plan.result,
        write: () => {
          plan.write();
          applyHyper();
          for (const p of this.params) this.setParamState(p, loaded.get(p));
        },
      };
    } catch (e) {
      for (const t of fresh) t.dispose();
      throw e;
    }
  }
}

/** An optimizer's state: per parameter index its state, and the hyperparameter groups (PyTorch's layout). */
export interface OptimizerStateDict {
  state: Record<number, Record<string, Tensor | number>>;
  paramGroups: ({ params: number[] } & Record<string, unknown>)[];
}

/** What loadStateDict accepts: stateDict()'s form, with host arrays allowed for tensors. */
export interface OptimizerStateDictInput {
  state: Record<number | string, Record<string, StateValue | number>>;
  paramGroups: ({ params: number[] } & Record<string, unknown>)[];
}

/** A loaded hyperparameter `v` in [lo, hi) (or the open/closed ends given); returns it. */
export function checkHyper(op: string, name: string, v: unknown, lo: number, hi: number, loOpen = false, hiOpen = true): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok) fail(op, `option '${name}' must be a number in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${describe(v)}`);
  return v as number;
}

/** Checks an optimizer's options object; `name` prefixes the errors. */
export const optimizerOptions = <T extends object>(name: string, opts: T | undefined, spec: OptionSpec<T>): T =>
  options(name, opts, spec, ALIASES);
