// Valid fuzz steps with structure: reshape / transpose / broadcastTo, matmul
// and linear against a new weight, softmax / logSoftmax along an axis,
// crossEntropy and mse. Same contract as ops.ts.
import * as lp from '../../src/index.js';
import * as ref from '../reference/ops.js';
import { activationGrad } from '../reference/math.js';
import { gridOf, maxAbs, R, sizeOf } from './model.js';
import { derivativeScale } from './ops.js';
import { mag, type Run, type Step } from './run.js';

const map = (x: ref.Nd, f: (v: number) => number): ref.Nd => ({ data: x.data.map(f), shape: x.shape });
const absAll = (r: ref.Nd[]) => r.map((x) => map(x, Math.abs));

export function shapeOp(run: Run, s: Step): void {
  const x = run.pick(s.a);
  if (!x) return;
  const shape = x.v.shape, rank = shape.length;
  const kind = s.b % 3;
  if (kind === 0) {
    // reshape: the sizes reversed, or flat, with one size given as -1 where there is one.
    const target = s.c % 2 ? [...shape].reverse() : [sizeOf(shape)];
    const asked = target.length && s.seed % 2 ? target.map((d, i) => (i === 0 ? -1 : d)) : target;
    const t = s.seed % 3 === 0 ? x.t.reshape(asked) : lp.reshape(x.t, asked);
    run.add(t, { data: x.v.data, shape: target }, x.tol, x.grid, [x], {
      op: 'reshape', saves: [false], vjp: (g) => [{ data: g.data, shape }],
    }, { alias: x });
  } else if (kind === 1) {
    const perm = shape.map((_, i) => i);
    run.r.next();
    for (let i = rank - 1; i > 0; i--) { const j = Math.floor(run.r.next() * (i + 1)); [perm[i], perm[j]] = [perm[j], perm[i]]; }
    const t = s.c % 2 ? x.t.transpose(perm) : lp.transpose(x.t, perm);
    run.add(t, ref.transposeForward(x.v, perm), x.tol, x.grid, [x], {
      op: 'transpose', saves: [false], vjp: (g, abs, [X]) => absIf(abs, ref.transposeVjp(X, perm, g)),
    });
  } else {
    const target = [1 + (s.c % 3), ...shape];
    run.add(lp.broadcastTo(x.t, target), ref.expand(x.v, target), x.tol, x.grid, [x], {
      op: 'broadcastTo', saves: [false], vjp: (g) => [ref.sumTo(g, shape)],
    });
  }
  run.count(`shape ${['reshape', 'transpose', 'broadcastTo'][kind]}`);
}

const absIf = (abs: boolean, r: ref.Nd[]) => (abs ? absAll(r) : r);

/** x [..., K] (a live slot of rank 1 or 2) times a new weight [K, N]. */
export function matmul(run: Run, s: Step): void {
  const x = run.pick(s.a, (t) => t.v.shape.length === 1 || t.v.shape.length === 2);
  if (!x) return;
  const K = x.v.shape[x.v.shape.length - 1];
  const w = run.leaf(s.c % 2 ? [K] : [K, 1 + (s.b % 4)], s.seed % 2 === 0, x.device);
  const [a, b] = s.seed % 3 === 0 && x.v.shape.length === 1 ? [w.v.shape.length === 2 ? null : w, x] : [x, w];
  if (!a) return;
  const out = ref.matmulForward(a.v, b.v);
  const bound = K * mag(a) * mag(b);
  const grid = a.tol === 0 && b.tol === 0 && a.grid && b.grid ? gridOf(a.grid * b.grid, out.data, bound) : null;
  const tol = grid !== null ? 0 : K * (mag(a) * b.tol + a.tol * mag(b)) + R * bound;
  run.add(s.c % 3 === 0 ? a.t.matmul(b.t) : lp.matmul(a.t, b.t), out, tol, grid, [a, b], {
    op: 'matmul', saves: [b.requiresGrad, a.requiresGrad],
    vjp: (g, abs, [A, B]) => (abs ? ref.matmulVjpScale(A, B, g) : ref.matmulVjp(A, B, g)),
  });
  run.count('matmul');
}

const ACTS = ['none', 'relu', 'gelu', 'tanh', 'sigmoid'] as const;

/** act(x·w + b) with x a live slot [..., K] and a new w [K, N], b [N] or none. */
export function linear(run: Run, s: Step): void {
  const x = run.pick(s.a, (t) => t.v.shape.length >= 1);
  if (!x) return;
  const K = x.v.shape[x.v.shape.length - 1], N = 1 + (s.b % 4);
  const act = ACTS[s.c % ACTS.length];
  const w = run.leaf([K, N], s.seed % 2 === 0, x.device), b = s.seed % 3 ? run.leaf([N], s.seed % 5 !== 0, x.device) : null;
  const pre = ref.linearForward(x.v, w.v, b?.v ?? null, 'none');
  const bound = K * mag(x) * mag(w) + (b ? mag(b) : 0);
  const preTol = K * (mag(x) * w.tol + x.tol * mag(w)) + (b?.tol ?? 0) + R * bound;
  if (act === 'relu' && preTol > 0 && !pre.data.every((v) => Math.abs(v) > 1e3 * preTol + 1e-4)) return;
  const out = ref.linearForward(x.v, w.v, b?.v ?? null, act);
  const L = Math.max(...Array.from(pre.data, (v) => Math.abs(activationGrad(act, v))));
  const exact = (act === 'none' || act === 'relu') && x.tol === 0 && w.tol === 0 && (b?.tol ?? 0) === 0 && x.grid && w.grid
    && gridOf(x.grid * w.grid, out.data, bound) !== null;
  const inputs = b ? [x, w, b] : [x, w];
  run.add(lp.linear(x.t, w.t, b?.t ?? null, act), out, exact ? 0 : L * preTol + R * maxAbs(out.data), exact ? x.grid! * w.grid! : null, inputs, {
    op: 'linear', saves: [w.requiresGrad, x.requiresGrad, false],
    vjp: (g, abs, [X, W, B]) => {
      if (!abs) return ref.linearVjp(X, W, B ?? null, act, g);
      // |g|·(the terms of act′), then the products over |terms|: what each gradient is accurate to.
      const z = ref.linearForward(X, W, B ?? null, 'none');
      const dz = { data: z.data.map((v, i) => Math.abs(g.data[i]) * derivativeScale(act, v)), shape: z.shape };
      return ref.linearVjp(ref.absNd(X), ref.absNd(W), B ? ref.absNd(B) : null, 'none', dz);
    },
  });
  run.count(`linear ${act}`);
}

export function softmax(run: Run, s: Step): void {
  const x = run.pick(s.a, (t) => t.v.shape.length >= 1);
  if (!x) return;
  const rank = x.v.shape.length, axis = (s.b % (2 * rank)) - rank;
  const log = s.c % 2 === 1;
  const out = ref.softmaxForward(x.v, axis < 0 ? axis + rank : axis, log);
  const t = s.seed % 2 ? (log ? x.t.logSoftmax(axis) : x.t.softmax(axis)) : (log ? lp.logSoftmax(x.t, axis) : lp.softmax(x.t, axis));
  run.add(t, out, 2 * x.tol + R * Math.max(1, maxAbs(out.data)) * 4, null, [x], {
    op: log ? 'logSoftmax' : 'softmax', saves: [false],
    vjp: (g, abs, [X]) => ref.softmaxVjp(X, axis < 0 ? axis + rank : axis, log, g, abs),
  });
  run.count(log ? 'logSoftmax' : 'softmax');
}

export function loss(run: Run, s: Step): void {
  if (s.b % 2 === 0) {
    const x = run.pick(s.a, (t) => t.v.shape.length === 2 && t.v.shape[1] >= 1);
    if (!x) return;
    const [N, C] = x.v.shape;
    const labels = Array.from({ length: N }, (_, i) => (s.seed + i * 5) % C);
    const target = ref.nd(new Float64Array(N * C).map((_, j) => (labels[Math.floor(j / C)] === j % C ? 1 : 0)), [N, C]);
    const reduction = (['mean', 'sum', 'none'] as const)[s.c % 3];
    const out = ref.crossEntropyForward(x.v, target, reduction);
    const lp_ = ref.softmaxForward(x.v, 1, true);
    const t = s.seed % 2 ? lp.crossEntropy(x.t, labels, { reduction }) : lp.nn.crossEntropy(x.t, labels, reduction === 'mean' ? undefined : { reduction });
    run.add(t, out, (2 * x.tol + R * Math.max(1, maxAbs(lp_.data)) * 4) * (reduction === 'sum' ? N : 1), null, [x], {
      op: 'crossEntropy', saves: [false],
      vjp: (g, abs, [X]) => [ref.crossEntropyVjp(X, target, g, reduction, abs)[0]],
    });
    run.count(`crossEntropy ${reduction}`);
  } else {
    const x = run.pick(s.a);
    if (!x) return;
    const y = run.leaf([...x.v.shape], s.seed % 2 === 0, x.device);
    const diff = maxAbs(x.v.data.map((v, i) => v - y.v.data[i]));
    run.add(lp.mse(x.t, y.t), ref.mseForward(x.v, y.v), 2 * diff * (x.tol + y.tol) + R * (diff * diff + 4 * diff * (mag(x) + mag(y))), null, [x, y], {
      op: 'mse', saves: [false, false],
      vjp: (g, abs, [X, Y]) => absIf(abs, ref.mseVjp(X, Y, g)),
    });
    run.count('mse');
  }
}
