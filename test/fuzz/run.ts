// One fuzz run's state: the tensors it made (library + float64 model), the
// optimizer, the pending value checks, and the helpers every step uses.
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import type { DeviceName } from '../../src/backends/backend.js';
import { Storage, type Tensor } from '../../src/tensor.js';
import { rng, type Rng } from '../helpers/random.js';
import type { Nd } from '../reference/ops.js';
import { gradTol, makeSlot, maxAbs, sizeOf, slotTol, type Check, type Node, type Slot } from './model.js';

/** The fuzz step: which kind, and numbers each kind reads as it needs (indices, sizes, variants). */
export interface Step { kind: string; a: number; b: number; c: number; seed: number }

export interface OptimModel {
  o: lp.optim.Optimizer;
  kind: 'sgd' | 'adam' | 'adamw';
  params: Slot[];
  h: { lr: number; momentum: number; weightDecay: number; nesterov: boolean; betas: [number, number]; eps: number };
  state: Map<Slot, { m: Float64Array; v: Float64Array; t: number }>;
}

export class Run {
  readonly slots: Slot[] = [];
  readonly checks: Check[] = [];
  optim: OptimModel | null = null;
  /** Tensors the run made besides its slots (gradients handed to backward, wrong-shaped grads …), freed at the end. */
  readonly extra: Tensor[] = [];
  readonly counts = new Map<string, number>();
  r: Rng = rng(1);
  private n = 0;

  constructor(readonly device: DeviceName, readonly other: DeviceName | null) {}

  count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  live(pred: (s: Slot) => boolean = () => true): Slot[] {
    return this.slots.filter((s) => !s.disposed && pred(s));
  }

  /** The k-th (modulo) live slot satisfying `pred`, or null. */
  pick(k: number, pred: (s: Slot) => boolean = () => true): Slot | null {
    const l = this.live(pred);
    return l.length ? l[k % l.length] : null;
  }

  /** Registers a tensor the library made and the model's view of it, and queues the comparison of its values. */
  add(t: Tensor, v: Nd, tol: number, grid: number | null, inputs: Slot[], node: Omit<Node, 'inputs' | 'versions' | 'values'> | null,
    opts: { leaf?: boolean; requiresGrad?: boolean; device?: DeviceName; pool?: boolean; alias?: Slot } = {}): Slot {
    const requiresGrad = opts.requiresGrad ?? inputs.some((x) => x.requiresGrad);
    const s = makeSlot({
      name: `#${this.n++} ${node?.op ?? 'leaf'}`, t, v, requiresGrad, leaf: opts.leaf ?? !node, freed: false, disposed: false,
      device: opts.device ?? inputs[0]?.device ?? this.device, grad: null,
      store: opts.alias?.store ?? { tol, grid, version: 0, views: [] },
      node: node && requiresGrad ? { ...node, inputs, values: inputs.map((x) => x.v), versions: inputs.map((x) => x.version) } : null,
    });
    assert.equal([...t.shape], v.shape, `${s.name}: shape`);
    assert.is(t.requiresGrad, requiresGrad, `${s.name}: requiresGrad`);
    assert.is(t.device, s.device, `${s.name}: device`);
    if (opts.pool !== false) this.slots.push(s);
    this.read(s);
    return s;
  }

  /** Queues a comparison of the slot's current values (read now, compared at the end of the run). */
  read(s: Slot, what = 'values'): void {
    this.checks.push({ what: `${s.name} ${what}`, got: s.t.data(), want: Float64Array.from(s.v.data), tol: slotTol(s) });
  }

  readGrad(s: Slot): void {
    const g = s.t.grad;
    if (!s.grad) { assert.is(g, null, `${s.name}: .grad should be null`); return; }
    assert.ok(g, `${s.name}: .grad missing`);
    assert.equal([...g!.shape], s.v.shape, `${s.name}: .grad shape`);
    this.checks.push({ what: `${s.name} .grad`, got: g!.data(), want: Float64Array.from(s.grad.v.data), tol: gradTol(s) });
  }

  /** Host data on a grid of 1/8 in [-2, 2] (exact under +, −, ×), or normal samples from a seeded Generator. */
  data(shape: number[], kind: 'grid' | 'randn' = 'grid', seed = 0): { v: Nd; grid: number | null } {
    const n = sizeOf(shape);
    if (kind === 'randn') {
      const g = new lp.Generator(seed);
      return { v: { data: Float64Array.from({ length: n }, () => Math.fround(g.normal())), shape }, grid: null };
    }
    return { v: { data: Float64Array.from({ length: n }, () => Math.round(this.r.uniform(-16, 16)) / 8), shape }, grid: 1 / 8 };
  }

  /** A new tensor from host data (a leaf), with its model. */
  leaf(shape: number[], requiresGrad: boolean, device = this.device, pool = true): Slot {
    const { v, grid } = this.data(shape);
    const t = lp.tensor(Float32Array.from(v.data), shape, { requiresGrad, device });
    return this.add(t, v, 0, grid, [], null, { leaf: true, requiresGrad, device, pool });
  }

  /** A random shape of rank 0 … 3 with sizes 1 … 4. */
  shape(k: number): number[] {
    const rank = k % 4;
    return Array.from({ length: rank }, () => 1 + Math.floor(this.r.next() * 4));
  }

  /** Runs a call that must be refused: a LeptonError matching `re`, no storage made or freed. */
  refused(what: string, re: RegExp, f: () => unknown): void {
    const before = Storage.live;
    try {
      f();
    } catch (e) {
      assert.instance(e, lp.LeptonError, `${what}: expected a LeptonError, got ${String(e)}`);
      assert.match((e as Error).message, re, `${what}: the message was: ${(e as Error).message}`);
      assert.is(Storage.live, before, `${what}: the failed call changed the live storage count`);
      this.count(`refused ${what}`);
      return;
    }
    assert.unreachable(`${what}: was accepted (expected ${re})`);
  }

  /** Queues a check of everything the run holds: values of live slots, leaves' gradients. */
  readAll(): void {
    for (const s of this.live()) {
      this.read(s);
      if (s.leaf) this.readGrad(s);
    }
  }

  /** Frees every tensor the run made; returns how many storages that should have left alive (0). */
  disposeAll(): void {
    for (const s of this.slots) {
      if (s.leaf) { s.t.grad?.dispose(); s.t.grad = null; }
      s.t.dispose();
    }
    this.optim?.o.dispose();
    for (const t of this.extra) t.dispose();
  }
}

/** Largest |value| of a slot, for the model's error bounds. */
export const mag = (s: Slot) => maxAbs(s.v.data);
