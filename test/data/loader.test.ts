// data.TensorDataset and data.DataLoader: gathered batches against host
// indexing, every sample once per epoch, seeded orders (reproducible, and the
// documented Generator stream), dropLast, batch ownership, the async iterator
// preparing the next batch during the step's await, and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import { devices } from '../helpers/backends.js';

const { tensor, data, Generator, LeptonError } = lp;

function expectError(f: () => unknown, re: RegExp) {
  try { f(); } catch (e) { assert.instance(e, LeptonError); assert.match((e as Error).message, re); return; }
  assert.unreachable(`no error, expected ${re}`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** n samples: x row i = [i, 100 + i] ([n, 2]), label i % 3, weight i / 10. */
function columns(n: number) {
  const x = new Float32Array(2 * n), y = new Int32Array(n), w = new Float64Array(n);
  for (let i = 0; i < n; i++) { x[2 * i] = i; x[2 * i + 1] = 100 + i; y[i] = i % 3; w[i] = i / 10; }
  return { x, y, w };
}

test('TensorDataset: every column form; batches gather the rows asked for, integer columns stay Int32Array', async () => {
  for (const device of devices) {
    const n = 11, { x, y, w } = columns(n);
    const nested = Array.from({ length: n }, (_, i) => [[i, -i], [2 * i, 0]]);   // [n, 2, 2]
    const ds = new data.TensorDataset({ data: x, shape: [n, 2] }, y, w, nested, tensor(x, [n, 2], { device: 'wasm' }), [...w], Uint8Array.from(y));
    assert.is(ds.length, n);
    assert.equal(ds.sampleShapes, [[2], [], [], [2, 2], [2], [], []]);
    const idx = [7, 0, 7, 10];
    const [bx, by, bw, bn, bt, bl, bu] = ds.batch(idx, device);
    assert.ok(bx instanceof lp.Tensor && bx.device === device);
    assert.equal([...bx.shape], [4, 2]);
    assert.equal([...await bx.data()], idx.flatMap((i) => [i, 100 + i]));
    assert.ok(by instanceof Int32Array, 'integer labels stay on the host as Int32Array');
    assert.equal([...by], idx.map((i) => i % 3));
    assert.equal([...bw.shape], [4]);
    assert.equal([...await bw.data()], idx.map((i) => Math.fround(i / 10)));
    assert.equal([...bn.shape], [4, 2, 2]);
    assert.equal(await bn.array(), idx.map((i) => [[i, -i], [2 * i, 0]]));
    assert.equal([...await bt.data()], [...await bx.data()]);
    assert.equal([...await bl.data()], [...await bw.data()]);
    assert.ok(bu instanceof Int32Array);
    lp.dispose(bx, bw, bn, bt, bl);
  }
});

test('TensorDataset: errors name the column', () => {
  expectError(() => new data.TensorDataset(), /data.TensorDataset: needs at least one column/);
  expectError(() => new data.TensorDataset(new Float32Array(3), new Int32Array(4)), /columns disagree on the number of samples: column 0 has 3 \(shape \[3\]\), column 1 has 4 \(shape \[4\]\)/);
  expectError(() => new data.TensorDataset({ data: new Float32Array(5), shape: [2, 2] }), /column 0: data has 5 values but shape \[2, 2\] needs 4/);
  expectError(() => new data.TensorDataset([[1, 2], [3]]), /column 0: nested arrays are ragged/);
  expectError(() => new data.TensorDataset(['a'] as unknown as number[]), /column 0: element 0 is string/);
  expectError(() => new data.TensorDataset(tensor(3)), /column 0 is a scalar tensor/);
  expectError(() => new data.TensorDataset(Uint32Array.of(2 ** 31)), /does not fit an Int32/);
  expectError(() => new data.TensorDataset(null as unknown as number[]), /column 0 must be a Tensor, a typed array, an array or \{ data, shape \}, got null/);
  if (devices.includes('webgpu')) {
    expectError(() => new data.TensorDataset(tensor([1, 2], { device: 'webgpu' })), /column 0 is a tensor on webgpu, which reads asynchronously; pass its values: \{ data: await t.data\(\), shape: t.shape \}/);
  }
  const ds = new data.TensorDataset(new Float32Array(3));
  expectError(() => ds.batch([0, 3]), /index 3 at 1 is out of range for 3 samples/);
});

/** The label column of every batch of one pass, as arrays. */
const epoch = (loader: lp.data.DataLoader<[lp.Tensor, Int32Array]>) => [...loader].map(([, yb]) => [...yb]);

test('DataLoader: in order without shuffle; batch sizes, dropLast and length', () => {
  const { x } = columns(10), ids = Int32Array.from({ length: 10 }, (_, i) => i);
  const ds = new data.TensorDataset({ data: x, shape: [10, 2] }, ids);
  const loader = new data.DataLoader(ds, { batchSize: 4 });
  assert.is(loader.length, 3);
  assert.equal(epoch(loader), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  const dropped = new data.DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.is(dropped.length, 2);
  assert.equal(epoch(dropped), [[0, 1, 2, 3], [4, 5, 6, 7]]);
  assert.equal(epoch(new data.DataLoader(ds)).length, 10, 'batchSize defaults to 1');
  assert.equal(epoch(new data.DataLoader(ds, { batchSize: 64 })), [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
});

test('DataLoader: shuffled epochs are permutations, differ, follow the Generator stream, and reproduce', () => {
  const n = 23, ids = Int32Array.from({ length: n }, (_, i) => i);
  const ds = new data.TensorDataset(new Float32Array(n), ids);
  const loader = new data.DataLoader(ds, { batchSize: 5, shuffle: true, seed: 42 });
  const e1 = epoch(loader).flat(), e2 = epoch(loader).flat();
  for (const e of [e1, e2]) assert.equal([...e].sort((a, b) => a - b), [...ids], 'every sample once per epoch');
  assert.not.equal(e1, e2, 'a new order every epoch');
  const g = new Generator(42);
  assert.equal(e1, [...g.randperm(n)], 'seed is new Generator(seed): epoch 1 is its first randperm');
  assert.equal(e2, [...g.randperm(n)], 'and epoch 2 its second');
  const again = new data.DataLoader(ds, { batchSize: 5, shuffle: true, seed: 42 });
  assert.equal(epoch(again).flat(), e1);
  // A shared generator; and the global one, seeded by manualSeed.
  const shared = new Generator(7);
  assert.equal(epoch(new data.DataLoader(ds, { batchSize: 23, shuffle: true, generator: shared })).flat(), [...new Generator(7).randperm(n)]);
  lp.manualSeed(3);
  const a = epoch(new data.DataLoader(ds, { batchSize: 23, shuffle: true })).flat();
  lp.manualSeed(3);
  assert.equal(epoch(new data.DataLoader(ds, { batchSize: 23, shuffle: true })).flat(), a);
});

test('DataLoader owns its batches: the previous one is freed when the next is drawn, the last at the end or on break', () => {
  const ds = new data.TensorDataset(new Float32Array(6));
  const loader = new data.DataLoader(ds, { batchSize: 2 });
  const seen: lp.Tensor[] = [];
  for (const [xb] of loader) {
    if (seen.length) assert.ok(seen[seen.length - 1].isDisposed, 'previous batch freed');
    assert.not.ok(xb.isDisposed);
    seen.push(xb);
  }
  assert.ok(seen.every((t) => t.isDisposed), 'last batch freed when the loop ends');
  let kept: lp.Tensor | null = null;
  for (const [xb] of loader) { kept = xb; break; }
  assert.ok(kept!.isDisposed, 'freed on break');
});

test('async iteration: the same batches, and the next one is made while the step awaits', async () => {
  const n = 12, ids = Int32Array.from({ length: n }, (_, i) => i);
  const ds = new data.TensorDataset(new Float32Array(n), ids);
  const log: string[] = [];
  const watched: lp.data.Dataset<[lp.Tensor, Int32Array]> = { length: n, batch: (idx, d) => { log.push(`make ${idx[0]}`); return ds.batch(idx, d); } };
  const loader = new data.DataLoader(watched, { batchSize: 4, shuffle: true, seed: 5 });
  const syncOrder = epoch(new data.DataLoader(ds, { batchSize: 4, shuffle: true, seed: 5 }));
  const asyncOrder: number[][] = [];
  let prev: lp.Tensor | null = null;
  for await (const [xb, yb] of loader) {
    if (prev) assert.ok(prev.isDisposed);
    prev = xb;
    asyncOrder.push([...yb]);
    log.push(`step ${yb[0]} starts`);
    await sleep(5);                              // a readback would wait here
    log.push(`step ${yb[0]} ends`);
  }
  assert.ok(prev!.isDisposed);
  assert.equal(asyncOrder, syncOrder);
  const first = syncOrder.map((b) => b[0]);
  assert.equal(log, [
    `make ${first[0]}`, `step ${first[0]} starts`, `make ${first[1]}`, `step ${first[0]} ends`,
    `step ${first[1]} starts`, `make ${first[2]}`, `step ${first[1]} ends`, `step ${first[2]} starts`, `step ${first[2]} ends`,
  ], log.join(' | '));
  // A step that never yields gets each batch on demand.
  log.length = 0;
  for await (const [, yb] of loader) log.push(`step ${yb[0]}`);
  assert.is(log.filter((l) => l.startsWith('make')).length, 3);
  assert.is(log.length, 6);
});

test('DataLoader: batches go to the device asked for; bad options are refused', () => {
  for (const device of devices) {
    for (const [xb] of new data.DataLoader(new data.TensorDataset(new Float32Array(3)), { batchSize: 3, device })) assert.is(xb.device, device);
  }
  const ds = new data.TensorDataset(new Float32Array(3));
  expectError(() => new data.DataLoader(ds, { batchSize: 0 }), /data.DataLoader: option 'batchSize' must be a positive integer, got 0/);
  expectError(() => new data.DataLoader(ds, { batch_size: 2 } as unknown as lp.data.DataLoaderOptions), /unknown option 'batch_size' \(did you mean 'batchSize'\?\); the options are: batchSize, shuffle, generator, seed, dropLast, device/);
  expectError(() => new data.DataLoader(ds, { shuffle: 'yes' as unknown as boolean }), /option 'shuffle' must be a boolean/);
  expectError(() => new data.DataLoader(ds, { seed: 1, generator: new Generator(1) }), /give option 'generator' or 'seed', not both/);
  expectError(() => new data.DataLoader(ds, { seed: NaN }), /option 'seed'.*finite number/);
  expectError(() => new data.DataLoader([1, 2] as unknown as lp.data.Dataset<unknown>), /argument 'dataset' must be a Dataset/);
});

test('prefetching changes nothing: training over for await (awaiting a readback every step) gives the weights of the plain loop, bit for bit', async () => {
  for (const device of devices) {
    const set = data.spiral(20, { seed: 3 });
    const ds = new data.TensorDataset({ data: set.x, shape: [set.n, 2] }, Int32Array.from(set.y));
    const train = async (prefetch: boolean) => {
      const model = new lp.nn.MLP([2, 16, 3], { seed: 2, device }), opt = new lp.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const loader = new data.DataLoader(ds, { batchSize: 16, shuffle: true, seed: 9, device });
      const losses: number[] = [];
      const stepOn = (xb: lp.Tensor, yb: Int32Array) => lp.scope(() => {
        const loss = lp.nn.crossEntropy(model.forward(xb), yb);
        opt.zeroGrad(); loss.backward(); opt.step();
        return loss;
      });
      for (let epoch = 0; epoch < 2; epoch++) {
        if (prefetch) {
          for await (const [xb, yb] of loader) { const l = stepOn(xb, yb); losses.push(await l.item()); l.dispose(); }
        } else {
          const pending: lp.Tensor[] = [];
          for (const [xb, yb] of loader) pending.push(stepOn(xb, yb));
          for (const l of pending) { losses.push(await l.item()); l.dispose(); }
        }
      }
      const w = await Promise.all(model.parameters().map((p) => p.data()));
      opt.dispose(); lp.dispose(model.parameters());
      return { losses, w };
    };
    const plain = await train(false), ahead = await train(true);
    assert.is(plain.losses.length, 8);
    assert.equal(ahead.losses, plain.losses, `${device}: losses`);
    ahead.w.forEach((w, i) => assert.equal([...w], [...plain.w[i]], `${device}: parameter ${i}`));
  }
});

test.run();
