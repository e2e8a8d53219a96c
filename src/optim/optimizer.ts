// Optimizer base: parameter groups (PyTorch's param_groups: each its own
// hyperparameters), checked when made and again at every step, gradient checks
// before any update (an invalid step changes nothing), and state tensors that
// outlive scopes. The state dict (checkpoints) is in state-dict.ts.
import { isLeaf } from '../autograd.js';
import { fail, fmtShape } from '../errors.js';
import { keep } from '../memory.js';
import type { LoadPlan } from '../nn/state-dict.js';
import { full } from '../ops/elementwise.js';
import { describe, number, options, type Accepts, type OptionSpec } from '../options.js';
import { sameShape } from '../shape.js';
import { clearGrads, Tensor } from '../tensor.js';
import { planOptimizerLoad, type OptimizerStateDict, type OptimizerStateDictInput } from './state-dict.js';

export type { OptimizerStateDict, OptimizerStateDictInput } from './state-dict.js';

/** The learning rate: finite and >= 0 (PyTorch accepts 0, which a schedule may reach). */
export const LR = number(0, Infinity, '[)');

/** Spellings from other libraries for the options of every optimizer. */
export const ALIASES = { learningRate: 'lr', learning_rate: 'lr', decay: 'weightDecay', weight_decay: 'weightDecay', beta: 'betas' };

/** An optimizer's hyperparameters (lr, momentum, betas …). */
export type Hyperparameters = { lr: number } & Record<string, unknown>;

/** One parameter group: its parameters and their hyperparameters (PyTorch's `optimizer.param_groups[i]`). */
export type ParamGroup<H extends Hyperparameters = Hyperparameters> = H & { params: Tensor[] };

/** A group as given to an optimizer: its parameters, and the hyperparameters that differ from the optimizer's options. */
export type ParamGroupInput<H extends Hyperparameters = Hyperparameters> = { params: Iterable<Tensor> | Tensor } & Partial<H>;

/** What an optimizer optimizes: tensors (one group), or parameter groups `[{ params, lr, … }, …]`. */
export type ParamsInput<H extends Hyperparameters = Hyperparameters> = Iterable<Tensor> | Iterable<ParamGroupInput<H>>;

const isGroup = (v: unknown): boolean => v !== null && typeof v === 'object' && !(v instanceof Tensor) && 'params' in v;

export abstract class Optimizer<H extends Hyperparameters = Hyperparameters> {
  /** Every parameter, group after group (the ids of the state dict). */
  readonly params: Tensor[] = [];
  /**
   * The parameter groups. Their hyperparameters may be changed between steps
   * (`opt.paramGroups[1].lr = 0.01`, as learning-rate schedules do); every
   * value is checked again at the next step.
   */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** The options given to the constructor, with the defaults: the hyperparameters of a group that does not set its own. */
  readonly defaults: Readonly<H>;
  /** Each parameter's name in errors: params[i], or paramGroups[g].params[j]. */
  private readonly labels = new Map<Tensor, string>();
  private grouped = false;

  constructor(params: ParamsInput<H>, readonly name: string, opts: Partial<H> | undefined, private readonly spec: OptionSpec<H>, defaults: H) {
    if (params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      fail(name, `argument 'params' must be an array of tensors (e.g. model.parameters()) or of parameter groups ({ params, lr, … }), got ${describe(params)}`);
    }
    const list = [...params] as unknown[];
    if (list.length === 0) fail(name, "argument 'params' is empty; an optimizer needs at least one parameter (e.g. model.parameters())");
    const given = options(name, opts, spec, ALIASES) as Record<string, unknown>;
    const d: Record<string, unknown> = { ...defaults };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) d[k] = v;
    this.checkGroup(name, '', d as H);
    this.defaults = d as H;
    this.grouped = list.some(isGroup);
    if (!this.grouped) {
      this.addGroup({ params: list } as unknown as ParamGroupInput<H>, (j) => `params[${j}]`);
      return;
    }
    list.forEach((g, i) => {
      if (!isGroup(g)) fail(name, `argument 'params' mixes parameter groups and other values: params[${i}] is ${describe(g)}; pass either tensors or groups { params, lr, … }`);
    });
    list.forEach((g) => this.addParamGroup(g as ParamGroupInput<H>));
  }

  /**
   * Adds a parameter group (PyTorch's `add_param_group`), e.g. layers
   * unfrozen during fine-tuning: `{ params, lr?, … }`, the hyperparameters it
   * does not set taken from the optimizer's options. Checked whole first.
   */
  addParamGroup(group: ParamGroupInput<H>): void {
    const g = this.paramGroups.length;
    this.addGroup(group, (j) => `paramGroups[${g}].params[${j}]`);
    this.grouped = true;
  }

  private addGroup(group: ParamGroupInput<H>, label: (j: number) => string): void {
    const g = this.paramGroups.length, where = `paramGroups[${g}]`;
    if (!isGroup(group)) fail(this.name, `${where} must be an object { params, lr?, … }, got ${describe(group)}`);
    const { params: ps, ...rest } = group as { params: unknown } & Record<string, unknown>;
    const list = ps instanceof Tensor ? [ps] : ps !== null && typeof ps === 'object' && Symbol.iterator in ps ? [...ps as Iterable<unknown>] : null;
    if (!list) fail(this.name, `${where}.params must be a tensor or an array of tensors, got ${describe(ps)}`);
    if (list.length === 0) fail(this.name, `${where}.params is empty; a group needs at least one parameter`);
    const seen = new Map<Tensor, string>();
    list.forEach((p, j) => {
      const name = label(j);
      if (!(p instanceof Tensor)) fail(this.name, `${name} is not a Tensor (got ${describe(p)})`);
      p.live(this.name, name);
      if (!p.requiresGrad) fail(this.name, `${name} ${fmtShape(p.shape)} does not require a gradient; create it with { requiresGrad: true }`);
      if (!isLeaf(p)) fail(this.name, `${name} ${fmtShape(p.shape)} is not a leaf: an op made it, and backward() gives gradients to leaves only; optimize the tensor created with { requiresGrad: true }`);
      const first = seen.get(p) ?? this.labels.get(p);
      if (first !== undefined) fail(this.name, `${name} is the same tensor as ${first}; a parameter may appear only once (each step would update it twice)`);
      seen.set(p, name);
    });
    const own = options(`${this.name} ${where}`, rest as Partial<H>, this.spec, ALIASES) as Record<string, unknown>;
    const h: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.defaults)) h[k] = Array.isArray(v) ? [...v] : v;
    for (const [k, v] of Object.entries(own)) if (v !== undefined) h[k] = Array.isArray(v) ? [...v] : v;
    this.checkGroup(this.name, `${where}: `, h as H);
    for (const [p, name] of seen) this.labels.set(p, name);
    this.params.push(...seen.keys());
    this.paramGroups.push({ ...h, params: [...seen.keys()] } as ParamGroup<H>);
  }

  /** The first group's learning rate; setting it sets every group's (a value that is not a finite number >= 0 is refused here). */
  get lr(): number {
    return this.paramGroups[0].lr;
  }
  set lr(v: number) {
    this.setAll('lr', v);
  }

  /** @internal Sets hyperparameter `key` of every group (checked at the next step; lr checked here). */
  protected setAll(key: keyof H & string, v: unknown): void {
    if (key === 'lr' && !LR.test(v)) fail(this.name, `option 'lr' must be ${LR.what}, got ${describe(v)}`);
    for (const g of this.paramGroups) (g as Record<string, unknown>)[key] = v;
  }

  /** Checks that tie several hyperparameters together (e.g. nesterov needs momentum); `where` prefixes the message. */
  protected checkGroup(_op: string, _where: string, _h: H): void {}

  /** @internal Checks one group's values against the spec; `where` names the group. */
  checkHyperparameters(op: string, where: string, h: Record<string, unknown>): void {
    for (const [key, accepts] of Object.entries(this.spec) as [string, Accepts<unknown>][]) {
      if (!accepts.test(h[key])) fail(op, `${where}option '${key}' must be ${accepts.what}, got ${describe(h[key])}`);
    }
    this.checkGroup(op, where, h as H);
  }

  /** The group prefix of messages: empty for an optimizer made from one list of tensors. */
  private where(g: number): string {
    return this.grouped || this.paramGroups.length > 1 ? `paramGroups[${g}]: ` : '';
  }

  /** Frees every gradient (the next backward() starts from zero). */
  zeroGrad(): void {
    clearGrads(this.params);
  }

  /**
   * The parameters that have a gradient, each with its group, after checking
   * every group's hyperparameters (a field may have been assigned since) and
   * every parameter first.
   */
  protected ready(): [Tensor, ParamGroup<H>][] {
    const op = `${this.name}.step`;
    this.paramGroups.forEach((g, i) => this.checkHyperparameters(op, this.where(i), g));
    const list: [Tensor, ParamGroup<H>][] = [];
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const name = this.labels.get(p)!;
        p.live(op, name);
        const g: unknown = p.grad;
        if (g === null || g === undefined) continue;
        if (!(g instanceof Tensor)) fail(op, `${name}.grad must be a Tensor or null, got ${describe(g)}`);
        g.live(op, `${name}.grad`);
        if (!sameShape(g.shape, p.shape)) fail(op, `${name}.grad has shape ${fmtShape(g.shape)}; needs ${fmtShape(p.shape)}`);
        if (g.device !== p.device) fail(op, `${name} is on ${p.device} but its grad on ${g.device}`);
        list.push([p, group]);
      }
    }
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

  /**
   * The optimizer's state (PyTorch's `state_dict()`): `state[i]` is the
   * state of `params[i]` (e.g. Adam's `{ step, expAvg, expAvgSq }`; tensors
   * are views sharing the optimizer's storage, yours to dispose), absent
   * before its first step; `paramGroups` holds each group's hyperparameters
   * and the ids of its parameters (numbered group after group).
   */
  stateDict(): OptimizerStateDict {
    const state: Record<number, Record<string, Tensor | number>> = {};
    this.params.forEach((p, i) => {
      const s = this.paramState(p);
      if (s) state[i] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v instanceof Tensor ? v.detach() : v]));
    });
    let id = 0;
    const paramGroups = this.paramGroups.map(({ params, ...h }) => ({
      ...Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])),
      params: params.map(() => id++),
    }));
    return { state, paramGroups };
  }

  /**
   * Restores a state from stateDict() (PyTorch's `load_state_dict`): each
   * group's hyperparameters, and per-parameter state matched by position
   * (the i-th id of a group's `params` is the group's i-th parameter).
   * Tensor values may be Tensors (any device) or host arrays. Everything is
   * checked first; a mismatch throws a LeptonError and the optimizer is
   * unchanged. Training then continues exactly as it would have from where
   * the state was taken.
   */
  loadStateDict(sd: OptimizerStateDictInput): void {
    this.planLoadStateDict(sd).write();
  }

  /** @internal loadStateDict's checks; `write()` applies them. */
  planLoadStateDict(sd: OptimizerStateDictInput, op = `${this.name}.loadStateDict`): LoadPlan {
    return planOptimizerLoad(op, sd, {
      name: this.name,
      groups: this.paramGroups,
      hyperNames: Object.keys(this.spec),
      check: (where, h) => this.checkHyperparameters(op, where, h),
      names: this.stateNames(),
      state: (p) => this.paramState(p),
      setState: (p, s) => this.setParamState(p, s),
      zerosLike: (p) => this.zerosLike(p),
    });
  }
}
