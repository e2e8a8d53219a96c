// Embedding: gather rows of the weight by id, and the gradient as a
// deterministic scatter-add. The op sorts the positions by id on the host
// (it holds the ids), so the gradient is a segmented sum: each weight row is
// summed by one part, over its positions in ascending order. The bits are the
// same on every run and every thread count, and no two parts write one row.
import { EmbeddingJob } from '../build/gen/embedding';
import { partStart } from './parts';

/** out[i, :] = src[ids[i], :] for rows i in [r0, r1). */
function gather(src: usize, ids: usize, out: usize, r0: i32, r1: i32, dim: i32): void {
  const rowBytes = <usize>dim << 2;
  for (let i = r0; i < r1; i++) {
    const id = <usize>(<u32>load<f32>(ids + (<usize>i << 2)));
    memory.copy(out + <usize>i * rowBytes, src + id * rowBytes, rowBytes);
  }
}

/** out[v, :] = Σ src[order[k], :], k in [offsets[v], offsets[v + 1]), for weight rows v in [v0, v1). */
function scatter(src: usize, order: usize, offsets: usize, out: usize, v0: i32, v1: i32, dim: i32): void {
  const rowBytes = <usize>dim << 2;
  const n4 = dim & ~3;
  for (let v = v0; v < v1; v++) {
    const o = out + <usize>v * rowBytes;
    memory.fill(o, 0, rowBytes);
    const k0 = <i32>load<f32>(offsets + (<usize>v << 2)), k1 = <i32>load<f32>(offsets + (<usize>(v + 1) << 2));
    for (let k = k0; k < k1; k++) {
      const s = src + <usize>(<u32>load<f32>(order + (<usize>k << 2))) * rowBytes;
      for (let c = 0; c < n4; c += 4) {
        const at = <usize>c << 2;
        v128.store(o + at, f32x4.add(v128.load(o + at), v128.load(s + at)));
      }
      for (let c = n4; c < dim; c++) {
        const at = <usize>c << 2;
        store<f32>(o + at, load<f32>(o + at) + load<f32>(s + at));
      }
    }
  }
}

/** Part `part` of the EmbeddingJob at `desc`: parts split the rows written. */
export function embeddingPart(desc: usize, part: i32): void {
  const rows = load<i32>(desc + EmbeddingJob.rows), parts = load<i32>(desc + EmbeddingJob.parts), dim = load<i32>(desc + EmbeddingJob.dim);
  const r0 = partStart(rows, parts, part, 1), r1 = partStart(rows, parts, part + 1, 1);
  const src = <usize>load<u32>(desc + EmbeddingJob.src), ids = <usize>load<u32>(desc + EmbeddingJob.ids);
  const out = <usize>load<u32>(desc + EmbeddingJob.out);
  if (load<u32>(desc + EmbeddingJob.mode) == 0) gather(src, ids, out, r0, r1, dim);
  else scatter(src, ids, <usize>load<u32>(desc + EmbeddingJob.offsets), out, r0, r1, dim);
}
