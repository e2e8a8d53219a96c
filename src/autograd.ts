// Reverse-mode autograd. Each op that has an input needing a gradient records
// a GradNode on its output: the inputs and a function from the output's
// gradient to the inputs' gradients. backward() walks the nodes in reverse
// topological order. Nothing below this file knows about gradients.
import { fail, fmtShape } from './errors.js';
import { keep } from './memory.js';
import type { Tensor } from './tensor.js';

export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradients for each input (null where an input needs none), given the output's gradient. */
  readonly backward: (g: Tensor) => readonly (Tensor | null)[];
}

let enabled = true;

export const isGradEnabled = () => enabled;

/** Runs `fn` without recording gradients (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Attaches a node to `out` when gradients are on and some input requires one. */
export function record(op: string, out: Tensor, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (enabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = { op, inputs, backward };
  }
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  // Iterative DFS: deep graphs (long training loops unrolled) must not overflow the stack.
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const inputs = top[0].gradFn?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  return order.reverse();
}

/**
 * Accumulates d(root)/d(leaf) into `.grad` of every leaf that requires a
 * gradient. Intermediate gradients are freed as soon as they are used; the
 * graph is released afterwards unless `retainGraph`.
 */
export function backward(root: Tensor, grad: Tensor | undefined, retainGraph: boolean,
  seed: (t: Tensor) => Tensor, add: (a: Tensor, b: Tensor) => Tensor): void {
  if (!root.requiresGrad) fail('backward', `the tensor ${fmtShape(root.shape)} does not require a gradient (no input of the ops that made it has requiresGrad)`);
  if (grad === undefined && root.size !== 1) {
    fail('backward', `called on a non-scalar tensor of shape ${fmtShape(root.shape)} without a gradient; pass a gradient of that shape or reduce to a scalar first (e.g. .sum())`);
  }
  if (grad !== undefined) {
    if (grad.shape.length !== root.shape.length || grad.shape.some((d, i) => d !== root.shape[i])) {
      fail('backward', `argument 'grad' has shape ${fmtShape(grad.shape)}, needs ${fmtShape(root.shape)} (the tensor's shape)`);
    }
    if (grad.device !== root.device) fail('backward', `argument 'grad' is on ${grad.device}, the tensor on ${root.device}`);
  }
  const order = topoOrder(root);
  const prev = enabled;
  enabled = false;
  try {
    const grads = new Map<Tensor, Tensor>([[root, grad ?? seed(root)]]);
    // A gradient tensor has one owner: the caller's `grad` is never adopted,
    // and one tensor handed to two inputs is copied for the second.
    const own = (t: Tensor, taken: Set<Tensor>) => (t === grad || taken.has(t) ? t.clone() : t);
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.gradFn;
      if (!node) {
        // A leaf: accumulate into .grad, which outlives any scope.
        if (t.grad) {
          const sum = add(t.grad, g);
          t.grad.dispose();
          if (g !== grad) g.dispose();
          t.grad = keep(sum);
        } else {
          t.grad = keep(own(g, new Set()));
        }
        continue;
      }
      const inGrads = node.backward(g);
      const taken = new Set<Tensor>();
      node.inputs.forEach((input, i) => {
        const raw = inGrads[i];
        if (!raw || !input.requiresGrad) return;
        const gi = own(raw, taken);
        taken.add(gi);
        const have = grads.get(input);
        if (have) {
          grads.set(input, add(have, gi));
          have.dispose();
          gi.dispose();
        } else {
          grads.set(input, gi);
        }
      });
      // Whatever the node made and nobody took is garbage now.
      for (const raw of inGrads) if (raw && raw !== grad && !taken.has(raw) && !raw.isDisposed) raw.dispose();
      if (g !== grad && !taken.has(g) && !g.isDisposed) g.dispose();
    }
  } finally {
    enabled = prev;
  }
  if (!retainGraph) for (const t of order) if (t.gradFn) t.gradFn = null;
}
