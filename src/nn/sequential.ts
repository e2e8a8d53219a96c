// Sequential and Flatten: the containers and reshapes a CNN is written with.
import { fail } from '../errors.js';
import { flatten } from '../ops/shape.js';
import { describe } from '../options.js';
import { Tensor } from '../tensor.js';
import { Module } from './module.js';

/**
 * Runs its modules in order. Children are named '0', '1', … so stateDict()
 * keys are '0.weight', '2.bias', … as in PyTorch's nn.Sequential.
 */
export class Sequential extends Module {
  private readonly list: Module[];

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) fail('nn.Sequential', `argument ${i} must be an nn.Module, got ${describe(m)}`);
    });
    this.list = modules;
    modules.forEach((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this.list.length;
  }

  /** The i-th module (negative counts from the end), as `seq[i]` in PyTorch. */
  at(i: number): Module {
    const m = Number.isInteger(i) ? this.list.at(i) : undefined;
    if (!m) fail('nn.Sequential.at', `index ${i} is out of range for ${this.list.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.list[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const [i, m] of this.list.entries()) {
      const next: unknown = m.forward(h);
      // A layer that returns a tuple (a recurrent net's [output, h_n]) cannot feed the next one.
      if (!(next instanceof Tensor)) fail('nn.Sequential.forward', `module ${i} (${m.constructor.name}) returned ${describe(next)}, not a Tensor; recurrent layers return [output, state] and need a module of your own around them`);
      // An intermediate is freed once consumed (a recorded graph holds its own reference); a layer may return its input (Dropout in eval).
      if (h !== x && next !== h) h.dispose();
      h = next;
    }
    return h;
  }
}

/** Flattens dims startDim..endDim (default 1..-1: [N, H, W, C] → [N, H·W·C]), as PyTorch's nn.Flatten. A view. */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
    for (const [name, v] of [['startDim', startDim], ['endDim', endDim]] as const) {
      if (!Number.isInteger(v)) fail('nn.Flatten', `argument '${name}' must be an integer, got ${describe(v)}`);
    }
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}
