// Ownership of tensor storage. Tensors free their storage with dispose() or
// `using`; scope() frees every tensor made inside it except what it returns.
// A FinalizationRegistry (in tensor.ts) is only a safety net.
import { releaseNode } from './autograd.js';
import { fail } from './errors.js';
import type { Tensor } from './tensor.js';

interface Frame {
  /** Tensors with a larger id were made while this scope ran. */
  readonly start: number;
  /** Tensors made inside, which the scope disposes unless it returns them. */
  readonly made: Set<Tensor>;
  /** Tensors with a graph that keep() exempted while this scope ran: their graphs survive it. */
  readonly kept: Set<Tensor>;
}

const frames: Frame[] = [];
let lastId = 0;

/** A new tensor id; ids increase in creation order (scopes rely on it). */
export function nextTensorId(): number {
  return ++lastId;
}

/** Called by the Tensor constructor for tensors that ops and factories make. */
export function track(t: Tensor): void {
  if (frames.length) frames[frames.length - 1].made.add(t);
}

/** Exempts `t` from disposal by the enclosing scopes (e.g. a value kept across steps). */
export function keep<T extends Tensor>(t: T): T {
  for (const f of frames) {
    f.made.delete(t);
    if (t.gradFn) f.kept.add(t);
  }
  return t;
}

function collect(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (!value || typeof value !== 'object' || depth > 4) return;
  if (isTensor(value)) { into.add(value); return; }
  if (Array.isArray(value)) { for (const v of value) collect(v, into, depth + 1); return; }
  if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, depth + 1);
}

let isTensor: (v: unknown) => v is Tensor = (_v): _v is Tensor => false;
/** tensor.ts registers the class check here (avoids an import cycle at load time). */
export function setTensorCheck(check: (v: unknown) => v is Tensor) {
  isTensor = check;
}

/**
 * Disposes `dead` (made in `frame`). A graph recorded on a dead tensor is
 * released too, unless a surviving tensor's graph (one `kept`, or one keep()
 * exempted) runs through it: a graph nobody can call backward() on any more
 * would otherwise hold its saved tensors until garbage collection.
 */
function bury(frame: Frame, dead: Tensor[], kept: Iterable<Tensor>): void {
  const needed = new Set<Tensor>();
  const stack = [...kept, ...frame.kept].filter((t) => t.gradFn);
  while (stack.length) {
    for (const input of stack.pop()!.gradFn!.inputs) {
      // Older tensors were made before this scope: not ours to release.
      if (input.gradFn && input.id > frame.start && !needed.has(input)) {
        needed.add(input);
        stack.push(input);
      }
    }
  }
  for (const t of dead) {
    if (t.gradFn && !needed.has(t)) releaseNode(t);
    t.dispose();
  }
}

/**
 * @internal scope(), also reporting which tensors of the result were made
 * inside `fn` (backward() adopts those gradients and copies any other).
 */
export function scopeMade<T>(fn: () => T): { result: T; made: Set<Tensor> } {
  const frame: Frame = { start: lastId, made: new Set(), kept: new Set() };
  frames.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    frames.pop();
    bury(frame, [...frame.made], []);
    throw e;
  }
  frames.pop();
  if (result instanceof Promise) {
    bury(frame, [...frame.made], []);
    fail('scope', 'the function returned a Promise; scopes are synchronous. Do the tensor work inside, await data() outside.');
  }
  const kept = new Set<Tensor>();
  collect(result, kept);
  bury(frame, [...frame.made].filter((t) => !kept.has(t)), kept);
  const made = new Set<Tensor>();
  for (const t of kept) if (frame.made.has(t)) made.add(t);
  const parent = frames[frames.length - 1];
  if (parent) for (const t of made) parent.made.add(t);
  return { result, made };
}

/**
 * Runs `fn` and disposes every tensor created inside it, except tensors in
 * its return value (a tensor, or arrays / plain objects holding tensors),
 * which move to the enclosing scope. Parameters (tensors created with
 * `requiresGrad: true`), gradients and optimizer state are never collected.
 * A returned tensor's graph survives: `scope(() => model.forward(x))` can be
 * followed by backward(). `fn` must be synchronous: await the result's
 * data() after the scope.
 */
export function scope<T>(fn: () => T): T {
  return scopeMade(fn).result;
}

/** Disposes every tensor in the arguments (tensors, arrays, plain objects). */
export function dispose(...values: unknown[]): void {
  const all = new Set<Tensor>();
  for (const v of values) collect(v, all);
  for (const t of all) t.dispose();
}
