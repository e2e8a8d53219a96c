// SGD with momentum (optionally Nesterov) and L2 weight decay, as PyTorch
// defines it (dampening 0). One fused kernel per parameter, with its group's
// hyperparameters.
import { fail } from '../errors.js';
import { bool, number, type OptionSpec } from '../options.js';
import type { Tensor } from '../tensor.js';
import { LR, Optimizer, type ParamsInput } from './optimizer.js';

/** SGD's hyperparameters (of the optimizer, or of one parameter group). */
export type SGDHyperparameters = { lr: number; momentum: number; weightDecay: number; nesterov: boolean };

export interface SGDOptions {
  /** Learning rate, default 0.01. */
  lr?: number;
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** L2 penalty added to the gradient, default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0), default false. */
  nesterov?: boolean;
}

const SPEC: OptionSpec<SGDHyperparameters> = { lr: LR, momentum: number(0, 1, '[)'), weightDecay: number(0, Infinity, '[)'), nesterov: bool };

export class SGD extends Optimizer<SGDHyperparameters> {
  private readonly velocity = new Map<Tensor, Tensor>();

  /** `params`: tensors, or parameter groups `[{ params, lr?, momentum?, … }, …]` whose unset values come from `opts`. */
  constructor(params: ParamsInput<SGDHyperparameters>, opts?: SGDOptions) {
    super(params, 'optim.SGD', opts, SPEC, { lr: 0.01, momentum: 0, weightDecay: 0, nesterov: false });
  }

  /** The first group's momentum; setting it sets every group's. */
  get momentum(): number { return this.paramGroups[0].momentum; }
  set momentum(v: number) { this.setAll('momentum', v); }
  /** The first group's weight decay; setting it sets every group's. */
  get weightDecay(): number { return this.paramGroups[0].weightDecay; }
  set weightDecay(v: number) { this.setAll('weightDecay', v); }
  /** The first group's nesterov flag; setting it sets every group's. */
  get nesterov(): boolean { return this.paramGroups[0].nesterov; }
  set nesterov(v: boolean) { this.setAll('nesterov', v); }

  protected override checkGroup(op: string, where: string, h: SGDHyperparameters): void {
    if (h.nesterov && h.momentum === 0) fail(op, `${where}option 'nesterov' needs momentum > 0`);
  }

  step(): void {
    for (const [p, g] of this.ready()) {
      let v: Tensor | null = null;
      if (g.momentum > 0) {
        v = this.velocity.get(p) ?? this.zerosLike(p);
        this.velocity.set(p, v);
      }
      const hyper = { lr: g.lr, momentum: g.momentum, weightDecay: g.weightDecay, nesterov: g.nesterov };
      p.backend.sgd(p.handle('sgd', 'param'), p.grad!.handle('sgd', 'grad'), v ? v.handle('sgd', 'velocity') : null, p.size, hyper);
      this.updated(p);
    }
  }

  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
  }

  // State dict (see Optimizer.stateDict): PyTorch's momentum_buffer as momentumBuffer.
  protected override stateNames() {
    return { tensors: ['momentumBuffer'], counts: [] };
  }
  protected override paramState(p: Tensor) {
    const v = this.velocity.get(p);
    return v ? { momentumBuffer: v } : undefined;
  }
  protected override setParamState(p: Tensor, s: Record<string, Tensor | number> | undefined) {
    const old = this.velocity.get(p), v = s?.momentumBuffer as Tensor | undefined;
    if (old && old !== v) old.dispose();
    if (v) this.velocity.set(p, v); else this.velocity.delete(p);
  }
}
