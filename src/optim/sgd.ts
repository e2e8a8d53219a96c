// SGD with momentum (optionally Nesterov) and L2 weight decay, as PyTorch
// defines it (dampening 0). One fused kernel per parameter.
import { fail } from '../errors.js';
import { bool, number, type Accepts, type OptionSpec } from '../options.js';
import type { Tensor } from '../tensor.js';
import { LR, Optimizer, optimizerOptions } from './optimizer.js';

export interface SGDOptions {
  /** Learning rate, default 0.01. */
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

const SPEC: OptionSpec<SGDOptions> = { lr: LR, momentum: number(0, 1, '[)'), weightDecay: number(0, Infinity, '[)'), nesterov: bool };

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly velocity = new Map<Tensor, Tensor>();

  constructor(params: Iterable<Tensor>, opts?: SGDOptions) {
    super(params, 'optim.SGD');
    const o = optimizerOptions('optim.SGD', opts, SPEC);
    this.lr = o.lr ?? 0.01;
    this.momentum = o.momentum ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && this.momentum === 0) fail('optim.SGD', "option 'nesterov' needs momentum > 0");
  }

  protected hyperparameters(): [string, unknown, Accepts<unknown>][] {
    return [['lr', this.lr, LR], ['momentum', this.momentum, SPEC.momentum], ['weightDecay', this.weightDecay, SPEC.weightDecay],
      ['nesterov', this.nesterov, SPEC.nesterov]];
  }

  step(): void {
    const params = this.ready();
    if (this.nesterov && this.momentum === 0) fail('optim.SGD.step', "option 'nesterov' needs momentum > 0");
    const hyper = { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay, nesterov: this.nesterov };
    for (const p of params) {
      let v: Tensor | null = null;
      if (this.momentum > 0) {
        v = this.velocity.get(p) ?? this.zerosLike(p);
        this.velocity.set(p, v);
      }
      p.backend.sgd(p.handle('sgd', 'param'), p.grad!.handle('sgd', 'grad'), v ? v.handle('sgd', 'velocity') : null, p.size, hyper);
      this.updated(p);
    }
  }

  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
  }
}
