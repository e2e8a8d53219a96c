// The fuzz test's model: every tensor of a run as float64 values with an
// error bound, and a reverse-mode autograd in float64 over the references of
// test/reference/ops.ts, predicting what the library's backward() gives (or
// refuses: a graph already freed, a saved tensor updated in place since).
import * as assert from 'uvu/assert';
import type { DeviceName } from '../../src/backends/backend.js';
import type { Tensor } from '../../src/tensor.js';
import type { Nd } from '../reference/ops.js';

/** Relative rounding budget of one op (float32, polynomial transcendentals, WebGPU's looser exp). */
export const R = 2e-6;

export interface Node {
  op: string;
  inputs: Slot[];
  /** The inputs' values when the op ran: the formula's arguments (as the library's saved tensors). */
  values: Nd[];
  /** Which inputs the library's node keeps a reference to (its formula reads them). */
  saves: boolean[];
  /** Each input's version when the op ran. */
  versions: number[];
  /** Gradient contributions per input for the output gradient g; with `abs`, |terms| summed (the scale). */
  vjp(g: Nd, abs: boolean, values: Nd[]): (Nd | null)[];
}

/** What views of one storage share (reshape): an in-place update changes all of them. */
export interface Storage {
  /** Absolute error bound of the library's values; 0 where they are equal to the model's (exact arithmetic). */
  tol: number;
  /** The values are multiples of `grid` and small: +, −, × of such values are exact in float32. */
  grid: number | null;
  /** Bumped by in-place updates (an optimizer step). */
  version: number;
  views: Slot[];
}

export interface Slot {
  name: string;
  t: Tensor;
  /** The values (never changed in place: an update replaces the object, so nodes keep what they read). */
  v: Nd;
  store: Storage;
  tol: number;
  grid: number | null;
  version: number;
  requiresGrad: boolean;
  leaf: boolean;
  node: Node | null;
  /** The node was released by a backward (a later one through it is refused). */
  freed: boolean;
  disposed: boolean;
  device: DeviceName;
  /** Model of a leaf's .grad: values and the scale each element is accurate to. */
  grad: { v: Nd; scale: Float64Array; tol: number } | null;
}

/** A slot whose tol, grid and version live in `store` (shared with its views). */
export function makeSlot(fields: Omit<Slot, 'tol' | 'grid' | 'version'>): Slot {
  const s = fields as Slot;
  for (const k of ['tol', 'grid', 'version'] as const) {
    Object.defineProperty(s, k, { get: () => s.store[k], set: (v) => { (s.store as unknown as Record<string, unknown>)[k] = v; }, enumerable: true });
  }
  s.store.views.push(s);
  return s;
}

export const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
export const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The exact grid of a product or sum of grid values, if float32 still holds it exactly. */
export function gridOf(g: number | null, out: ArrayLike<number>, termsAbs = maxAbs(out)): number | null {
  return g !== null && termsAbs / g < 2 ** 22 ? g : null;
}

/** A pending comparison of the library's values with the model's, awaited at the end of the run. */
export interface Check { what: string; got: Promise<Float32Array>; want: Float64Array; tol: (i: number) => number }

export function checkValues(c: Check, got: Float32Array): void {
  assert.is(got.length, c.want.length, `${c.what}: length`);
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - c.want[i]);
    if (!(d <= c.tol(i))) {
      assert.unreachable(`${c.what}: element ${i} is ${got[i]}, the float64 model says ${c.want[i]} (difference ${d}, tolerance ${c.tol(i)})`);
    }
  }
}

/** Below float32's normal range a value may round (or flush) to 0: no comparison means anything there. */
const TINY = 1e-37;

/** The error a slot's values may have: exact (0) or the propagated bound, with a safety factor for first-order estimates. */
export const slotTol = (s: Slot) => {
  const tol = s.tol === 0 ? 0 : 8 * s.tol + TINY;
  return () => tol;
};

/** The graph backward() walks from `root`: every tensor that requires a gradient, reachable through unreleased nodes. */
export function graphOf(root: Slot): Slot[] {
  const order: Slot[] = [], seen = new Set<Slot>([root]);
  const visit = (s: Slot) => {
    for (const x of s.node && !s.freed ? s.node.inputs : []) {
      if (x.requiresGrad && !seen.has(x)) { seen.add(x); visit(x); }
    }
    order.push(s);
  };
  visit(root);
  return order.reverse();
}

/** What backward() must refuse before doing anything, as a pattern of its message; null if it runs. */
export function backwardRefusal(root: Slot): RegExp | null {
  const stale = (s: Slot) => s.freed || (s.node?.inputs.some((x, i) => s.node!.saves[i] && x.version !== s.node!.versions[i]) ?? false);
  return graphOf(root).some(stale)
    ? /^backward: (the graph through '.*' .*was already freed by an earlier backward\(\)|a tensor the gradient of '.*' reads .* was modified in place)/ : null;
}

const add = (a: Float64Array, b: Float64Array) => { for (let i = 0; i < a.length; i++) a[i] += b[i]; };

/**
 * The model's backward: accumulates into each leaf's model .grad (values and
 * scales), releases the nodes unless `retain`. Returns the leaves reached.
 */
export function modelBackward(root: Slot, seed: Nd, retain: boolean): Slot[] {
  const order = graphOf(root);
  const grads = new Map<Slot, { g: Nd; abs: Nd }>([[root, { g: seed, abs: { data: seed.data.map(Math.abs), shape: seed.shape } }]]);
  // Error budget from the forward values the formulas read, and the rounding of each step on the way.
  const fwdTol = Math.max(0, ...order.map((s) => (s.node ? s.tol / Math.max(maxAbs(s.v.data), 1e-3) : 0)));
  const leaves: Slot[] = [];
  for (const s of order) {
    const gg = grads.get(s);
    if (!gg) continue;
    if (!s.node) {
      leaves.push(s);
      const tol = R * order.length + 4 * fwdTol;
      if (!s.grad) s.grad = { v: { data: new Float64Array(gg.g.data), shape: [...s.v.shape] }, scale: new Float64Array(gg.abs.data), tol };
      else { add(s.grad.v.data, gg.g.data); add(s.grad.scale, gg.abs.data); s.grad.tol = Math.max(s.grad.tol, tol); }
      continue;
    }
    const parts = s.node.vjp(gg.g, false, s.node.values), absParts = s.node.vjp(gg.abs, true, s.node.values);
    s.node.inputs.forEach((x, i) => {
      const p = parts[i];
      if (!p || !x.requiresGrad) return;
      const a = { data: absParts[i]!.data.map(Math.abs), shape: p.shape };
      const have = grads.get(x);
      if (have) { add(have.g.data, p.data); add(have.abs.data, a.data); } else grads.set(x, { g: { data: new Float64Array(p.data), shape: p.shape }, abs: a });
    });
  }
  if (!retain) for (const s of order) if (s.node) s.freed = true;
  return leaves;
}

/** How far the library's .grad may be from the model's: relative to the scale of its terms, element by element. */
export function gradTol(s: Slot): (i: number) => number {
  const g = s.grad!;
  const top = maxAbs(g.scale);
  return (i) => 8 * (g.tol + R) * (g.scale[i] + 1e-3 * top) + TINY;
}
