// Adam (L2 decay added to the gradient) and AdamW (decoupled decay), as
// PyTorch defines them. One fused kernel per parameter.
import { number, tuple, type Accepts, type OptionSpec } from '../options.js';
import type { Tensor } from '../tensor.js';
import { fail } from '../errors.js';
import { checkHyper, LR, Optimizer, optimizerOptions } from './optimizer.js';

export interface AdamOptions {
  /** Learning rate, default 1e-3. */
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** Default 0 for Adam, 0.01 for AdamW. */
  weightDecay?: number;
}

interface State { m: Tensor; v: Tensor; t: number }

const BETA = number(0, 1, '[)');
const SPEC: OptionSpec<AdamOptions> = { lr: LR, betas: tuple(BETA, BETA), eps: number(0, Infinity, '()'), weightDecay: number(0, Infinity, '[)') };

export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly state = new Map<Tensor, State>();

  constructor(params: Iterable<Tensor>, opts?: AdamOptions, name = 'optim.Adam', protected readonly decoupled = false) {
    super(params, name);
    const o = optimizerOptions(name, opts, SPEC);
    this.lr = o.lr ?? 1e-3;
    [this.beta1, this.beta2] = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? (decoupled ? 0.01 : 0);
  }

  protected hyperparameters(): [string, unknown, Accepts<unknown>][] {
    return [['lr', this.lr, LR], ['betas[0] (beta1)', this.beta1, BETA], ['betas[1] (beta2)', this.beta2, BETA],
      ['eps', this.eps, SPEC.eps], ['weightDecay', this.weightDecay, SPEC.weightDecay]];
  }

  step(): void {
    for (const p of this.ready()) {
      let s = this.state.get(p);
      if (!s) {
        s = { m: this.zerosLike(p), v: this.zerosLike(p), t: 0 };
        this.state.set(p, s);
      }
      s.t++;
      p.backend.adam(p.handle('adam', 'param'), p.grad!.handle('adam', 'grad'), s.m.handle('adam', 'm'), s.v.handle('adam', 'v'), p.size, {
        lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay,
        decoupled: this.decoupled, biasCorrection1: 1 - this.beta1 ** s.t, biasCorrection2: 1 - this.beta2 ** s.t,
      });
      this.updated(p);
    }
  }

  dispose(): void {
    for (const s of this.state.values()) { s.m.dispose(); s.v.dispose(); }
    this.state.clear();
  }

  // State dict (see Optimizer.stateDict): PyTorch's step, exp_avg, exp_avg_sq as step, expAvg, expAvgSq.
  protected override stateNames() {
    return { tensors: ['expAvg', 'expAvgSq'], counts: ['step'] };
  }
  protected override paramState(p: Tensor) {
    const s = this.state.get(p);
    return s ? { step: s.t, expAvg: s.m, expAvgSq: s.v } : undefined;
  }
  protected override setParamState(p: Tensor, s: Record<string, Tensor | number> | undefined) {
    const old = this.state.get(p);
    const next = s ? { m: s.expAvg as Tensor, v: s.expAvgSq as Tensor, t: s.step as number } : undefined;
    if (old && old.m !== next?.m) old.m.dispose();
    if (old && old.v !== next?.v) old.v.dispose();
    if (next) this.state.set(p, next); else this.state.delete(p);
  }
  protected override hyperValues() {
    return { lr: this.lr, betas: [this.beta1, this.beta2], eps: this.eps, weightDecay: this.weightDecay };
  }
  protected override checkHyperparameters(op: string, h: Record<string, unknown>) {
    const known = ['lr', 'betas', 'eps', 'weightDecay'];
    for (const k of Object.keys(h)) if (!known.includes(k)) fail(op, `paramGroups[0] has unknown hyperparameter '${k}'; ${this.name} has ${known.join(', ')}`);
    const betas = h.betas ?? [this.beta1, this.beta2];
    if (!Array.isArray(betas) || betas.length !== 2) fail(op, `hyperparameter 'betas' must be [beta1, beta2], got ${JSON.stringify(betas)}`);
    const lr = checkHyper(op, 'lr', h.lr ?? this.lr, 0, Infinity, true);
    const beta1 = checkHyper(op, 'betas[0]', betas[0], 0, 1), beta2 = checkHyper(op, 'betas[1]', betas[1], 0, 1);
    const eps = checkHyper(op, 'eps', h.eps ?? this.eps, 0, Infinity, true);
    const weightDecay = checkHyper(op, 'weightDecay', h.weightDecay ?? this.weightDecay, 0, Infinity);
    return () => { Object.assign(this, { lr, beta1, beta2, eps, weightDecay }); };
  }
}

/** AdamW: Adam with weight decay applied to the weights directly (Loshchilov & Hutter 2019). */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor>, opts?: AdamOptions) {
    super(params, opts, 'optim.AdamW', true);
  }
}
