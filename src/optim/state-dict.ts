// An optimizer's state dict, as PyTorch's optimizer.state_dict(): per
// parameter id its state, and per group its hyperparameters and parameter ids.
// Loading checks everything (group count and sizes, ids, hyperparameters,
// every tensor's shape) before writing anything.
import { fail } from '../errors.js';
import { planLoad, type LoadPlan, type StateValue } from '../nn/state-dict.js';
import { Tensor } from '../tensor.js';

/** An optimizer's state: per parameter id its state, and the hyperparameter groups (PyTorch's layout). */
export interface OptimizerStateDict {
  state: Record<number, Record<string, Tensor | number>>;
  paramGroups: ({ params: number[] } & Record<string, unknown>)[];
}

/** What loadStateDict accepts: stateDict()'s form, with host arrays allowed for tensors. */
export interface OptimizerStateDictInput {
  state: Record<number | string, Record<string, StateValue | number>>;
  paramGroups: ({ params: number[] } & Record<string, unknown>)[];
}

/** @internal What the loader needs from the optimizer. */
export interface OptimizerParts {
  name: string;
  groups: readonly ({ params: Tensor[] } & Record<string, unknown>)[];
  hyperNames: readonly string[];
  /** Throws unless `h` (a whole group's hyperparameters) is valid; `where` prefixes the message. */
  check(where: string, h: Record<string, unknown>): void;
  names: { tensors: readonly string[]; counts: readonly string[] };
  state(p: Tensor): Record<string, Tensor | number> | undefined;
  setState(p: Tensor, s: Record<string, Tensor | number> | undefined): void;
  zerosLike(p: Tensor): Tensor;
}

const obj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** @internal Checks `sd` against the optimizer; `write()` applies it. */
export function planOptimizerLoad(op: string, sd: OptimizerStateDictInput, o: OptimizerParts): LoadPlan {
  if (!obj(sd) || !obj(sd.state) || !Array.isArray(sd.paramGroups)) fail(op, "argument 'stateDict' must be { state, paramGroups } (from optimizer.stateDict())");
  if (sd.paramGroups.length !== o.groups.length) {
    fail(op, `the state dict has ${sd.paramGroups.length} parameter group${sd.paramGroups.length === 1 ? '' : 's'}; this optimizer has ${o.groups.length}`);
  }
  // Ids to parameters, by position within each group (as PyTorch), and each group's new hyperparameters.
  const index = new Map<number, Tensor>(), hypers: Record<string, unknown>[] = [];
  sd.paramGroups.forEach((given, g) => {
    if (!obj(given)) fail(op, `paramGroups[${g}] must be an object { params, lr, … }`);
    const { params: ids, ...h } = given as Record<string, unknown>;
    const mine = o.groups[g].params;
    if (!Array.isArray(ids) || ids.length !== mine.length || ids.some((id) => !Number.isSafeInteger(id)) || new Set(ids).size !== ids.length) {
      fail(op, `paramGroups[${g}].params must list ${mine.length} distinct integer ids (one per parameter${o.groups.length > 1 ? ` of group ${g}` : ''}), got ${Array.isArray(ids) ? `${ids.length} entries` : typeof ids}`);
    }
    for (const k of Object.keys(h)) {
      if (!o.hyperNames.includes(k)) fail(op, `paramGroups[${g}] has unknown hyperparameter '${k}'; ${o.name} has ${o.hyperNames.join(', ')}`);
    }
    const merged: Record<string, unknown> = {};
    for (const k of o.hyperNames) merged[k] = k in h ? h[k] : o.groups[g][k];
    o.check(`paramGroups[${g}]: `, merged);
    hypers.push(merged);
    (ids as number[]).forEach((id, j) => {
      if (index.has(id)) fail(op, `parameter id ${id} is listed by two groups (paramGroups[${g}] and an earlier one)`);
      index.set(id, mine[j]);
    });
  });
  const { tensors: tNames, counts: cNames } = o.names, keys = [...tNames, ...cNames].join(', ');
  const fresh: Tensor[] = [], target = new Map<string, Tensor>(), values = new Map<string, StateValue>();
  const loaded = new Map<Tensor, Record<string, Tensor | number>>();
  try {
    for (const [id, entry] of Object.entries(sd.state)) {
      const p = index.get(Number(id));
      if (p === undefined) fail(op, `state has an entry for parameter id ${id}, which no group's params lists`);
      if (!obj(entry)) fail(op, `state[${id}] must be an object of ${keys}`);
      const old = o.state(p), s: Record<string, Tensor | number> = {};
      const extra = Object.keys(entry).filter((k) => !tNames.includes(k) && !cNames.includes(k));
      if (extra.length) fail(op, `state[${id}] has unknown key(s) ${extra.join(', ')}; ${o.name} keeps ${keys}`);
      for (const c of cNames) {
        const v = entry[c];
        if (!Number.isSafeInteger(v) || (v as number) < 0) fail(op, `state[${id}].${c} must be a non-negative integer, got ${String(v)}`);
        s[c] = v as number;
      }
      for (const t of tNames) {
        if (!(t in entry)) fail(op, `state[${id}] lacks '${t}'`);
        let dst = old?.[t];
        if (!(dst instanceof Tensor)) { dst = o.zerosLike(p); fresh.push(dst); }
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
        o.groups.forEach((g, i) => { for (const [k, v] of Object.entries(hypers[i])) (g as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v; });
        for (const g of o.groups) for (const p of g.params) o.setState(p, loaded.get(p));
      },
    };
  } catch (e) {
    for (const t of fresh) t.dispose();
    throw e;
  }
}
