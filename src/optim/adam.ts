// Adam (L2 decay added to the gradient) and AdamW (decoupled decay), as
// PyTorch defines them. One fused kernel per parameter.
import type { Tensor } from '../tensor.js';
import { fail } from '../errors.js';
import { checkHyper, Optimizer } from './optimizer.js';

export interface AdamOptions {
  /** Learning rate, default 1e-3. */
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** Default 0 for Adam, 0.01 for AdamW. */
  weightDecay?: number;
}

interface State { m: Tensor; v: Tensor; t: number }

export class Adam extends Optimizer {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly state = new Map<Tensor, State>();

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}, name = 'optim.Adam', protected readonly decoupled = false) {
    super(params, name);
    this.lr = checkHyper(name, 'lr', opts.lr ?? 1e-3, 0, Infinity, true);
    const [b1, b2] = opts.betas ?? [0.9, 0.999];
    this.beta1 = checkHyper(name, 'betas[0]', b1, 0, 1);
    this.beta2 = checkHyper(name, 'betas[1]', b2, 0, 1);
    this.eps = checkHyper(name, 'eps', opts.eps ?? 1e-8, 0, Infinity, true);
    this.weightDecay = checkHyper(name, 'weightDecay', opts.weightDecay ?? (decoupled ? 0.01 : 0), 0, Infinity);
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
  protected override hyperparameters() {
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
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, opts, 'optim.AdamW', true);
  }
}
