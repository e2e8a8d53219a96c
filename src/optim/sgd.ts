// SGD with momentum (optionally Nesterov) and L2 weight decay, as PyTorch
// defines it (dampening 0). One fused kernel per parameter.
import { fail } from '../errors.js';
import { bool, number, type Accepts, type OptionSpec } from '../options.js';
import type { Tensor } from '../tensor.js';
import { checkHyper, LR, Optimizer, optimizerOptions } from './optimizer.js';

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
  protected override hyperValues() {
    return { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }
  protected override checkHyperparameters(op: string, h: Record<string, unknown>) {
    const known = ['lr', 'momentum', 'weightDecay', 'nesterov'];
    for (const k of Object.keys(h)) if (!known.includes(k)) fail(op, `paramGroups[0] has unknown hyperparameter '${k}'; optim.SGD has ${known.join(', ')}`);
    const lr = checkHyper(op, 'lr', h.lr ?? this.lr, 0, Infinity, true);
    const momentum = checkHyper(op, 'momentum', h.momentum ?? this.momentum, 0, 1);
    const weightDecay = checkHyper(op, 'weightDecay', h.weightDecay ?? this.weightDecay, 0, Infinity);
    const nesterov = h.nesterov ?? this.nesterov;
    if (typeof nesterov !== 'boolean') fail(op, `hyperparameter 'nesterov' must be a boolean, got ${typeof nesterov}`);
    if (nesterov && momentum === 0) fail(op, "hyperparameter 'nesterov' needs momentum > 0");
    return () => { Object.assign(this, { lr, momentum, weightDecay, nesterov }); };
  }
}
