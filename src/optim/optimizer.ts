// Optimizer base: parameter list, gradient checks before any update (an
// invalid step changes nothing), and state tensors that outlive scopes.
import { fail, fmtShape } from '../errors.js';
import { keep } from '../memory.js';
import { full } from '../ops/elementwise.js';
import { clearGrads, Tensor } from '../tensor.js';

export abstract class Optimizer {
  readonly params: Tensor[];

  constructor(params: Iterable<Tensor>, readonly name: string) {
    if (params === null || typeof params !== 'object' || !(Symbol.iterator in params)) {
      fail(name, `argument 'params' must be an array of tensors (e.g. model.parameters()), got ${params === null ? 'null' : typeof params}`);
    }
    this.params = [...params];
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) fail(name, `params[${i}] is not a Tensor`);
      if (!p.requiresGrad) fail(name, `params[${i}] ${fmtShape(p.shape)} does not require a gradient; create it with { requiresGrad: true }`);
    });
  }

  /** Frees every gradient (the next backward() starts from zero). */
  zeroGrad(): void {
    clearGrads(this.params);
  }

  /** Parameters that have a gradient, after checking all of them first. */
  protected ready(): Tensor[] {
    const list: Tensor[] = [];
    this.params.forEach((p, i) => {
      p.live(`${this.name}.step`, `params[${i}]`);
      if (!p.grad) return;
      p.grad.live(`${this.name}.step`, `params[${i}].grad`);
      if (p.grad.size !== p.size) fail(`${this.name}.step`, `params[${i}].grad has shape ${fmtShape(p.grad.shape)}; needs ${fmtShape(p.shape)}`);
      if (p.grad.device !== p.device) fail(`${this.name}.step`, `params[${i}] is on ${p.device} but its grad on ${p.grad.device}`);
      list.push(p);
    });
    return list;
  }

  /** A zero tensor shaped like `p`, exempt from scopes (optimizer state). */
  protected zerosLike(p: Tensor): Tensor {
    return keep(full(p.backend, p.shape, 0));
  }

  abstract step(): void;

  /** Frees the optimizer's state tensors. */
  abstract dispose(): void;
}

export function checkHyper(op: string, name: string, v: unknown, lo: number, hi: number, loOpen = false, hiOpen = true): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok) fail(op, `option '${name}' must be a number in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${String(v)}`);
  return v as number;
}
