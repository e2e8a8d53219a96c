// Adam (L2 decay added to the gradient) and AdamW (decoupled decay), as
// PyTorch defines them. One fused kernel per parameter, with its group's
// hyperparameters.
import { number, tuple, type OptionSpec } from '../options.js';
import type { Tensor } from '../tensor.js';
import { LR, Optimizer, type ParamsInput } from './optimizer.js';

/** Adam's hyperparameters (of the optimizer, or of one parameter group). */
export type AdamHyperparameters = { lr: number; betas: [number, number]; eps: number; weightDecay: number };

export interface AdamOptions {
  /** Learning rate, default 1e-3. */
  lr?: number;
  /** Decay rates of the two moment averages, default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to the denominator, default 1e-8. */
  eps?: number;
  /** Default 0 for Adam, 0.01 for AdamW. */
  weightDecay?: number;
}

interface State { m: Tensor; v: Tensor; t: number }

const BETA = number(0, 1, '[)');
const SPEC: OptionSpec<AdamHyperparameters> = { lr: LR, betas: tuple(BETA, BETA), eps: number(0, Infinity, '()'), weightDecay: number(0, Infinity, '[)') };

export class Adam extends Optimizer<AdamHyperparameters> {
  private readonly state = new Map<Tensor, State>();

  /** `params`: tensors, or parameter groups `[{ params, lr?, betas?, … }, …]` whose unset values come from `opts`. */
  constructor(params: ParamsInput<AdamHyperparameters>, opts?: AdamOptions, name = 'optim.Adam', protected readonly decoupled = false) {
    super(params, name, opts, SPEC, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: decoupled ? 0.01 : 0 });
  }

  /** The first group's betas[0]. */
  get beta1(): number { return this.paramGroups[0].betas[0]; }
  /** The first group's betas[1]. */
  get beta2(): number { return this.paramGroups[0].betas[1]; }
  /** The first group's eps; setting it sets every group's. */
  get eps(): number { return this.paramGroups[0].eps; }
  set eps(v: number) { this.setAll('eps', v); }
  /** The first group's weight decay; setting it sets every group's. */
  get weightDecay(): number { return this.paramGroups[0].weightDecay; }
  set weightDecay(v: number) { this.setAll('weightDecay', v); }

  step(): void {
    for (const [p, g] of this.ready()) {
      let s = this.state.get(p);
      if (!s) {
        s = { m: this.zerosLike(p), v: this.zerosLike(p), t: 0 };
        this.state.set(p, s);
      }
      s.t++;
      const [beta1, beta2] = g.betas;
      p.backend.adam(p.handle('adam', 'param'), p.grad!.handle('adam', 'grad'), s.m.handle('adam', 'm'), s.v.handle('adam', 'v'), p.size, {
        lr: g.lr, beta1, beta2, eps: g.eps, weightDecay: g.weightDecay,
        decoupled: this.decoupled, biasCorrection1: 1 - beta1 ** s.t, biasCorrection2: 1 - beta2 ** s.t,
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
}

/** AdamW: Adam with weight decay applied to the weights directly (Loshchilov & Hutter 2019). */
export class AdamW extends Adam {
  constructor(params: ParamsInput<AdamHyperparameters>, opts?: AdamOptions) {
    super(params, opts, 'optim.AdamW', true);
  }
}
