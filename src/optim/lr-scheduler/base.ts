// The learning-rate scheduler base, as PyTorch's torch.optim.lr_scheduler.LRScheduler:
// made on an optimizer, it sets every group's lr for step 0 at once; each
// step() moves to the next step's lr. Schedules are closed forms of (step,
// the group's initial lr), so a scheduler restored from its state dict gives
// exactly the lrs an uninterrupted one would.
import { fail } from '../../errors.js';
import { describe, options, type OptionSpec } from '../../options.js';
import { Optimizer } from '../optimizer.js';

// Each group's lr when the first scheduler was made on it (PyTorch's group['initial_lr']):
// a second scheduler on the same optimizer (SequentialLR's parts) starts from it, not from
// the lr the first one has set since.
const initialLrs = new WeakMap<object, number>();

/** A scheduler's progress, as PyTorch's `scheduler.state_dict()` (JSON-safe: store it anywhere). */
export interface LRSchedulerStateDict {
  /** The scheduler's class, checked on load. */
  type: string;
  /** Steps taken since it was made (0 right after). */
  lastEpoch: number;
  /** Each group's initial learning rate. */
  baseLrs: number[];
  /** Each group's learning rate after the last step. */
  lastLr: number[];
  /** SequentialLR: its schedulers' states. */
  schedulers?: LRSchedulerStateDict[];
}

export abstract class LRScheduler {
  /** Steps taken: 0 after construction, +1 per step() (PyTorch's `last_epoch`). */
  lastEpoch = -1;
  /** Each group's initial learning rate (PyTorch's `base_lrs`). */
  baseLrs: number[];
  private lastLr: number[] = [];

  constructor(readonly optimizer: Optimizer, readonly name: string) {
    if (!(optimizer instanceof Optimizer)) fail(name, `argument 'optimizer' must be an optimizer (optim.SGD, optim.Adam …), got ${describe(optimizer)}`);
    this.baseLrs = optimizer.paramGroups.map((g) => {
      if (!initialLrs.has(g)) initialLrs.set(g, g.lr);
      return initialLrs.get(g)!;
    });
  }

  /** Checks an options object; `required` names the options that have no default. */
  protected static opts<T extends object>(name: string, given: T | undefined, spec: OptionSpec<T>, required: (keyof T & string)[] = []): T {
    const o = options(name, given, spec);
    for (const k of required) if (o[k] === undefined) fail(name, `option '${k}' is required`);
    return o;
  }

  /** Group i's learning rate at step t (a closed form). */
  protected abstract lrAt(t: number, i: number): number;

  /** @internal The hyperparameters of step t, checked: each group's lr, and momentum where the schedule sets it. */
  valuesAt(t: number): ScheduledValues {
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.baseLrs.length) {
      fail(`${this.name}.step`, `the optimizer has ${groups.length} parameter groups, the scheduler was made for ${this.baseLrs.length}; make a new scheduler after addParamGroup`);
    }
    const lrs = groups.map((_, i) => this.lrAt(t, i));
    lrs.forEach((lr, i) => {
      if (!(lr >= 0) || !Number.isFinite(lr)) fail(`${this.name}.step`, `the schedule gives group ${i} the learning rate ${lr} at step ${t}; needs a finite number >= 0`);
    });
    return { lrs };
  }

  /** Writes scheduled values into the optimizer's groups (momentum: SGD's momentum, or Adam's betas[0]). */
  private apply(v: ScheduledValues): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = v.lrs[i];
      if (v.momenta) {
        if ('momentum' in g) g.momentum = v.momenta[i];
        else if (Array.isArray(g.betas)) g.betas = [v.momenta[i], g.betas[1]];
      }
    });
  }

  /** Moves to the next step: call once after each optimizer.step() (per batch or per epoch, as the schedule is counted). */
  step(): void {
    const t = this.lastEpoch + 1, v = this.valuesAt(t);
    this.apply(v);
    this.lastLr = v.lrs;
    this.lastEpoch = t;
  }

  /** Each group's learning rate as last set by this scheduler (PyTorch's `get_last_lr()`). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The scheduler's progress (the schedule itself is what the constructor was given). */
  stateDict(): LRSchedulerStateDict {
    return { type: this.name, lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr] };
  }

  /**
   * Restores the progress from stateDict() into a scheduler made as the saved
   * one was, and sets the optimizer's learning rates to the restored step's.
   * Checked first: a bad state throws a LeptonError and changes nothing.
   */
  loadStateDict(sd: LRSchedulerStateDict): void {
    this.planLoad(sd, `${this.name}.loadStateDict`)();
  }

  /** @internal Checks `sd`; returns the assignment. */
  planLoad(sd: LRSchedulerStateDict, op: string): () => void {
    if (!sd || typeof sd !== 'object') fail(op, `argument 'stateDict' must be an object from scheduler.stateDict(), got ${describe(sd)}`);
    if (sd.type !== this.name) fail(op, `the state is of a ${describe(sd.type)} scheduler; this one is ${this.name}`);
    if (!Number.isSafeInteger(sd.lastEpoch) || sd.lastEpoch < 0) fail(op, `'lastEpoch' must be a non-negative integer, got ${describe(sd.lastEpoch)}`);
    const n = this.optimizer.paramGroups.length;
    for (const key of ['baseLrs', 'lastLr'] as const) {
      const v = sd[key];
      if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x < 0)) {
        fail(op, `'${key}' must hold ${n} finite numbers >= 0 (one per parameter group), got ${describe(v)}`);
      }
    }
    // The restored step's values, computed (and checked) before anything changes.
    const saved = { baseLrs: this.baseLrs, lastEpoch: this.lastEpoch };
    let v: ScheduledValues;
    try {
      this.baseLrs = [...sd.baseLrs];
      this.lastEpoch = sd.lastEpoch;
      v = this.valuesAt(sd.lastEpoch);
    } finally {
      Object.assign(this, saved);
    }
    const next = { baseLrs: [...sd.baseLrs], lastEpoch: sd.lastEpoch, lastLr: [...sd.lastLr] };
    return () => {
      Object.assign(this, next);
      this.apply(v);
    };
  }
}

/** What a schedule sets at one step. */
export interface ScheduledValues { lrs: number[]; momenta?: number[] }
