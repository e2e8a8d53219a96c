// Optimizer base: parameter list, gradient checks before any update (an
// invalid step changes nothing), and state tensors that outlive scopes.
import { fail, fmtShape } from '../errors.js';
import { keep } from '../memory.js';
import { planLoad, type LoadPlan, type StateValue } from '../nn/state-dict.js';
import { full } from '../ops/elementwise.js';
import { clearGrads, Tensor } from '../tensor.js';

export abstract class Optimizer {
  readonly params: Tensor[];

  constructor(params: Iterable<Tensor>, readonly name: string) {
    if (params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      fail(name, `argument 'params' must be an array of tensors (e.g. model.parameters()), got ${params === null ? 'null' : typeof params}`);
    }
    this.params = [...params];
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) fail(name, `params[${i}] is not a Tensor`);
      if (!p.requiresGrad) fail(name, `params[${i}] ${fmtShape(p.shape)} does not require a gradient; create it with { requiresGrad: true }`);
    });
  }

  /** Frees every gradient (the next backward() starts from zero). */
  zeroGrad(): void {
    clearGrads(this.params);
  }

  /** Parameters that have a gradient, after checking all of them first. */
  protected ready(): Tensor[] {
    const list: Tensor[] = [];
    this.params.forEach((p, i) => {
      p.live(`${this.name}.step`, `params[${i}]`);
      if (!p.grad) return;
      p.grad.live(`${this.name}.step`, `params[${i}].grad`);
      if (p.grad.size !== p.size) fail(`${this.name}.step`, `params[${i}].grad has shape ${fmtShape(p.grad.shape)}; needs ${fmtShape(p.shape)}`);
      if (p.grad.device !== p.device) fail(`${this.name}.step`, `params[${i}] is on ${p.device} but its grad on ${p.grad.device}`);
      list.push(p);
    });
    return list;
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
  protected hyperparameters(): Record<string, number | boolean | number[]> {
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
    return { state, paramGroups: [{ ...this.hyperparameters(), params: this.params.map((_, i) => i) }] };
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

export function checkHyper(op: string, name: string, v: unknown, lo: number, hi: number, loOpen = false, hiOpen = true): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok) fail(op, `option '${name}' must be a number in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${String(v)}`);
  return v as number;
}
