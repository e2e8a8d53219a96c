// The closed-form schedules of torch.optim.lr_scheduler: StepLR, MultiStepLR,
// ExponentialLR, CosineAnnealingLR, LinearLR (the usual warm-up) and LambdaLR.
// Each constructor sets the lr of step 0, as PyTorch's do.
import { fail } from '../../errors.js';
import { accepts, describe, integer, number } from '../../options.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler } from './base.js';

const positive = number(0, Infinity, '()');
const nonNegative = number(0, Infinity, '[)');

/** Multiplies the lr by `gamma` every `stepSize` steps: `lr = base · gamma^⌊t / stepSize⌋`. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: Optimizer, opts: { stepSize: number; gamma?: number }) {
    super(optimizer, 'lrScheduler.StepLR');
    const o = LRScheduler.opts(this.name, opts, { stepSize: integer(1), gamma: nonNegative }, ['stepSize']);
    this.stepSize = o.stepSize;
    this.gamma = o.gamma ?? 0.1;
    this.step();
  }
  protected lrAt(t: number, i: number): number {
    return this.baseLrs[i] * this.gamma ** Math.floor(t / this.stepSize);
  }
}

const milestonesSpec = accepts<number[]>('an array of increasing positive integers',
  (v) => Array.isArray(v) && v.every((m, i) => Number.isInteger(m) && m > 0 && (i === 0 || m > v[i - 1])));

/** Multiplies the lr by `gamma` at each milestone: `lr = base · gamma^(milestones ≤ t)`. */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  readonly gamma: number;
  constructor(optimizer: Optimizer, opts: { milestones: number[]; gamma?: number }) {
    super(optimizer, 'lrScheduler.MultiStepLR');
    const o = LRScheduler.opts(this.name, opts, { milestones: milestonesSpec, gamma: nonNegative }, ['milestones']);
    this.milestones = [...o.milestones];
    this.gamma = o.gamma ?? 0.1;
    this.step();
  }
  protected lrAt(t: number, i: number): number {
    return this.baseLrs[i] * this.gamma ** this.milestones.filter((m) => m <= t).length;
  }
}

/** Multiplies the lr by `gamma` every step: `lr = base · gamma^t`. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: Optimizer, opts: { gamma: number }) {
    super(optimizer, 'lrScheduler.ExponentialLR');
    this.gamma = LRScheduler.opts(this.name, opts, { gamma: positive }, ['gamma']).gamma;
    this.step();
  }
  protected lrAt(t: number, i: number): number {
    return this.baseLrs[i] * this.gamma ** t;
  }
}

/**
 * Half a cosine from the base lr down to `etaMin` over `tMax` steps
 * (SGDR without restarts): `lr = etaMin + (base − etaMin) · (1 + cos(π t / tMax)) / 2`.
 * Past tMax the cosine goes on (back up), as PyTorch's closed form.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: Optimizer, opts: { tMax: number; etaMin?: number }) {
    super(optimizer, 'lrScheduler.CosineAnnealingLR');
    const o = LRScheduler.opts(this.name, opts, { tMax: integer(1), etaMin: nonNegative }, ['tMax']);
    this.tMax = o.tMax;
    this.etaMin = o.etaMin ?? 0;
    this.step();
  }
  protected lrAt(t: number, i: number): number {
    return this.etaMin + (this.baseLrs[i] - this.etaMin) * (1 + Math.cos(Math.PI * t / this.tMax)) / 2;
  }
}

/**
 * A linear ramp of the lr's factor from `startFactor` to `endFactor` over
 * `totalIters` steps, then constant: the usual warm-up (with SequentialLR to
 * hand over to the main schedule). Defaults as PyTorch: 1/3, 1, 5.
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: Optimizer, opts?: { startFactor?: number; endFactor?: number; totalIters?: number }) {
    super(optimizer, 'lrScheduler.LinearLR');
    const o = LRScheduler.opts(this.name, opts, { startFactor: number(0, 1, '(]'), endFactor: number(0, 1, '[]'), totalIters: integer(1) });
    this.startFactor = o.startFactor ?? 1 / 3;
    this.endFactor = o.endFactor ?? 1;
    this.totalIters = o.totalIters ?? 5;
    this.step();
  }
  protected lrAt(t: number, i: number): number {
    const f = this.startFactor + (this.endFactor - this.startFactor) * Math.min(t, this.totalIters) / this.totalIters;
    return this.baseLrs[i] * f;
  }
}

/** `lr = base · lrLambda(t)` (one function for every group, or one per group). */
export class LambdaLR extends LRScheduler {
  private readonly fns: ((t: number) => number)[];
  constructor(optimizer: Optimizer, opts: { lrLambda: ((t: number) => number) | ((t: number) => number)[] }) {
    super(optimizer, 'lrScheduler.LambdaLR');
    const fn = accepts<(t: number) => number>('a function (step) => factor, or an array of one per parameter group',
      (v) => typeof v === 'function' || (Array.isArray(v) && v.every((f) => typeof f === 'function')));
    const { lrLambda } = LRScheduler.opts(this.name, opts, { lrLambda: fn }, ['lrLambda']);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda) && lrLambda.length !== n) fail(this.name, `option 'lrLambda' has ${lrLambda.length} functions; the optimizer has ${n} parameter groups`);
    this.fns = Array.isArray(lrLambda) ? [...lrLambda] : Array.from({ length: n }, () => lrLambda);
    this.step();
  }
  protected lrAt(t: number, i: number): number {
    const f = this.fns[i](t);
    if (typeof f !== 'number') fail(`${this.name}.step`, `lrLambda(${t}) returned ${describe(f)}; needs a number`);
    return this.baseLrs[i] * f;
  }
}
