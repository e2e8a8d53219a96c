// Valid steps of the fuzz test: each calls the public API the way a user
// would and extends the float64 model with the reference forward, its VJP and
// an error bound. A step whose inputs fall outside what float32 can be
// compared on (a kink within rounding, exp overflow, a near-zero divisor) is
// skipped: the model must be exact about what it expects.
import * as lp from '../../src/index.js';
import * as ref from '../reference/ops.js';
import { unaryDerivative, type Nd } from '../reference/ops.js';
import { geluGradScale, sigmoid } from '../reference/math.js';
import { gridOf, maxAbs, R, sizeOf, type Slot } from './model.js';
import { mag, type Run, type Step } from './run.js';

const map = (x: Nd, f: (v: number, i: number) => number): Nd => ({ data: x.data.map(f), shape: x.shape });
const minAbs = (a: ArrayLike<number>) => { let m = Infinity; for (let i = 0; i < a.length; i++) m = Math.min(m, Math.abs(a[i])); return m; };
/** A kink (relu, abs, max ties) may be crossed only where the values are exact or further from it than their error. */
const clear = (s: Slot, d: number) => s.tol === 0 || d > 1e3 * s.tol + 1e-4;

export const UNARY = ['neg', 'exp', 'log', 'abs', 'sqrt', 'square', 'relu', 'gelu', 'tanh', 'sigmoid'] as const;
/** What each op's formula reads: 'x' its input (a leaf may be), 'y' its output. */
const SAVES: Record<string, 'x' | 'y' | null> = {
  neg: null, exp: 'y', log: 'x', abs: 'x', sqrt: 'y', square: 'x', relu: 'x', gelu: 'x', tanh: 'y', sigmoid: 'y',
};

/**
 * The size of the terms a derivative is formed from, which is what its
 * float32 value is accurate to: tanh′ = 1 − y² and sigmoid′ = y − y² cancel
 * where they are small.
 */
export function derivativeScale(op: string, v: number): number {
  if (op === 'tanh') return 1 + Math.tanh(v) ** 2;
  if (op === 'sigmoid') return sigmoid(v) + sigmoid(v) ** 2;
  if (op === 'gelu') return geluGradScale(v);
  return Math.abs(unaryDerivative[op === 'none' ? 'clone' : op](v));
}

/** The model of `op(x)`, or null where it would not compare cleanly. */
export function unaryModel(run: Run, op: string, x: Slot, t: () => lp.Tensor, pool = true): Slot | null {
  const xs = x.v.data;
  if (op === 'exp' && maxAbs(xs) > 3) return null;
  if ((op === 'log' || op === 'sqrt') && Math.min(...xs) < 0.25) return null;
  if ((op === 'relu' || op === 'abs') && !clear(x, minAbs(xs))) return null;
  if (op === 'square' && mag(x) > 30) return null;
  const out = ref.unaryForward(op, x.v);
  const d = unaryDerivative[op];
  const exact = x.tol === 0 && (op === 'neg' || op === 'abs' || op === 'relu' || (op === 'square' && gridOf(x.grid && x.grid ** 2, out.data) !== null));
  const L = Math.max(...Array.from(xs, (v) => Math.abs(d(v))));
  const tol = exact ? 0 : L * x.tol + R * maxAbs(out.data);
  const grid = exact ? (op === 'square' ? x.grid! ** 2 : x.grid) : null;
  return run.add(t(), out, tol, grid, [x], {
    op, saves: [SAVES[op] === 'x'],
    vjp: (g, abs, [X]) => [map(X, (v, i) => g.data[i] * (abs ? derivativeScale(op, v) : d(v)))],
  }, { pool });
}

export function unary(run: Run, s: Step): void {
  const x = run.pick(s.a);
  if (!x) return;
  const op = UNARY[s.b % UNARY.length];
  const viaMethod = s.c % 2 === 0;
  const call = () => (viaMethod ? (x.t as unknown as Record<string, () => lp.Tensor>)[op]() : (lp as unknown as Record<string, (t: lp.Tensor) => lp.Tensor>)[op](x.t));
  if (s.c % 5 === 4) {
    // Under noGrad: the same values, no graph.
    const y = unaryModel(run, op, { ...x, requiresGrad: false }, () => lp.noGrad(call));
    if (y) y.node = null;
  } else if (s.c % 5 === 3 && x.requiresGrad) {
    // Two ops inside a scope: the intermediate is freed when it returns, the graph keeps what backward reads.
    let inner: Slot | null = null;
    const op2 = UNARY[(s.b + 3) % UNARY.length];
    const fn2 = (lp as unknown as Record<string, (t: lp.Tensor) => lp.Tensor>)[op2];
    let result: lp.Tensor | null = null;
    lp.scope(() => {
      inner = unaryModel(run, op, x, call, false);
      if (inner) {
        const i = inner as Slot;
        const y = unaryModel(run, op2, i, () => (result = fn2(i.t)));
        if (!y) result = null;
      }
      return result;
    });
    if (inner) (inner as Slot).disposed = true;
    run.count('scope');
  } else {
    unaryModel(run, op, x, call);
  }
  run.count(`unary ${op}`);
}

/** A shape `b` broadcasts against `a` with: some sizes set to 1, maybe fewer leading axes. */
function broadcastable(run: Run, a: number[], k: number): number[] {
  const drop = a.length ? k % (a.length + 1) : 0;
  return a.slice(drop).map((d) => (run.r.next() < 0.4 ? 1 : d));
}

const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const;

export function binary(run: Run, s: Step): void {
  const a = run.pick(s.a);
  if (!a) return;
  const op = BINARY[s.b % BINARY.length];
  const form = s.c % 4;
  if (form === 0) return numberOperand(run, op, a, s);
  // The other operand: a live slot whose shape broadcasts, or a new one.
  const ok = (x: Slot) => x.device === a.device && x !== a && canBroadcast(a.v.shape, x.v.shape);
  const b = form === 1 ? run.pick(s.c, ok) ?? run.leaf(broadcastable(run, a.v.shape, s.c), s.seed % 2 === 0, a.device)
    : run.leaf(broadcastable(run, a.v.shape, s.c), s.seed % 2 === 0, a.device);
  const [x, y] = s.seed % 3 === 0 ? [b, a] : [a, b];
  const out = ref.binaryForward(op, x.v, y.v);
  const shape = out.shape, X = ref.expand(x.v, shape).data, Y = ref.expand(y.v, shape).data;
  if (op === 'div' && minAbs(Y) < 0.25) return;
  if ((op === 'maximum' || op === 'minimum') && !X.every((v, i) => (v === Y[i] ? x.tol === 0 && y.tol === 0 : clear(x, Math.abs(v - Y[i])) && clear(y, Math.abs(v - Y[i]))))) return;
  if (maxAbs(out.data) > 1e3) return;
  const [mx, my] = [maxAbs(X), maxAbs(Y)];
  let tol = op === 'add' || op === 'sub' ? x.tol + y.tol + R * (mx + my)
    : op === 'mul' ? my * x.tol + mx * y.tol + R * maxAbs(out.data)
      : op === 'div' ? x.tol / minAbs(Y) + (mx * y.tol) / minAbs(Y) ** 2 + R * maxAbs(out.data)
        : Math.max(x.tol, y.tol);
  let grid: number | null = null;
  if (x.tol === 0 && y.tol === 0) {
    if (op === 'maximum' || op === 'minimum') { tol = 0; grid = x.grid && y.grid && Math.min(x.grid, y.grid); }
    else if (op !== 'div' && x.grid && y.grid) {
      grid = gridOf(op === 'mul' ? x.grid * y.grid : Math.min(x.grid, y.grid), out.data, op === 'mul' ? maxAbs(out.data) : mx + my);
      if (grid !== null) tol = 0;
    }
  }
  // What the library's node keeps: mul each operand where the other needs a gradient, div the divisor, max/min both.
  const saves = op === 'mul' ? [y.requiresGrad, x.requiresGrad] : op === 'div' ? [false, true] : op === 'add' || op === 'sub' ? [false, false] : [true, true];
  run.add(lp[op](x.t, y.t), out, tol, grid, [x, y], {
    op, saves,
    vjp: (g, abs, [X, Y]) => ref.binaryVjp(op, X, Y, g, abs),
  });
  run.count(`binary ${op}`);
}

export function canBroadcast(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i], y = b[b.length - i];
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

const NUMBERS = [2, -0.5, 0.25, 3, -2] as const;

function numberOperand(run: Run, op: (typeof BINARY)[number], x: Slot, s: Step): void {
  const c = NUMBERS[s.seed % NUMBERS.length];
  const first = s.c % 8 === 4; // c op x instead of x op c
  const X = x.v.data;
  if (op === 'div' && first && minAbs(X) < 0.25) return;
  if ((op === 'maximum' || op === 'minimum') && !X.every((v) => (v === c ? x.tol === 0 : clear(x, Math.abs(v - c))))) return;
  const f = (v: number) => (op === 'add' ? v + c : op === 'sub' ? (first ? c - v : v - c) : op === 'mul' ? v * c
    : op === 'div' ? (first ? c / v : v / c) : op === 'maximum' ? Math.max(v, c) : Math.min(v, c));
  const d = (v: number) => (op === 'add' ? 1 : op === 'sub' ? (first ? -1 : 1) : op === 'mul' ? c : op === 'div' ? (first ? -c / (v * v) : 1 / c)
    : v === c ? 0.5 : (op === 'maximum' ? v > c : v < c) ? 1 : 0);
  const out = map(x.v, f);
  if (maxAbs(out.data) > 1e3) return;
  const L = Math.max(...Array.from(X, (v) => Math.abs(d(v))));
  const exactOp = op === 'maximum' || op === 'minimum' || ((op === 'add' || op === 'sub' || op === 'mul' || (op === 'div' && !first && c !== 3)) && x.grid !== null);
  const grid = x.tol === 0 && exactOp ? (op === 'maximum' || op === 'minimum' ? x.grid && Math.min(x.grid, 0.25) : gridOf(op === 'mul' || op === 'div' ? x.grid! * 0.25 : Math.min(x.grid!, 0.25), out.data)) : null;
  const exact = x.tol === 0 && exactOp && (op === 'maximum' || op === 'minimum' || grid !== null);
  const t = first ? lp[op](c, x.t) : lp[op](x.t, c);
  run.add(t, out, exact ? 0 : L * x.tol + R * (maxAbs(out.data) + Math.abs(c)), exact ? grid : null, [x], {
    op: `${op} number`, saves: [op === 'maximum' || op === 'minimum' || (op === 'div' && first)],
    vjp: (g, abs, [X]) => [map(X, (v, i) => g.data[i] * (abs ? Math.abs(d(v)) : d(v)))],
  });
  run.count(`binary ${op} number`);
}

export function reduce(run: Run, s: Step): void {
  const x = run.pick(s.a);
  if (!x) return;
  const op = (['sum', 'mean', 'max'] as const)[s.b % 3];
  const rank = x.v.shape.length;
  const pickAxes = s.c % 3;
  const axes = pickAxes === 0 || rank === 0 ? undefined : pickAxes === 1 ? (s.seed % rank) - (s.seed % 2 ? rank : 0)
    : [...new Set(Array.from({ length: 1 + (s.seed % rank) }, (_, i) => (s.seed + i * 7) % rank))];
  const keep = s.c % 2 === 1;
  const list = axes === undefined ? x.v.shape.map((_, i) => i) : (typeof axes === 'number' ? [axes] : axes).map((a) => (a < 0 ? a + rank : a));
  const out = ref.reduceForward(op, x.v, list, keep);
  const n = sizeOf(list.map((i) => x.v.shape[i]));
  if (op === 'max') {
    // Ties are fine on exact values (the gradient is shared); otherwise the maximum must stand clear.
    const mx = ref.expand(ref.reduceForward('max', x.v, list, true), x.v.shape).data;
    if (x.tol > 0 && !x.v.data.every((v, i) => v === mx[i] || clear(x, mx[i] - v))) return;
    if (x.tol > 0 && !uniqueMax(x, list)) return;
  }
  const exactSum = op === 'sum' && x.tol === 0 && x.grid !== null && gridOf(x.grid, out.data, n * mag(x)) !== null;
  const tol = op === 'max' ? x.tol : exactSum ? 0 : op === 'sum' ? n * (x.tol + R * mag(x)) : x.tol + R * mag(x) * 2;
  const method = s.seed % 2 === 0;
  const t = method ? x.t[op](axes, keep) : lp[op](x.t, axes, keep);
  run.add(t, out, tol, op === 'max' ? x.grid : exactSum ? x.grid : null, [x], {
    op, saves: [op === 'max'],
    vjp: (g, abs, [X]) => ref.reduceVjp(op, X, list, g).map((r) => (abs ? map(r, Math.abs) : r)),
  });
  run.count(`reduce ${op}`);
}

/** Every reduced group has one maximum (a tie within rounding would share the gradient differently). */
function uniqueMax(x: Slot, axes: number[]): boolean {
  const keep = x.v.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const mx = ref.expand(ref.reduceForward('max', x.v, axes, true), x.v.shape).data;
  const hits = ref.reduceForward('sum', { data: x.v.data.map((v, i) => (v === mx[i] ? 1 : 0)), shape: x.v.shape }, axes, true).data;
  return keep.length >= 0 && hits.every((h) => h === 1);
}
