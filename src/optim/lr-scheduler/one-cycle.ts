// OneCycleLR (Smith & Topin 2018), as PyTorch's: the lr rises from
// maxLr / divFactor to maxLr over the first pctStart of totalSteps, then
// anneals to maxLr / divFactor / finalDivFactor; momentum (SGD's momentum,
// Adam's betas[0]) moves the opposite way between maxMomentum and baseMomentum.
import { fail } from '../../errors.js';
import { accepts, bool, integer, number, oneOf } from '../../options.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, type ScheduledValues } from './base.js';

export interface OneCycleLROptions {
  /** The peak lr: one for every group, or one per group. Required. */
  maxLr: number | number[];
  /** Steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Share of the cycle spent raising the lr. Default 0.3. */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum inversely to the lr. Default true (the optimizer must have momentum or betas). */
  cycleMomentum?: boolean;
  /** Default 0.85. */
  baseMomentum?: number;
  /** Default 0.95. */
  maxMomentum?: number;
  /** Initial lr = maxLr / divFactor. Default 25. */
  divFactor?: number;
  /** Final lr = initial lr / finalDivFactor. Default 1e4. */
  finalDivFactor?: number;
  /** A third phase: up, back down to the initial lr, then to the final one. Default false. */
  threePhase?: boolean;
}

const positive = number(0, Infinity, '()');
type Phase = { end: number; lr: [number, number]; mom: [number, number] }; // lr/mom: indices into [initial, max, min] / [base, max]

/**
 * The 1cycle policy (Smith & Topin 2018), as PyTorch's OneCycleLR: the lr
 * rises from maxLr / divFactor to maxLr over the first pctStart of
 * totalSteps, then anneals to maxLr / divFactor / finalDivFactor, while the
 * momentum moves the other way. Step it after every batch:
 *
 *   const sched = new optim.lrScheduler.OneCycleLR(opt, { maxLr: 0.1, epochs: 10, stepsPerEpoch: loader.length });
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  private readonly maxLrs: number[];
  private readonly o: Required<Omit<OneCycleLROptions, 'maxLr' | 'totalSteps' | 'epochs' | 'stepsPerEpoch'>>;
  private readonly phases: Phase[];

  constructor(optimizer: Optimizer, opts: OneCycleLROptions) {
    super(optimizer, 'lrScheduler.OneCycleLR');
    const unit = number(0, 1, '[]');
    const o = LRScheduler.opts(this.name, opts, {
      maxLr: accepts<number | number[]>('a finite number > 0, or an array of one per parameter group',
        (v) => positive.test(v) || (Array.isArray(v) && v.every((x) => positive.test(x)))),
      totalSteps: integer(1), epochs: integer(1), stepsPerEpoch: integer(1), pctStart: unit,
      annealStrategy: oneOf('cos', 'linear'), cycleMomentum: bool, baseMomentum: unit, maxMomentum: unit,
      divFactor: positive, finalDivFactor: positive, threePhase: bool,
    }, ['maxLr']);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(o.maxLr) && o.maxLr.length !== n) fail(this.name, `option 'maxLr' has ${o.maxLr.length} values; the optimizer has ${n} parameter groups`);
    this.maxLrs = Array.isArray(o.maxLr) ? [...o.maxLr] : Array.from({ length: n }, () => o.maxLr as number);
    if (o.totalSteps !== undefined) {
      if (o.epochs !== undefined || o.stepsPerEpoch !== undefined) fail(this.name, "give 'totalSteps', or 'epochs' and 'stepsPerEpoch', not both");
      this.totalSteps = o.totalSteps;
    } else {
      if (o.epochs === undefined || o.stepsPerEpoch === undefined) fail(this.name, "needs option 'totalSteps', or both 'epochs' and 'stepsPerEpoch'");
      this.totalSteps = o.epochs * o.stepsPerEpoch;
    }
    this.o = {
      pctStart: o.pctStart ?? 0.3, annealStrategy: o.annealStrategy ?? 'cos', cycleMomentum: o.cycleMomentum ?? true,
      baseMomentum: o.baseMomentum ?? 0.85, maxMomentum: o.maxMomentum ?? 0.95, divFactor: o.divFactor ?? 25,
      finalDivFactor: o.finalDivFactor ?? 1e4, threePhase: o.threePhase ?? false,
    };
    if (this.o.baseMomentum > this.o.maxMomentum) fail(this.name, `option 'baseMomentum' (${this.o.baseMomentum}) must not exceed 'maxMomentum' (${this.o.maxMomentum})`);
    if (this.o.cycleMomentum) {
      optimizer.paramGroups.forEach((g, i) => {
        if (!('momentum' in g) && !Array.isArray(g.betas)) fail(this.name, `option 'cycleMomentum' needs an optimizer with momentum or betas; paramGroups[${i}] has neither (pass cycleMomentum: false)`);
      });
    }
    // The schedule starts from maxLr / divFactor, whatever lr the optimizer was made with (as PyTorch).
    this.baseLrs = this.maxLrs.map((m) => m / this.o.divFactor);
    const T = this.totalSteps, p = this.o.pctStart;
    // Phase ends as PyTorch counts them; lr indices into [initial, max, min], momentum into [base, max].
    this.phases = this.o.threePhase
      ? [{ end: p * T - 1, lr: [0, 1], mom: [1, 0] }, { end: 2 * p * T - 2, lr: [1, 0], mom: [0, 1] }, { end: T - 1, lr: [0, 2], mom: [1, 1] }]
      : [{ end: p * T - 1, lr: [0, 1], mom: [1, 0] }, { end: T - 1, lr: [1, 2], mom: [0, 1] }];
    this.step();
  }

  private anneal(start: number, end: number, pct: number): number {
    return this.o.annealStrategy === 'cos' ? end + (start - end) / 2 * (Math.cos(Math.PI * pct) + 1) : (end - start) * pct + start;
  }

  /** The phase of step t and how far into it (0 … 1). */
  private at(t: number): [Phase, number] {
    let start = 0;
    for (let k = 0; k < this.phases.length; k++) {
      const ph = this.phases[k];
      if (t <= ph.end || k === this.phases.length - 1) {
        // A phase of no length (pctStart · totalSteps = 1) is already complete.
        return [ph, ph.end === start ? 1 : (t - start) / (ph.end - start)];
      }
      start = ph.end;
    }
    throw new Error('unreachable');
  }

  protected lrAt(t: number, i: number): number {
    const [ph, pct] = this.at(t), initial = this.baseLrs[i];
    const lrs = [initial, this.maxLrs[i], initial / this.o.finalDivFactor];
    return this.anneal(lrs[ph.lr[0]], lrs[ph.lr[1]], pct);
  }

  /** @internal */
  override valuesAt(t: number): ScheduledValues {
    if (t > this.totalSteps) fail(`${this.name}.step`, `tried to step ${t} times; the cycle has totalSteps = ${this.totalSteps}`);
    // Step totalSteps comes after the last batch (a loop that steps the scheduler after every
    // batch reaches it); it keeps the final values, where PyTorch's formula overshoots (below 0).
    const tt = Math.min(t, this.totalSteps - 1);
    const v = super.valuesAt(tt);
    if (!this.o.cycleMomentum) return v;
    const [ph, pct] = this.at(tt), m = [this.o.baseMomentum, this.o.maxMomentum];
    const mom = this.anneal(m[ph.mom[0]], m[ph.mom[1]], pct);
    return { ...v, momenta: v.lrs.map(() => mom) };
  }
}
