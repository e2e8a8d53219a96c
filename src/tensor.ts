// Tensor: a shape, a reference-counted storage on one backend, and autograd
// links. Reading data is async (`await t.data()`); ops only queue kernels.
import { releaseNode, backward as runBackward, type GradNode } from './autograd.js';
import type { Backend, DeviceName } from './backends/backend.js';
import { getBackend } from './backends/registry.js';
import { fail, fmtShape } from './errors.js';
import { formatTensor } from './format.js';
import { setTensorCheck, track } from './memory.js';
import { countStorage, countTensor, uncountStorage } from './memory-stats.js';
import { bool, describe, options } from './options.js';
import * as ew from './ops/elementwise.js';
import * as mm from './ops/matmul.js';
import * as red from './ops/reduce.js';
import * as shp from './ops/shape.js';
import * as sm from './ops/softmax.js';
import { sizeOf, type Shape } from './shape.js';

// Runtimes without Symbol.dispose still get a working `using` after this.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('Symbol.dispose');

/**
 * Device memory shared by a tensor, its views (reshape) and the autograd
 * graph's saved references; freed when the last of them lets go. `backend`
 * and `handle` change only when device-loss recovery moves the values to
 * another backend (src/backends/webgpu/recovery.ts).
 */
export class Storage {
  /** @internal Storages alive now, on every backend (a test hook for leak checks). */
  static live = 0;
  /** @internal Bumped by every in-place write (optimizer steps, loadStateDict): a graph that saved this storage is stale. */
  version = 0;
  private refs = 1;
  /** @internal Whether another tensor or graph shares this storage (a view, a saved reference). */
  get shared(): boolean {
    return this.refs > 1;
  }
  constructor(public backend: Backend, public handle: unknown, readonly size: number) {
    Storage.live++;
    countStorage(backend, size);
    backend.adopt?.(handle, this);
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs > 0) return;
    Storage.live--;
    uncountStorage(this.backend, this.size);
    this.backend.free(this.handle);
  }
}

/** @internal Makes a tensor's storage: `n` values on `be`, asked for by `op` (named in an allocation error). */
export function newStorage(be: Backend, n: number, op: string): Storage {
  return new Storage(be, be.alloc(n, op), n);
}

// The safety net for tensors dropped without dispose(): their storage is
// released once the garbage collector has found them unreachable. V8 does
// that only in a full (mark-compact) collection and runs the callbacks in a
// task of their own, never between microtasks: reads therefore resolve after
// a macrotask on every backend (see WasmRuntime.read), so a loop whose only
// await is `await loss.item()` still gives them their turn.
const release = (s: Storage) => {
  try {
    s.release();
  } catch {
    // Nothing may escape a collector callback (it would be an uncaught exception); a destroyed backend frees nothing.
  }
};
/** User-visible tensors: their storage, and the count memory() reports. */
const finalizer = new FinalizationRegistry<Storage>((s) => {
  countTensor(s.backend, -1);
  release(s);
});
/** The autograd graph's own references (not counted as tensors). */
const graphFinalizer = new FinalizationRegistry<Storage>(release);
let nextId = 1;

export type NestedArray = number | NestedArray[];

export interface BackwardOptions {
  /** Keep the graph (its saved tensors) for another backward() through it. Default false. */
  retainGraph?: boolean;
}

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** Whether backward() computes a gradient for this tensor. */
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf after backward(); null until then or after zeroGrad(). */
  grad: Tensor | null = null;
  /** The op that made this tensor, for backward(); null on leaves. @internal */
  gradFn: GradNode | null = null;
  /** @internal Recorded nodes not yet released that take this tensor as an input. */
  consumers = 0;
  private storage: Storage | null;
  /** Counted in memory().numTensors (every tensor but the graph's own references). */
  private readonly counted: boolean;

  /**
   * For lepton's own ops: use tensor(), zeros(), randn()… to make tensors.
   * Parameters (`requiresGrad`) outlive scopes; everything else is an
   * intermediate that the enclosing scope collects, unless `tracked` is false
   * (the graph's saved views).
   */
  constructor(storage: Storage, shape: Shape, requiresGrad = false, tracked = !requiresGrad) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.requiresGrad = requiresGrad;
    this.counted = tracked || requiresGrad;
    if (this.counted) countTensor(storage.backend, 1);
    (this.counted ? finalizer : graphFinalizer).register(this, storage, this);
    if (tracked) track(this);
  }

  get rank(): number {
    return this.shape.length;
  }
  get device(): DeviceName {
    return this.backend.name;
  }
  get isDisposed(): boolean {
    return this.storage === null;
  }
  /** @internal */
  get backend(): Backend {
    return this.live('tensor', 'this').backend;
  }

  /** @internal The storage, or a clear error naming the op and argument if disposed. */
  live(op: string, arg: string): Storage {
    if (!this.storage) fail(op, `argument '${arg}' (tensor #${this.id}, shape ${fmtShape(this.shape)}) was disposed`);
    return this.storage;
  }

  /** @internal The backend handle for a kernel launch. */
  handle(op: string, arg: string): unknown {
    return this.live(op, arg).handle;
  }

  /** @internal A new tensor sharing this storage with another shape (same size). */
  view(shape: Shape): Tensor {
    return new Tensor(this.live('reshape', 'x').retain(), shape);
  }

  /**
   * @internal The autograd graph's own reference (autograd.ts record()): same
   * storage and shape, no scope collects it; the graph disposes it when done.
   */
  saved(op: string): Tensor {
    return new Tensor(this.live(op, 'saved').retain(), this.shape, false, false);
  }

  /**
   * Drops this tensor's reference to its storage, which is freed when no view
   * and no recorded graph needs it. Safe to call twice.
   */
  dispose(): void {
    if (!this.storage) return;
    if (this.counted) {
      finalizer.unregister(this);
      countTensor(this.storage.backend, -1);
    } else {
      graphFinalizer.unregister(this);
    }
    this.storage.release();
    this.storage = null;
    // A graph that a recorded consumer can still reach stays: backward walks
    // through a disposed intermediate and reads what it needs through the
    // graph's saved references. One nothing can reach any more goes now.
    if (this.gradFn && this.consumers === 0) releaseNode(this);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The values, row-major, after all queued work. */
  async data(): Promise<Float32Array> {
    const s = this.live('data', 'this');
    return s.backend.read(s.handle, this.size);
  }
  /** Synchronous read; only the WASM backend can do it. */
  dataSync(): Float32Array {
    const s = this.live('dataSync', 'this');
    if (!s.backend.readSync) fail('dataSync', `the ${s.backend.name} backend reads asynchronously; use await t.data()`);
    return s.backend.readSync(s.handle, this.size);
  }
  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) fail('item', `needs a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return (await this.data())[0];
  }
  /** The values as nested arrays shaped like the tensor. */
  async array(): Promise<NestedArray> {
    const d = await this.data();
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.shape.length) return d[off];
      const step = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * step));
    };
    return build(0, 0);
  }

  /**
   * The values as PyTorch prints them (`tensor([[1., 2.], [3., 4.]])`, one
   * number format, the middle elided past 1000 elements), with the device
   * and requires_grad. WebGPU values cannot be read synchronously: there it
   * names shape and device only; `await t.toStringAsync()` prints values on
   * every device. Node's console.log and util.inspect use it too.
   */
  toString(): string {
    const s = this.storage;
    if (!s) return `tensor(<disposed>, size=(${this.shape.join(', ')}${this.rank === 1 ? ',' : ''}))`;
    if (!s.backend.readSync) {
      return `tensor(<on ${s.backend.name}: await t.toStringAsync() for the values>, size=(${this.shape.join(', ')}${this.rank === 1 ? ',' : ''})${this.suffixes().map((x) => `, ${x}`).join('')})`;
    }
    return formatTensor(s.backend.readSync(s.handle, this.size), this.shape, this.suffixes());
  }
  /** toString() with the values read on any device. */
  async toStringAsync(): Promise<string> {
    return formatTensor(await this.data(), this.shape, this.suffixes());
  }
  private suffixes(): string[] {
    return [`device='${this.device}'`, ...(this.requiresGrad ? ['requires_grad=True'] : [])];
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** A copy on another device (a new leaf; async because GPU reads are). */
  async to(device: DeviceName): Promise<Tensor> {
    const target = getBackend(device);
    const values = await this.data();
    const s = newStorage(target, this.size, 'to');
    target.write(s.handle, values);
    return new Tensor(s, this.shape, this.requiresGrad);
  }

  /** Same values, cut from the graph. Shares storage. */
  detach(): Tensor {
    return this.view(this.shape);
  }

  /**
   * Computes gradients of this tensor with respect to every leaf that
   * requires one, accumulating into their `.grad`. A non-scalar tensor needs
   * `grad`, the gradient flowing into it. PyTorch's forms: `backward()`,
   * `backward(grad)`, `backward(grad, { retainGraph })`, and
   * `backward({ retainGraph })`. The graph is freed as it is used unless
   * `retainGraph`; a second backward through a freed graph is an error.
   */
  backward(grad?: Tensor | null, opts?: BackwardOptions): void;
  backward(opts: BackwardOptions): void;
  backward(gradOrOpts?: Tensor | BackwardOptions | null, maybeOpts?: BackwardOptions): void {
    this.live('backward', 'this');
    // An options object in first place (nothing after it) is backward({ retainGraph }).
    const optsFirst = maybeOpts === undefined && gradOrOpts !== null && typeof gradOrOpts === 'object'
      && !(gradOrOpts instanceof Tensor) && !Array.isArray(gradOrOpts) && !ArrayBuffer.isView(gradOrOpts);
    const grad = optsFirst ? undefined : gradOrOpts ?? undefined;
    const opts = options('backward', optsFirst ? gradOrOpts as BackwardOptions : maybeOpts, { retainGraph: bool });
    if (grad !== undefined && !(grad instanceof Tensor)) {
      fail('backward', `argument 'grad' must be a Tensor of the tensor's shape ${fmtShape(this.shape)}, got ${describe(grad)}; `
        + (this.size === 1 ? 'a scalar needs none: call backward()' : 'e.g. ones(t.shape)'));
    }
    grad?.live('backward', 'grad');
    runBackward(this, grad, opts.retainGraph ?? false, (t) => ew.full(t.backend, t.shape, 1), (a, b) => ew.add(a, b));
  }

  // Elementwise. A number operand broadcasts as a scalar.
  add(b: Tensor | number): Tensor { return ew.add(this, b); }
  sub(b: Tensor | number): Tensor { return ew.sub(this, b); }
  mul(b: Tensor | number): Tensor { return ew.mul(this, b); }
  div(b: Tensor | number): Tensor { return ew.div(this, b); }
  maximum(b: Tensor | number): Tensor { return ew.maximum(this, b); }
  minimum(b: Tensor | number): Tensor { return ew.minimum(this, b); }
  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  abs(): Tensor { return ew.abs(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  square(): Tensor { return ew.square(this); }
  relu(): Tensor { return ew.relu(this); }
  gelu(): Tensor { return ew.gelu(this); }
  tanh(): Tensor { return ew.tanh(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  /** A copy (differentiable). */
  clone(): Tensor { return ew.clone(this); }

  // Reductions over `axis` (all axes when omitted).
  sum(axis?: number | number[], keepDims = false): Tensor { return red.sum(this, axis, keepDims); }
  mean(axis?: number | number[], keepDims = false): Tensor { return red.mean(this, axis, keepDims); }
  max(axis?: number | number[], keepDims = false): Tensor { return red.max(this, axis, keepDims); }

  // Shape.
  reshape(shape: number[]): Tensor { return shp.reshape(this, shape); }
  /** Permutes axes; with no argument reverses them (a matrix transpose for 2-D). */
  transpose(perm?: number[]): Tensor { return shp.transpose(this, perm); }
  flatten(): Tensor { return shp.reshape(this, [this.size]); }

  matmul(b: Tensor): Tensor { return mm.matmul(this, b); }
  softmax(axis = -1): Tensor { return sm.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return sm.logSoftmax(this, axis); }
}

setTensorCheck((v): v is Tensor => v instanceof Tensor);

/** @internal A fresh tensor with uninitialised storage on `backend`, for op `op` (named if the memory cannot be had). */
export function empty(backend: Backend, shape: Shape, op: string): Tensor {
  return new Tensor(newStorage(backend, sizeOf(shape), op), shape);
}

/** Frees and drops each tensor's gradient (Module.zeroGrad, Optimizer.zeroGrad). */
export function clearGrads(params: Iterable<Tensor>): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}
