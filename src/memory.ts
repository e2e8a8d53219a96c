// Ownership of tensor storage. Tensors free their storage with dispose() or
// `using`; scope() frees every tensor made inside it except what it returns.
// A FinalizationRegistry (in tensor.ts) is only a safety net.
import { fail } from './errors.js';
import { isThenable, syncFunction } from './options.js';
import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];

/** Called by the Tensor constructor for tensors that ops and factories make. */
export function track(t: Tensor): void {
  if (scopes.length) scopes[scopes.length - 1].add(t);
}

/** Exempts `t` from disposal by the enclosing scopes (e.g. a value kept across steps). */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
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
 * @internal scope(), also reporting which tensors of the result were made
 * inside `fn` (backward() adopts those gradients and copies any other).
 */
export function scopeMade<T>(fn: () => T): { result: T; made: Set<Tensor> } {
  const mine = new Set<Tensor>();
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of mine) t.dispose();
    throw e;
  }
  scopes.pop();
  if (isThenable(result)) {
    for (const t of mine) t.dispose();
    fail('scope', 'the function returned a Promise; scopes are synchronous. Do the tensor work inside, await data() outside.');
  }
  const kept = new Set<Tensor>();
  collect(result, kept);
  const made = new Set<Tensor>();
  for (const t of mine) {
    if (kept.has(t)) made.add(t);
    else t.dispose();
  }
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of made) parent.add(t);
  return { result, made };
}

/**
 * Runs `fn` and disposes every tensor created inside it, except tensors in
 * its return value (a tensor, or arrays / plain objects holding tensors),
 * which move to the enclosing scope. Parameters (tensors created with
 * `requiresGrad: true`), gradients and optimizer state are never collected.
 * A returned (or keep()-exempted) tensor keeps its graph: `scope(() =>
 * model.forward(x))` can be followed by backward(). `fn` must be
 * synchronous: await the result's data() after the scope.
 */
export function scope<T>(fn: () => T): T {
  syncFunction('scope', fn, 'tensors made after its first await would escape the scope. Put scope(() => ...) around the synchronous tensor work and await data() outside it');
  return scopeMade(fn).result;
}

/** Disposes every tensor in the arguments (tensors, arrays, plain objects). */
export function dispose(...values: unknown[]): void {
  const all = new Set<Tensor>();
  for (const v of values) collect(v, all);
  for (const t of all) t.dispose();
}
