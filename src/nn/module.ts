// Module: named parameters and sub-modules, registered explicitly.
import type { DeviceName } from '../backends/backend.js';
import { clearGrads, type Tensor } from '../tensor.js';

export abstract class Module {
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  protected registerParameter<T extends Tensor>(name: string, t: T): T {
    this.params.set(name, t);
    return t;
  }
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Every parameter, with a dotted path (e.g. "layers.0.weight"). */
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, t] of this.params) yield [prefix + n, t];
    for (const [n, m] of this.children) yield* m.namedParameters(`${prefix}${n}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
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

  /** Frees every parameter and gradient; the module is unusable afterwards. */
  dispose(): void {
    clearGrads(this.parameters());
    for (const p of this.parameters()) p.dispose();
  }
}
