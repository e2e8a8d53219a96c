// Module: named parameters, buffers and sub-modules, registered explicitly.
import type { DeviceName } from '../backends/backend.js';
import { fail } from '../errors.js';
import { keep } from '../memory.js';
import { bool, describe, options } from '../options.js';
import { clearGrads, Tensor } from '../tensor.js';
import { loadState, type LoadStateDictOptions, type LoadStateDictResult, type StateDictInput } from './state-dict.js';

export abstract class Module {
  private readonly params = new Map<string, Tensor>();
  private readonly bufs = new Map<string, { t: Tensor | null; persistent: boolean }>();
  private readonly children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

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
    this.children.set(name, m);
    return m;
  }

  private checkName(op: string, name: string): void {
    // Dots separate path segments in stateDict keys; a sub-module may take a dotted name ("layers.0").
    const dotted = typeof name === 'string' && name.includes('.');
    if (typeof name !== 'string' || name === '' || (dotted && op !== 'registerModule')) {
      fail(op, `name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    }
    // Registering a name again replaces the entry (as assigning a parameter in PyTorch), but only with its own kind.
    const kinds: [string, Map<string, unknown>][] = [['registerParameter', this.params], ['registerBuffer', this.bufs], ['registerModule', this.children]];
    for (const [kind, map] of kinds) if (kind !== op && map.has(name)) fail(op, `'${name}' is already registered by ${kind}`);
  }

  /** Every parameter, with a dotted path (e.g. "layers.0.weight"), in registration order. */
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, t] of this.params) yield [prefix + n, t];
    for (const [n, m] of this.children) yield* m.namedParameters(`${prefix}${n}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }

  /** Every buffer that holds a tensor, with a dotted path, in registration order. */
  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, b] of this.bufs) if (b.t) yield [prefix + n, b.t];
    for (const [n, m] of this.children) yield* m.namedBuffers(`${prefix}${n}.`);
  }

  buffers(): Tensor[] {
    return [...this.namedBuffers()].map(([, t]) => t);
  }

  /**
   * The tensors stateDict() saves and loadStateDict() loads, keyed as in
   * PyTorch: per module its parameters, then its persistent buffers, then each
   * child under `name.` (e.g. "layers.0.weight", "layers.0.bias", "layers.1.weight").
   */
  private *stateEntries(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, t] of this.params) yield [prefix + n, t];
    for (const [n, b] of this.bufs) if (b.t && b.persistent) yield [prefix + n, b.t];
    for (const [n, m] of this.children) yield* m.stateEntries(`${prefix}${n}.`);
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
  loadStateDict(sd: StateDictInput, opts?: LoadStateDictOptions): LoadStateDictResult {
    return loadState(new Map(this.stateEntries()), sd, opts);
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
    for (const m of this.children.values()) await m.prepare(batch);
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
