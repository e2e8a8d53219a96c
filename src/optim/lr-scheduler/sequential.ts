// SequentialLR: hands the optimizer from one schedule to the next at given
// steps (PyTorch's), e.g. a LinearLR warm-up then a CosineAnnealingLR. Each
// part counts its own steps from the milestone where it takes over.
import { fail } from '../../errors.js';
import { accepts, describe } from '../../options.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, type LRSchedulerStateDict, type ScheduledValues } from './base.js';

/**
 * Runs `schedulers` one after another, switching at each of `milestones`
 * (PyTorch's SequentialLR); each part counts its steps from its milestone.
 * A warm-up then a cosine:
 *
 *   const warm = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 *   const cos = new CosineAnnealingLR(opt, { tMax: 95 });
 *   const sched = new SequentialLR(opt, { schedulers: [warm, cos], milestones: [5] });
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];

  constructor(optimizer: Optimizer, opts: { schedulers: LRScheduler[]; milestones: number[] }) {
    super(optimizer, 'lrScheduler.SequentialLR');
    const o = LRScheduler.opts(this.name, opts, {
      schedulers: accepts<LRScheduler[]>('a non-empty array of schedulers', (v) => Array.isArray(v) && v.length > 0 && v.every((s) => s instanceof LRScheduler)),
      milestones: accepts<number[]>('an array of increasing positive integers', (v) => Array.isArray(v) && v.every((m, i) => Number.isInteger(m) && m > 0 && (i === 0 || m > v[i - 1]))),
    }, ['schedulers', 'milestones']);
    o.schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) fail(this.name, `schedulers[${i}] (${s.name}) drives another optimizer; every part must be made on this one`);
      if (s instanceof SequentialLR) fail(this.name, `schedulers[${i}] is itself a SequentialLR; list its parts instead`);
    });
    if (o.milestones.length !== o.schedulers.length - 1) {
      fail(this.name, `option 'milestones' has ${o.milestones.length} entries; ${o.schedulers.length} schedulers need ${o.schedulers.length - 1} (${describe(o.milestones)})`);
    }
    this.schedulers = [...o.schedulers];
    this.milestones = [...o.milestones];
    this.step();
  }

  /** The part in charge at step t, and its own step count. */
  private part(t: number): [LRScheduler, number] {
    const k = this.milestones.filter((m) => m <= t).length;
    return [this.schedulers[k], t - (k > 0 ? this.milestones[k - 1] : 0)];
  }

  protected lrAt(t: number, i: number): number {
    return this.valuesAt(t).lrs[i];
  }

  /** @internal */
  override valuesAt(t: number): ScheduledValues {
    const [s, local] = this.part(t);
    return s.valuesAt(local);
  }

  override step(): void {
    super.step();
    // Keep each part's own counter where PyTorch's would be: the active one at its local step.
    const [s, local] = this.part(this.lastEpoch);
    s.lastEpoch = local;
  }

  override stateDict(): LRSchedulerStateDict {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** @internal */
  override planLoad(sd: LRSchedulerStateDict, op: string): () => void {
    const subs = sd?.schedulers;
    if (!Array.isArray(subs) || subs.length !== this.schedulers.length) {
      fail(op, `'schedulers' must hold the states of ${this.schedulers.length} schedulers, got ${describe(subs)}`);
    }
    // The parts first: this scheduler's values are computed from their base lrs.
    const parts = this.schedulers.map((s, i) => s.planLoad(subs[i], `${op} (schedulers[${i}])`));
    const old = this.schedulers.map((s) => ({ baseLrs: s.baseLrs }));
    try {
      this.schedulers.forEach((s, i) => { s.baseLrs = [...subs[i].baseLrs]; });
      const mine = super.planLoad(sd, op);
      return () => { for (const p of parts) p(); mine(); };
    } finally {
      this.schedulers.forEach((s, i) => Object.assign(s, old[i]));
    }
  }
}
