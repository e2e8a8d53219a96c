// Reverse-mode autograd. Each op that has an input needing a gradient records
// a GradNode on its output: the inputs, the graph's own references to the
// tensors its gradient reads, and a function from the output's gradient to
// the inputs' gradients. backward() walks the nodes in reverse topological
// order. Nothing below this file knows about gradients.
import type { DeviceName } from './backends/backend.js';
import { fail, fmtShape } from './errors.js';
import { keep, scopeMade } from './memory.js';
import { isThenable, syncFunction } from './options.js';
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
  /** Each saved storage's version when the op ran: an in-place update since makes the gradient wrong. */
  readonly versions: readonly number[];
  readonly backward: Backward<readonly (Tensor | null)[]>;
}

let enabled = true;

export const isGradEnabled = () => enabled;

/**
 * Runs `fn` without recording gradients (inference, optimizer updates). `fn`
 * must be synchronous: recording is off only while it runs, so an async
 * function is refused before it starts (its code after an await would record).
 */
export function noGrad<T>(fn: () => T): T {
  const hint = 'recording would resume at its first await, which noGrad cannot follow. Put noGrad(() => ...) around the synchronous part and await outside it';
  syncFunction('noGrad', fn, hint);
  const prev = enabled;
  enabled = false;
  let result: T;
  try {
    result = fn();
  } finally {
    enabled = prev;
  }
  if (isThenable(result)) fail('noGrad', `the function returned a Promise: ${hint}`);
  return result;
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
      op, inputs, device: out.device, saved: saved.map((t) => t && t.saved(op)), versions: saved.map((t) => (t ? t.live(op, 'saved').version : 0)),
      backward: backward as unknown as GradNode['backward'],
    };
    for (const x of inputs) x.consumers++;
  }
  return out;
}

/** Non-leaf tensors whose node was released, with the op that made them: backward through them is refused. */
const freed = new WeakMap<Tensor, string>();

/** @internal Whether `t` is a leaf: made by the user, not by an op that recorded a node (released or not). */
export const isLeaf = (t: Tensor) => t.gradFn === null && !freed.has(t);

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
    freed.set(u, node.op);
    for (const s of node.saved) s?.dispose();
    for (const x of node.inputs) if (--x.consumers === 0 && x.isDisposed && cascade) stack.push(x);
  }
}

/** A tensor an op made whose node an earlier backward() released: its gradient cannot reach the leaves. */
function checkNotFreed(t: Tensor): void {
  const op = freed.get(t);
  if (op === undefined) return;
  fail('backward', `the graph through '${op}' (tensor #${t.id}, shape ${fmtShape(t.shape)}) was already freed by an earlier backward(); `
    + 'pass { retainGraph: true } to the first backward() to backpropagate through the same graph again, or run the forward again');
}

/**
 * A node whose saved tensor was updated in place since the forward (an
 * optimizer step, loadStateDict) would compute its gradient from the new
 * values: refused, as PyTorch does, before any formula runs.
 */
function checkVersions(t: Tensor): void {
  const node = t.gradFn;
  node?.saved.forEach((s, i) => {
    if (s && s.live('backward', 'saved').version !== node.versions[i]) {
      fail('backward', `a tensor the gradient of '${node.op}' reads (shape ${fmtShape(s.shape)}) was modified in place after the forward `
        + '(by an optimizer step or loadStateDict), so the gradient would use the new values. Call backward() before step(), '
        + 'or run the forward again after the update');
    }
  });
}

/** The graph reachable from `root`, outputs before inputs; refused before anything runs if part of it was freed. */
function topoOrder(root: Tensor): Tensor[] {
  // Iterative DFS: deep graphs (long training loops unrolled) must not overflow the stack.
  checkNotFreed(root);
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const inputs = top[0].gradFn?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !seen.has(next)) {
        checkNotFreed(next);
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
 * gradient, all or nothing: the leaves' sums are formed once every gradient
 * formula has run, and only then swapped in, so a failure midway leaves every
 * `.grad` as it was. Intermediate gradients are freed as soon as they are
 * used, and each node (with its saved tensors) once its gradient ran, unless
 * `retainGraph` (as PyTorch: after a failure midway, those nodes stay
 * released and a retry is refused rather than counted twice).
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
  order.forEach(checkVersions);
  const prev = enabled;
  enabled = false;
  // Every gradient this call made and has not freed yet: on a failure, exactly these are freed.
  // The caller's `grad` is never among them (never adopted, copied where it must be kept).
  const alive = new Set<Tensor>();
  const made = <T extends Tensor>(t: T) => { alive.add(t); return t; };
  const free = (t: Tensor) => { if (alive.delete(t)) t.dispose(); };
  try {
    const grads = new Map<Tensor, Tensor>([[root, grad ?? made(seed(root))]]);
    const leaves: [Tensor, Tensor][] = [];
    for (const t of order) {
      const g = grads.get(t);
      grads.delete(t);
      const node = t.gradFn;
      if (!node) {
        if (g) leaves.push([t, g]);
        continue;
      }
      // backward() itself releases every node of the graph, in order (no cascade ahead of it).
      if (!g) {
        if (!retainGraph) releaseNode(t, false);
        continue;
      }
      const needs = node.inputs.map((x) => x.requiresGrad);
      // The gradient formula's temporaries die with this scope; what it returns survives.
      const { result: raw, made: fresh } = scopeMade(() => node.backward(g, node.saved, needs));
      fresh.forEach(made);
      checkGrads(node, raw);
      if (!retainGraph) releaseNode(t, false);
      const taken = new Set<Tensor>();
      // Freed after the loop: a gradient returned for two inputs must outlive the first sum.
      const spent: Tensor[] = [];
      node.inputs.forEach((input, i) => {
        const r = raw[i];
        if (!r || !needs[i]) return;
        // Adopt what the formula made, or g when it is ours, once; copy anything else (a saved tensor).
        const gi = alive.has(r) && !taken.has(r) ? r : made(r.clone());
        taken.add(gi);
        const have = grads.get(input);
        if (have) {
          grads.set(input, made(add(have, gi)));
          spent.push(have, gi);
        } else {
          grads.set(input, gi);
        }
      });
      for (const r of spent) free(r);
      // Whatever the formula made and nobody took is garbage now, and so is g unless an input took it.
      for (const r of fresh) if (!taken.has(r)) free(r);
      if (!taken.has(g)) free(g);
    }
    accumulate(leaves, alive, add);
  } finally {
    enabled = prev;
    for (const t of alive) t.dispose();
  }
}

/**
 * Adds each leaf's gradient into its `.grad`: every sum is formed first, then
 * all are swapped in, so a failure (an allocation) changes no `.grad`.
 * `alive` holds what this backward owns; what it hands to a leaf leaves it.
 */
function accumulate(leaves: [Tensor, Tensor][], alive: Set<Tensor>, add: (a: Tensor, b: Tensor) => Tensor): void {
  const next: [Tensor, Tensor][] = [];
  for (const [leaf, g] of leaves) {
    const sum = leaf.grad ? add(leaf.grad, g) : alive.has(g) ? g : g.clone();
    alive.add(sum);
    next.push([leaf, sum]);
  }
  for (const [leaf, sum] of next) {
    alive.delete(sum);
    leaf.grad?.dispose();
    leaf.grad = keep(sum);
  }
}
