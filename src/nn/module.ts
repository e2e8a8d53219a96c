// Module: named parameters, buffers and sub-modules, registered explicitly.
import type { DeviceName } from '../backends/backend.js';
import { fail } from '../errors.js';
import { keep } from '../memory.js';
import { bool, describe, options } from '../options.js';
import { clearGrads, Tensor } from '../tensor.js';
import { planLoad, type LoadPlan, type LoadStateDictOptions, type LoadStateDictResult, type StateDictInput } from './state-dict.js';

export abstract class Module {
  private readonly params = new Map<string, Tensor>();
  private readonly bufs = new Map<string, { t: Tensor | null; persistent: boolean }>();
  private readonly kids = new Map<string, Module>();

  /**
   * Training mode (PyTorch's `training`): true from construction; `eval()`
   * clears it and `train()` sets it, on this module and every descendant.
   * Layers whose forward differs in training (Dropout, BatchNorm) read it.
   */
  training = true;

  /**
   * The layer's computation. Most layers map a tensor to a tensor; recurrent
   * layers take a state too and return PyTorch's tuples ([output, h_n]), so
   * the base type fixes only the first argument, and the result is `any` so
   * that code holding a plain Module (Sequential, tests) keeps calling it as
   * a tensor layer; each subclass declares its exact signature.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  abstract forward(x: Tensor, ...rest: never[]): any;

  protected registerParameter<T extends Tensor>(name: string, t: T): T {
    this.checkName('registerParameter', name);
    if (!(t instanceof Tensor)) fail('registerParameter', `parameter '${name}' must be a Tensor, got ${describe(t)}`);
    this.params.set(name, t);
    return t;
  }

  /**
   * Registers non-trainable state (e.g. BatchNorm's running statistics):
   * saved in stateDict() unless `persistent` is false, loaded by
   * loadStateDict(), never given to an optimizer. The module owns it: it
   * outlives any enclosing scope() and dispose() frees it. `null` reserves the
   * name without a value (PyTorch's None buffers; not saved).
   */
  protected registerBuffer<T extends Tensor | null>(name: string, t: T, options_?: { persistent?: boolean }): T {
    const opts = options('registerBuffer', options_, { persistent: bool });
    this.checkName('registerBuffer', name);
    if (t !== null && !(t instanceof Tensor)) fail('registerBuffer', `buffer '${name}' must be a Tensor or null, got ${typeof t}`);
    if (t?.requiresGrad) fail('registerBuffer', `buffer '${name}' requires a gradient; trainable state is a parameter (registerParameter)`);
    if (t) keep(t);
    this.bufs.set(name, { t, persistent: opts.persistent ?? true });
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkName('registerModule', name);
    if (!(m instanceof Module)) fail('registerModule', `module '${name}' must be an nn.Module, got ${describe(m)}`);
    this.kids.set(name, m);
    return m;
  }

  private checkName(op: string, name: string): void {
    // Dots separate path segments in stateDict keys; a sub-module may take a dotted name ("layers.0").
    const dotted = typeof name === 'string' && name.includes('.');
    if (typeof name !== 'string' || name === '' || (dotted && op !== 'registerModule')) {
      fail(op, `name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    }
    // Registering a name again replaces the entry (as assigning a parameter in PyTorch), but only with its own kind.
    const kinds: [string, Map<string, unknown>][] = [['registerParameter', this.params], ['registerBuffer', this.bufs], ['registerModule', this.kids]];
    for (const [kind, map] of kinds) if (kind !== op && map.has(name)) fail(op, `'${name}' is already registered by ${kind}`);
  }

  /** Every parameter, with a dotted path (e.g. "layers.0.weight"), in registration order. */
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, t] of this.params) yield [prefix + n, t];
    for (const [n, m] of this.kids) yield* m.namedParameters(`${prefix}${n}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }

  /** Every buffer that holds a tensor, with a dotted path, in registration order. */
  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, b] of this.bufs) if (b.t) yield [prefix + n, b.t];
    for (const [n, m] of this.kids) yield* m.namedBuffers(`${prefix}${n}.`);
  }

  buffers(): Tensor[] {
    return [...this.namedBuffers()].map(([, t]) => t);
  }

  /** The direct sub-modules with their registered names, in registration order. */
  *namedChildren(): Generator<[string, Module]> {
    yield* this.kids;
  }

  children(): Module[] {
    return [...this.kids.values()];
  }

  /**
   * This module (under `prefix`, '' by default) and every descendant with its
   * dotted path ("layers.0"), depth first in registration order, each once
   * (PyTorch's `named_modules`).
   */
  *namedModules(prefix = '', seen = new Set<Module>()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix, this];
    for (const [n, m] of this.kids) yield* m.namedModules(prefix ? `${prefix}.${n}` : n, seen);
  }

  modules(): Module[] {
    return [...this.namedModules()].map(([, m]) => m);
  }

  /** Sets training mode (default true) on this module and every descendant; returns this (PyTorch's `train`). */
  train(mode = true): this {
    if (typeof mode !== 'boolean') fail('train', `argument 'mode' must be a boolean, got ${typeof mode}`);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Inference mode: `train(false)`. Pair it with `noGrad()` so no graph is recorded. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /**
   * The tensors stateDict() saves and loadStateDict() loads, keyed as in
   * PyTorch: per module its parameters, then its persistent buffers, then each
   * child under `name.` (e.g. "layers.0.weight", "layers.0.bias", "layers.1.weight").
   */
  private *stateEntries(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, t] of this.params) yield [prefix + n, t];
    for (const [n, b] of this.bufs) if (b.t && b.persistent) yield [prefix + n, b.t];
    for (const [n, m] of this.kids) yield* m.stateEntries(`${prefix}${n}.`);
  }

  /**
   * The module's state as name → tensor (PyTorch's `state_dict()`): views of
   * the parameters and persistent buffers, sharing their storage (no copy, so
   * later training steps show through; read with `await t.data()` for a
   * snapshot). The views are yours to dispose (or let a scope free them);
   * disposing one never frees the module's own tensors.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of this.stateEntries()) out[name] = t.detach();
    return out;
  }

  /**
   * Copies values into the module's parameters and buffers (PyTorch's
   * `load_state_dict`). Each value is a Tensor (any device; copied on the
   * device when it is the parameter's) or host data: a Float32Array or other
   * typed array / flat number[] with the parameter's element count (row-major),
   * or nested arrays of the parameter's shape. The tensors keep their
   * identity and device, so an optimizer holding them carries on.
   *
   * Everything is checked before anything is written: an unknown key, a key
   * the model has that `sd` lacks (both only under `strict`, the default), a
   * shape or size mismatch (always) throws a LeptonError naming the key, and
   * the module is left unchanged. Returns the keys skipped under
   * `strict: false`.
   */
  loadStateDict(sd: StateDictInput, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const plan = this.planLoadStateDict(sd, opts);
    plan.write();
    return plan.result;
  }

  /**
   * @internal loadStateDict's checks without the write: a plan whose
   * `write()` applies it. Lets a caller check several loads (a model and an
   * optimizer from one checkpoint) before applying any.
   */
  planLoadStateDict(sd: StateDictInput, opts: LoadStateDictOptions = {}, op = 'loadStateDict'): LoadPlan {
    return planLoad(new Map(this.stateEntries()), sd, opts, op);
  }

  /** The device of the first parameter. */
  get device(): DeviceName | null {
    return this.parameters()[0]?.device ?? null;
  }

  /**
   * Compiles, ahead of first use, the kernels a training step on batches of
   * `batch` rows will run (WebGPU pipelines; nothing to do on WASM). Resolves
   * when they are ready; calling forward() earlier is fine, only slower.
   */
  async prepare(batch: number): Promise<void> {
    for (const m of this.kids.values()) await m.prepare(batch);
  }

  /** Drops every parameter's gradient (frees it). */
  zeroGrad(): void {
    clearGrads(this.parameters());
  }

  /** Frees every parameter, buffer and gradient; the module is unusable afterwards. */
  dispose(): void {
    clearGrads(this.parameters());
    for (const p of this.parameters()) p.dispose();
    for (const b of this.namedBuffers()) b[1].dispose();
  }
}
