// Fuzz steps that make and change state: creation, backward (valid forms, and
// refusals the model predicts), optimizers (new, step, lr, zeroGrad), dispose.
import * as lp from '../../src/index.js';
import * as kref from '../reference/kernels.js';
import type { Nd } from '../reference/ops.js';
import { backwardRefusal, maxAbs, modelBackward, R, sizeOf, type Slot } from './model.js';
import { mag, type Run, type Step } from './run.js';

export function create(run: Run, s: Step): void {
  const shape = run.shape(s.a);
  const requiresGrad = s.b % 2 === 0;
  const device = run.other && s.c % 7 === 6 ? run.other : run.device;
  const kind = s.c % 4;
  if (kind === 3) {
    const { v } = run.data(shape, 'randn', s.seed);
    const t = lp.randn(shape, { seed: s.seed, requiresGrad, device });
    run.add(t, v, 0, null, [], null, { leaf: true, requiresGrad, device });
  } else if (kind === 2) {
    const value = [0, 1, -0.5][s.seed % 3];
    const t = value === 0 ? lp.zeros(shape, { requiresGrad, device }) : value === 1 ? lp.ones(shape, { requiresGrad, device }) : lp.full(shape, value, { requiresGrad, device });
    run.add(t, { data: new Float64Array(sizeOf(shape)).fill(value), shape }, 0, 0.5, [], null, { leaf: true, requiresGrad, device });
  } else {
    const { v, grid } = run.data(shape);
    // Nested arrays, or flat data with the shape.
    const nest = (dim: number, off: number): lp.NestedArray => (dim === shape.length ? v.data[off]
      : Array.from({ length: shape[dim] }, (_, i) => nest(dim + 1, off + i * sizeOf(shape.slice(dim + 1)))));
    const t = kind === 0 ? lp.tensor(nest(0, 0), { requiresGrad, device }) : lp.tensor(Array.from(v.data), shape, { requiresGrad, device });
    run.add(t, v, 0, grid, [], null, { leaf: true, requiresGrad, device });
  }
  run.count('create');
}

/** backward() from a live tensor that requires a gradient: through the whole graph, as the model predicts. */
export function backward(run: Run, s: Step): void {
  const root = run.pick(s.a, (x) => x.requiresGrad);
  if (!root) return;
  const retainGraph = s.c % 4 === 0;
  const scalar = root.v.data.length === 1 && s.b % 3 !== 0;
  let grad: lp.Tensor | null = null, seed: Nd = { data: new Float64Array(root.v.data.length).fill(1), shape: [...root.v.shape] };
  if (!scalar) {
    const g = run.leaf([...root.v.shape], false, root.device, false);
    grad = g.t;
    run.extra.push(grad);
    seed = g.v;
  }
  const refusal = backwardRefusal(root);
  const call = () => {
    const form = s.b % 3;
    if (grad) return root.t.backward(grad, retainGraph || form === 1 ? { retainGraph } : undefined);
    return form === 1 ? root.t.backward({ retainGraph }) : form === 2 ? root.t.backward(null, { retainGraph }) : root.t.backward(undefined, { retainGraph });
  };
  if (refusal) {
    run.refused('backward through a freed or updated graph', refusal, call);
    return;
  }
  call();
  for (const leaf of modelBackward(root, seed, retainGraph)) run.readGrad(leaf);
  run.count(retainGraph ? 'backward retainGraph' : 'backward');
}

export function zeroGrad(run: Run, s: Step): void {
  if (run.optim && s.b % 2 === 0) {
    run.optim.o.zeroGrad();
    for (const p of run.optim.params) p.grad = null;
    run.count('optimizer zeroGrad');
    return;
  }
  const x = run.pick(s.a, (t) => t.leaf && t.t.grad !== null);
  if (!x) return;
  x.t.grad!.dispose();
  x.t.grad = null;
  x.grad = null;
  run.count('grad cleared');
}

export function dispose(run: Run, s: Step): void {
  const x = run.pick(s.a);
  if (!x) return;
  if (s.b % 2) x.t.dispose(); else lp.dispose([x.t]);
  x.disposed = true;
  run.count('dispose');
}

export function optimizer(run: Run, s: Step): void {
  const o = run.optim;
  if (!o) return newOptimizer(run, s);
  if (s.b % 4 === 3) {
    const lr = [0.5, 0.01, 0.1][s.c % 3];
    o.o.lr = lr;
    o.h.lr = lr;
    run.count('optimizer lr set');
    return;
  }
  step(run, o);
}

function newOptimizer(run: Run, s: Step): void {
  const params = run.live((x) => x.leaf && x.requiresGrad).slice(0, 1 + (s.a % 4));
  if (!params.length) return;
  const kind = (['sgd', 'adam', 'adamw'] as const)[s.b % 3];
  const h = { lr: [0.1, 0.01, 0.5][s.c % 3], momentum: s.seed % 2 ? 0.9 : 0, weightDecay: s.seed % 3 ? 0 : 0.01, nesterov: s.seed % 4 === 1, betas: [0.9, 0.999] as [number, number], eps: 1e-8 };
  if (h.nesterov && !h.momentum) h.nesterov = false;
  const ts = params.map((p) => p.t);
  const o = kind === 'sgd' ? new lp.optim.SGD(ts, { lr: h.lr, momentum: h.momentum, weightDecay: h.weightDecay, nesterov: h.nesterov })
    : kind === 'adam' ? new lp.optim.Adam(ts, { lr: h.lr, weightDecay: h.weightDecay }) : new lp.optim.AdamW(ts, { lr: h.lr, weightDecay: h.weightDecay });
  if (kind === 'adamw' && h.weightDecay === 0) h.weightDecay = 0.01; // AdamW's default
  run.optim = { o, kind, params, h, state: new Map() };
  run.count(`optimizer ${kind}`);
}

/** An in-place update: the parameter and every view of its storage see the new values. */
function update(p: Slot, values: Float64Array): void {
  for (const view of p.store.views) view.v = { data: values, shape: view.v.shape };
}

function step(run: Run, o: NonNullable<Run['optim']>): void {
  if (o.params.some((p) => p.disposed)) {
    run.refused('step with a disposed parameter', /optim\.\w+\.step: argument 'params\[\d+\]' .*was disposed/, () => o.o.step());
    return;
  }
  const withGrad = o.params.filter((p) => p.grad);
  // Adam turns a gradient's sign into a full step: only where each gradient stands clear of its error.
  if (o.kind !== 'sgd' && !withGrad.every((p) => p.grad!.v.data.every((g, i) => Math.abs(g) > 1e3 * 8 * (p.grad!.tol + R) * (p.grad!.scale[i] + 1e-3 * maxAbs(p.grad!.scale))))) return;
  o.o.step();
  for (const p of withGrad) {
    const g = p.grad!.v.data, before = mag(p);
    const gErr = 8 * (p.grad!.tol + R) * 2 * maxAbs(p.grad!.scale);
    let st = o.state.get(p);
    if (o.kind === 'sgd') {
      const v = st?.v ?? (o.h.momentum ? new Float64Array(g.length) : null);
      const r = kref.sgd(p.v.data, g, v, o.h);
      update(p, r.p);
      if (r.v) o.state.set(p, { m: new Float64Array(0), v: r.v, t: 0 });
      p.tol += o.h.lr * (gErr * (o.h.nesterov ? 3 : o.h.momentum ? 10 : 1) + o.h.weightDecay * p.tol) + R * (before + mag(p));
    } else {
      st ??= { m: new Float64Array(g.length), v: new Float64Array(g.length), t: 0 };
      st.t++;
      const r = kref.adam(p.v.data, g, st.m, st.v, {
        lr: o.h.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.h.weightDecay, decoupled: o.kind === 'adamw',
        biasCorrection1: 1 - 0.9 ** st.t, biasCorrection2: 1 - 0.999 ** st.t,
      });
      o.state.set(p, { m: r.m, v: r.v, t: st.t });
      update(p, r.p);
      p.tol += o.h.lr * 1e-2 + R * (before + mag(p));
    }
    p.grid = null;
    p.version++;
    for (const view of p.store.views) if (!view.disposed) run.read(view, 'after step');
  }
  run.count(`optimizer step ${o.kind}`);
}
