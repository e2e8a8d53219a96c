// Reverse-mode autograd. Each op that has an input needing a gradient records
// a GradNode on its output: the inputs, the graph's own references to the
// tensors its gradient reads, and a function from the output's gradient to
// the inputs' gradients. backward() walks the nodes in reverse topological
// order. Nothing below this file knows about gradients.
import type { DeviceName } from './backends/backend.js';
import { fail, fmtShape } from './errors.js';
import { keep, scopeMade } from './memory.js';
import { sameShape } from './shape.js';
import type { Tensor } from './tensor.js';

/**
 * Gradients for each input (null where an input needs none), given the
 * output's gradient `g`, the saved tensors (as listed to record(), each a
 * graph-owned view; null where none was saved) and which inputs need a
 * gradient. It runs inside a scope: temporaries it makes are freed after it.
 */
export type Backward<S extends readonly (Tensor | null)[]> =
  (g: Tensor, saved: S, needs: readonly boolean[]) => readonly (Tensor | null)[];

export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Where the output lives: every gradient must live there too. */
  readonly device: DeviceName;
  /** The graph's references to what `backward` reads; they keep the storage alive after a user's dispose(). */
  readonly saved: readonly (Tensor | null)[];
  readonly backward: Backward<readonly (Tensor | null)[]>;
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

/**
 * Attaches a node to `out` when gradients are on and some input requires one.
 * `saved` lists every tensor the gradient reads (inputs, the output, a
 * pre-activation…): the node holds its own reference to each, so disposing
 * any of them (by hand or by a scope) never breaks a later backward().
 * `backward` gets them as arguments and must not capture tensors itself.
 */
export function record<const S extends readonly (Tensor | null)[]>(op: string, out: Tensor, inputs: readonly Tensor[],
  saved: S, backward: Backward<S>): Tensor {
  if (enabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = {
      op, inputs, device: out.device, saved: saved.map((t) => t && t.saved(op)),
      backward: backward as unknown as GradNode['backward'],
    };
    for (const x of inputs) x.consumers++;
  }
  return out;
}

/**
 * @internal Drops `t`'s node and the graph's references to its saved
 * tensors. With `cascade`, so does every node upstream that nothing can
 * reach any more: a disposed tensor whose last consumer this was. (Tensor
 * dispose() calls it when it frees the last tensor that can reach a graph.)
 */
export function releaseNode(t: Tensor, cascade = true): void {
  const stack = [t];
  while (stack.length) {
    const u = stack.pop()!;
    const node = u.gradFn;
    if (!node) continue;
    u.gradFn = null;
    for (const s of node.saved) s?.dispose();
    for (const x of node.inputs) if (--x.consumers === 0 && x.isDisposed && cascade) stack.push(x);
  }
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

/** The gradients a node returned, checked against its inputs: a wrong one is a bug in the op. */
function checkGrads(node: GradNode, grads: readonly (Tensor | null)[]): void {
  if (!Array.isArray(grads) || grads.length !== node.inputs.length) {
    fail('backward', `internal: the gradient of '${node.op}' returned ${Array.isArray(grads) ? grads.length : typeof grads} gradients for ${node.inputs.length} inputs`);
  }
  grads.forEach((gi, i) => {
    if (!gi) return;
    const want = node.inputs[i].shape;
    if (!sameShape(gi.shape, want)) fail('backward', `internal: gradient of '${node.op}' input ${i} has shape ${fmtShape(gi.shape)}, needs ${fmtShape(want)}`);
    if (gi.device !== node.device) fail('backward', `internal: gradient of '${node.op}' input ${i} is on ${gi.device}, needs ${node.device}`);
  });
}

/**
 * Accumulates d(root)/d(leaf) into `.grad` of every leaf that requires a
 * gradient. Intermediate gradients are freed as soon as they are used, and
 * each node (with its saved tensors) once its gradient ran, unless
 * `retainGraph`.
 */
export function backward(root: Tensor, grad: Tensor | undefined, retainGraph: boolean,
  seed: (t: Tensor) => Tensor, add: (a: Tensor, b: Tensor) => Tensor): void {
  if (!root.requiresGrad) fail('backward', `the tensor ${fmtShape(root.shape)} does not require a gradient (no input of the ops that made it has requiresGrad)`);
  if (grad === undefined && root.size !== 1) {
    fail('backward', `called on a non-scalar tensor of shape ${fmtShape(root.shape)} without a gradient; pass a gradient of that shape or reduce to a scalar first (e.g. .sum())`);
  }
  if (grad !== undefined) {
    if (!sameShape(grad.shape, root.shape)) {
      fail('backward', `argument 'grad' has shape ${fmtShape(grad.shape)}, needs ${fmtShape(root.shape)} (the tensor's shape)`);
    }
    if (grad.device !== root.device) fail('backward', `argument 'grad' is on ${grad.device}, the tensor on ${root.device}`);
  }
  const order = topoOrder(root);
  const prev = enabled;
  enabled = false;
  try {
    // Every gradient in `grads` is owned by this loop, which frees it once
    // used, except the caller's `grad`: it is never adopted (copied instead).
    const grads = new Map<Tensor, Tensor>([[root, grad ?? seed(root)]]);
    const owned = (t: Tensor) => t !== grad;
    for (const t of order) {
      const g = grads.get(t);
      grads.delete(t);
      const node = t.gradFn;
      if (!node) {
        // A leaf: accumulate into .grad, which outlives any scope.
        if (!g) continue;
        if (t.grad) {
          const sum = add(t.grad, g);
          t.grad.dispose();
          if (owned(g)) g.dispose();
          t.grad = keep(sum);
        } else {
          t.grad = keep(owned(g) ? g : g.clone());
        }
        continue;
      }
      // backward() itself releases every node of the graph, in order (no cascade ahead of it).
      if (!g) {
        if (!retainGraph) releaseNode(t, false);
        continue;
      }
      const needs = node.inputs.map((x) => x.requiresGrad);
      // The gradient formula's temporaries die with this scope; what it returns survives.
      const { result: raw, made } = scopeMade(() => node.backward(g, node.saved, needs));
      try {
        checkGrads(node, raw);
      } catch (e) {
        for (const r of made) r.dispose();
        throw e;
      }
      if (!retainGraph) releaseNode(t, false);
      const taken = new Set<Tensor>();
      // Freed after the loop: a gradient returned for two inputs must outlive the first sum.
      const spent: Tensor[] = [];
      node.inputs.forEach((input, i) => {
        const r = raw[i];
        if (!r || !needs[i]) return;
        // Adopt what the formula made, or g when owned, once; copy anything else (a saved tensor).
        const adopt = (made.has(r) || (r === g && owned(g))) && !taken.has(r);
        const gi = adopt ? r : r.clone();
        taken.add(gi);
        const have = grads.get(input);
        if (have) {
          grads.set(input, add(have, gi));
          spent.push(have, gi);
        } else {
          grads.set(input, gi);
        }
      });
      for (const r of spent) r.dispose();
      // Whatever the formula made and nobody took is garbage now.
      for (const r of made) if (!taken.has(r)) r.dispose();
      if (owned(g) && !taken.has(g)) g.dispose();
    }
  } finally {
    enabled = prev;
  }
}
