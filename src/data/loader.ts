// DataLoader: batches of a Dataset in a (seeded) shuffled or fixed order, as
// PyTorch's torch.utils.data.DataLoader. Iterable, and async-iterable with the
// next batch prepared while the current one trains.
import type { DeviceName } from '../backends/backend.js';
import { fail } from '../errors.js';
import { bool, device, finite, instanceOf, integer, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import { Tensor } from '../tensor.js';
import type { Dataset } from './dataset.js';

export interface DataLoaderOptions {
  /** Samples per batch. Default 1 (as PyTorch). */
  batchSize?: number;
  /** A new random order every epoch (every iteration over the loader). Default false. */
  shuffle?: boolean;
  /** Where the orders come from; default: the global generator (manualSeed). */
  generator?: Generator;
  /** Shorthand for `generator: new Generator(seed)`: a reproducible sequence of epochs. */
  seed?: number;
  /** Leave out the last batch when it would be smaller than batchSize. Default false. */
  dropLast?: boolean;
  /** Device of the batch tensors; default: the default device when the batch is made. */
  device?: DeviceName;
}

const SPEC: OptionSpec<DataLoaderOptions> = {
  batchSize: integer(1), shuffle: bool, generator: instanceOf(Generator, 'Generator'), seed: finite, dropLast: bool, device,
};

/** Frees the tensors of a batch (a tensor, or an array / object of them). */
function release(batch: unknown): void {
  if (batch instanceof Tensor) batch.dispose();
  else if (Array.isArray(batch)) for (const b of batch) release(b);
  else if (batch && typeof batch === 'object' && Object.getPrototypeOf(batch) === Object.prototype) for (const b of Object.values(batch)) release(b);
}

/**
 * Batches of `dataset`:
 *
 *   const loader = new data.DataLoader(new data.TensorDataset(x, labels), { batchSize: 64, shuffle: true, seed: 1 });
 *   for (const [xb, yb] of loader) { ... }            // or: for await (const [xb, yb] of loader)
 *
 * The loader owns the batch tensors: each batch is freed when the next one
 * is drawn, and the last when the loop ends (also on break or throw). Keep a
 * value past that with `t.clone()` or `await t.data()`.
 */
export class DataLoader<B> implements Iterable<B>, AsyncIterable<B> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly generator: Generator | null;
  private readonly device: DeviceName | undefined;

  constructor(readonly dataset: Dataset<B>, options_?: DataLoaderOptions) {
    const op = 'data.DataLoader';
    if (!dataset || typeof dataset.length !== 'number' || typeof dataset.batch !== 'function') fail(op, "argument 'dataset' must be a Dataset (e.g. a data.TensorDataset)");
    const opts = options(op, options_, SPEC, { batch_size: 'batchSize', drop_last: 'dropLast' });
    const bs = opts.batchSize ?? 1;
    if (opts.generator && opts.seed !== undefined) fail(op, "give option 'generator' or 'seed', not both");
    this.batchSize = bs;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? (opts.seed !== undefined ? generatorFor(opts.seed, `${op} option 'seed'`) : null);
    this.device = opts.device;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of a new epoch. */
  private order(): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return (this.generator ?? generatorFor(undefined)).randperm(n);
    return Int32Array.from({ length: n }, (_, i) => i);
  }

  private make(order: Int32Array, k: number): B {
    return this.dataset.batch(order.subarray(k * this.batchSize, Math.min((k + 1) * this.batchSize, order.length)), this.device);
  }

  *[Symbol.iterator](): Iterator<B> {
    const order = this.order(), count = this.length;
    let cur: B | null = null;
    try {
      for (let k = 0; k < count; k++) {
        const next = this.make(order, k);
        release(cur);
        cur = next;
        yield cur;
      }
    } finally {
      release(cur);
    }
  }

  /**
   * As the iterator, but batch k+1 is made as soon as the event loop is free
   * after batch k was handed out: while the step awaits a readback (WebGPU),
   * the host gathers and uploads the next batch. A step that never yields
   * gets its next batch made on demand, with no wait.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<B> {
    const order = this.order(), count = this.length;
    let cur: B | null = null, ahead: B | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stop = () => { if (timer !== null) clearTimeout(timer); timer = null; };
    try {
      for (let k = 0; k < count; k++) {
        stop();
        const next = ahead ?? this.make(order, k);
        ahead = null;
        release(cur);
        cur = next;
        if (k + 1 < count) {
          timer = setTimeout(() => {
            timer = null;
            // A failure here is met again, and thrown, when the batch is asked for.
            try { ahead = this.make(order, k + 1); } catch { ahead = null; }
          }, 0);
          (timer as { unref?: () => void }).unref?.();
        }
        yield cur;
      }
    } finally {
      stop();
      release(cur);
      release(ahead);
    }
  }
}
