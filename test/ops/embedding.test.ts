import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor } from '../../src/creation.js';
import { embedding } from '../../src/ops/embedding.js';
import { Embedding } from '../../src/nn/embedding.js';
import { sum } from '../../src/ops/reduce.js';
import { devices } from '../helpers/backends.js';
import { checkOp, rnd } from '../helpers/grad.js';
import { testRng } from '../helpers/random.js';
import { throwsLepton } from '../helpers/throws.js';
import type { Nd } from '../reference/ops.js';
import * as S from '../reference/seq.js';

const r = testRng('ops-embedding');
const nd = (data: Float64Array, shape: number[]): Nd => ({ data, shape });

test('embedding: forward and scatter-add gradient (repeated ids, nested ids, paddingIdx), finite differences', async () => {
  const cases: { ids: number[] | number[][]; num: number; dim: number; pad?: number }[] = [
    { ids: [0, 2, 2, 1, 2], num: 4, dim: 3 },
    { ids: [[1, 0], [3, 3], [2, 1]], num: 5, dim: 4 },
    { ids: [0], num: 1, dim: 1 },
    { ids: [4, 4, 4, 4], num: 6, dim: 7 },
    { ids: [[0, 1, 2], [2, 1, 0]], num: 3, dim: 5, pad: 1 },
    { ids: [5, 0, 5, 2], num: 6, dim: 2, pad: -1 },
  ];
  for (const c of cases) {
    const flat = c.ids.flat();
    const outShape = [...(Array.isArray(c.ids[0]) ? [c.ids.length, (c.ids[0] as number[]).length] : [c.ids.length]), c.dim];
    const pad = c.pad === undefined ? undefined : c.pad < 0 ? c.pad + c.num : c.pad;
    await checkOp({
      name: `embedding ${JSON.stringify(c.ids)} of [${c.num}, ${c.dim}]${pad !== undefined ? ` pad ${c.pad}` : ''}`,
      inputs: [rnd(r, [c.num, c.dim])],
      lib: ([w]) => embedding(c.ids, w, c.pad === undefined ? undefined : { paddingIdx: c.pad }),
      ref: ([w]) => nd(S.gather(w.data, flat, c.dim), outShape),
      vjp: (_, g) => [nd(S.scatterAdd(g.data, flat, c.num, c.dim, pad), [c.num, c.dim])],
      gradScale: (_, g) => [nd(S.scatterAdd(g.data.map(Math.abs), flat, c.num, c.dim, pad), [c.num, c.dim])],
      // The padding row's zero gradient is a convention (PyTorch's), not the derivative.
      noFd: pad !== undefined,
    }, r, 'embedding');
  }
});

test('embedding takes typed arrays, and Tensor ids where the device reads synchronously (WASM)', async () => {
  for (const device of devices) {
    const w = tensor([[1, 2], [3, 4], [5, 6]], { device });
    assert.equal(Array.from(await embedding(Int32Array.from([2, 0]), w).data()), [5, 6, 1, 2]);
    assert.equal(embedding([], w).shape, [0, 2]);
    const ids = tensor([[1, 2]], { device });
    if (device === 'wasm') {
      const y = embedding(ids, w);
      assert.equal(y.shape, [1, 2, 2]);
      assert.equal(Array.from(await y.data()), [3, 4, 5, 6]);
    } else {
      throwsLepton(() => embedding(ids, w), /embedding.*'ids' is a Tensor on webgpu.*pass them as an array/);
    }
  }
});

test('nn.Embedding: weight N(0, 1) with a zero padding row, no gradient for it; a positional embedding', async () => {
  for (const device of devices) {
    const emb = new Embedding(10, 4, { paddingIdx: 0, seed: 3, device });
    assert.equal(Object.keys(emb.stateDict()), ['weight']);
    const w = await emb.weight.data();
    assert.equal(Array.from(w.subarray(0, 4)), [0, 0, 0, 0]);
    let s = 0, s2 = 0;
    for (const v of w.subarray(4)) { s += v; s2 += v * v; }
    const m = s / 36, sd = Math.sqrt(s2 / 36 - m * m);
    assert.ok(Math.abs(m) < 0.6 && sd > 0.6 && sd < 1.5, `${device}: N(0, 1) weights, got mean ${m}, sd ${sd}`);
    const y = emb.forward([[0, 3, 3]]);
    assert.equal(y.shape, [1, 3, 4]);
    sum(y).backward();
    const g = await emb.weight.grad!.data();
    assert.equal(Array.from(g.subarray(0, 4)), [0, 0, 0, 0], 'padding row');
    assert.equal(Array.from(g.subarray(12, 16)), [2, 2, 2, 2], 'id 3, used twice');
    // A learned positional embedding: positions 0..seq-1.
    const pos = new Embedding(8, 4, { device });
    assert.equal(pos.forward(Array.from({ length: 5 }, (_, i) => i)).shape, [5, 4]);
  }
});

test('ids out of range and malformed ids are LeptonErrors before any kernel runs', () => {
  const w = tensor([[1, 2], [3, 4], [5, 6]]);
  // The integer-data rule's messages (src/integers.ts), as crossEntropy's and gather's.
  throwsLepton(() => embedding([0, 3], w), /embedding: argument 'ids' has id 3 at index 1; needs an integer in \[0, 2\] \(the weight has 3 rows\)/);
  throwsLepton(() => embedding([[0], [-1]], w), /id -1 at position \[1, 0\]/);
  throwsLepton(() => embedding(tensor([0, 7]), w), /embedding: argument 'ids' has id 7 at index 1/);
  throwsLepton(() => embedding([1.5], w), /id 1.5/);
  // Rows may be typed arrays (a batch of token rows), checked like arrays.
  assert.equal(Array.from(embedding([Int32Array.of(2, 0), Int32Array.of(1, 1)], w).dataSync()), [5, 6, 1, 2, 3, 4, 3, 4]);
  throwsLepton(() => embedding([Int32Array.of(0, 1), Int32Array.of(3, 0)], w), /id 3 at position \[1, 0\]/);
  throwsLepton(() => embedding([Int32Array.of(0, 1), Int32Array.of(2)], w), /ragged: the entry at \[1\] is of length 1/);
  throwsLepton(() => embedding([[0, 1], [2]], w), /ragged: the entry at \[1\] is of length 1; needs an array of length 2 \(shape \[2, 2\]\)/);
  throwsLepton(() => embedding({} as never, w), /must be integer data.*got/);
  throwsLepton(() => embedding(['a'] as never, w), /has "a" at index 0/);
  throwsLepton(() => embedding([[0], [null]] as never, w), /has null at position \[1, 0\]/);
  throwsLepton(() => embedding([0], tensor([1, 2])), /'weight' must be 2-D \[num, dim\], got \[2\]/);
  throwsLepton(() => embedding([0], w, { paddingIdx: 3 }), /'paddingIdx' is 3; needs an integer in \[-3, 2\]/);
  throwsLepton(() => embedding([0], w, { padding: 1 } as never), /unknown option 'padding'/);
  throwsLepton(() => new Embedding(0, 2), /nn.Embedding.*'numEmbeddings' must be a positive integer, got 0/);
  throwsLepton(() => new Embedding(4, 2, { paddingIdx: 4 }), /'paddingIdx' is 4/);
});

test.run();
