// Shape arithmetic and validation shared by every op. All checks happen here,
// on the host, before a kernel is queued.
import { MAX_RANK } from './backends/backend.js';
import { fail, fmtShape } from './errors.js';
import { describe } from './options.js';

export type Shape = readonly number[];

export const sizeOf = (shape: Shape) => {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
};

export function sameShape(a: Shape, b: Shape) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major element strides. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

export function checkShape(op: string, arg: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) fail(op, `argument '${arg}' must be an array of sizes, got ${typeof shape}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      fail(op, `argument '${arg}' has size ${String(d)} in ${fmtShape(shape as number[])}; sizes must be non-negative integers`);
    }
  }
  if (shape.length > MAX_RANK) fail(op, `argument '${arg}' has rank ${shape.length} ${fmtShape(shape)}; at most ${MAX_RANK} dimensions are supported`);
  return [...shape] as number[];
}

/** numpy broadcasting of two shapes, with each input's strides in the output's index space. */
export function broadcast(op: string, a: Shape, b: Shape) {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      fail(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (dimension ${i} of the result: ${da} vs ${db}; sizes must match or be 1)`);
    }
    out[i] = da === 1 ? db : da;
  }
  return { shape: out, aStrides: stridesIn(a, out), bStrides: stridesIn(b, out) };
}

/** Strides of `shape` right-aligned inside `out`, 0 on broadcast dimensions. */
export function stridesIn(shape: Shape, out: Shape): number[] {
  const s = new Array<number>(out.length).fill(0);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = out.length - shape.length + i;
    s[d] = shape[i] === 1 && out[d] !== 1 ? 0 : acc;
    acc *= shape[i];
  }
  return s;
}

/** Normalises `axis` (number, array, or undefined = all) against `rank`; negative axes count from the end. */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const isInt = (a: unknown) => typeof a === 'number' && Number.isInteger(a);
  if (!isInt(axis) && !(Array.isArray(axis) && axis.every(isInt))) {
    const hint = axis !== null && typeof axis === 'object' && !Array.isArray(axis) ? `; the axis is positional: ${op}(x, 1, true) or x.${op}(1, true)` : '';
    fail(op, `argument 'axis' must be an integer or an array of integers, got ${describe(axis)}${hint}`);
  }
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const seen = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= Math.max(rank, 1)) {
      fail(op, `axis ${a} is out of range for a tensor of rank ${rank} (needs ${-rank} <= axis < ${rank})`);
    }
    const n = a < 0 ? a + rank : a;
    if (seen.has(n)) fail(op, `axis ${a} is given twice`);
    seen.add(n);
  }
  return [...seen].sort((x, y) => x - y);
}
