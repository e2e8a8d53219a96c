// Indexing and scans along one dimension (src/backends/primitives/gather.ts):
// gather, its adjoint scatter-add, cumsum and topk. Indices are f32 values,
// checked here: one that is not an integer in [0, size) gives NaN (gather) or
// is skipped (scatter-add). Scatter-add, cumsum and topk run one line along
// the dimension at a time, serially, so repeated indices add in index order
// and the result never depends on the thread split.
import { GATHER_CUMSUM, GATHER_GATHER, GATHER_SCATTER, GatherJob, ScanJob } from '../build/gen/gather';
import { partStart } from './parts';

const XS: usize = GatherJob.xStrides - GatherJob.shape;
const IS: usize = GatherJob.idxStrides - GatherJob.shape;

// @ts-ignore: decorator
@inline function checked(v: f32, size: i32): i32 {
  // NaN fails both comparisons.
  if (!(v >= 0 && v < <f32>size) || Mathf.floor(v) != v) return -1;
  return <i32>v;
}

/** Part `part` of the GatherJob at `desc`: outputs (gather) or lines (scatter) split over parts. */
export function gatherPart(desc: usize, part: i32): void {
  const op = load<i32>(desc + GatherJob.op), rank = load<i32>(desc + GatherJob.rank), dim = load<i32>(desc + GatherJob.dim);
  const size = load<i32>(desc + GatherJob.size), parts = load<i32>(desc + GatherJob.parts);
  const x = <usize>load<u32>(desc + GatherJob.x), index = <usize>load<u32>(desc + GatherJob.index), out = <usize>load<u32>(desc + GatherJob.out);
  const dims = desc + GatherJob.shape;
  let n = 1;
  for (let d = 0; d < rank; d++) n *= load<i32>(dims + (<usize>d << 2));
  const xDim = <isize>load<i32>(dims + (<usize>dim << 2), XS);
  if (op == GATHER_GATHER) {
    const e0 = partStart(n, parts, part, 1), e1 = partStart(n, parts, part + 1, 1);
    for (let e = e0; e < e1; e++) {
      let rest = e;
      let xo: isize = 0, io: isize = 0;
      for (let d = rank - 1; d >= 0; d--) {
        const at = dims + (<usize>d << 2);
        const s = load<i32>(at);
        const c = rest % s;
        rest /= s;
        io += <isize>c * load<i32>(at, IS);
        if (d != dim) xo += <isize>c * load<i32>(at, XS);
      }
      const k = checked(load<f32>(index + (io << 2)), size);
      store<f32>(out + (<usize>e << 2), k < 0 ? NaN : load<f32>(x + ((xo + <isize>k * xDim) << 2)));
    }
    return;
  }
  if (op != GATHER_SCATTER) return;
  const len = load<i32>(dims + (<usize>dim << 2));
  const lines = n / len;
  const l0 = partStart(lines, parts, part, 1), l1 = partStart(lines, parts, part + 1, 1);
  const iDim = <isize>load<i32>(dims + (<usize>dim << 2), IS);
  for (let line = l0; line < l1; line++) {
    let rest = line;
    let oo: isize = 0, io: isize = 0, go: isize = 0, gStride: isize = 1, gDim: isize = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const at = dims + (<usize>d << 2);
      const s = load<i32>(at);
      if (d == dim) {
        gDim = gStride;
      } else {
        const c = rest % s;
        rest /= s;
        oo += <isize>c * load<i32>(at, XS);
        io += <isize>c * load<i32>(at, IS);
        go += <isize>c * gStride;
      }
      gStride *= s;
    }
    for (let k = 0; k < len; k++) {
      const t = checked(load<f32>(index + ((io + <isize>k * iDim) << 2)), size);
      if (t < 0) continue;
      const o = out + ((oo + <isize>t * xDim) << 2);
      store<f32>(o, load<f32>(o) + load<f32>(x + ((go + <isize>k * gDim) << 2)));
    }
  }
}

/** Order key of f32 bits: larger for larger values, NaN above +inf, −0 equal to +0. */
// @ts-ignore: decorator
@inline function key(v: f32): u32 {
  if (isNaN(v)) return 0xffffffff;
  let b = reinterpret<u32>(v);
  if ((b & 0x7fffffff) == 0) b = 0;
  return (b & 0x80000000) != 0 ? ~b : b | 0x80000000;
}
/** Larger ranks come first: the key, or (smallest first) its complement with NaN last, as PyTorch. */
// @ts-ignore: decorator
@inline function rank(v: f32, largest: bool): u32 {
  if (largest) return key(v);
  return isNaN(v) ? 0 : ~key(v);
}

/** Part `part` of the ScanJob at `desc`: lines of [outer, n, inner] split over parts. */
export function scanPart(desc: usize, part: i32): void {
  const op = load<i32>(desc + ScanJob.op), outer = load<i32>(desc + ScanJob.outer), n = load<i32>(desc + ScanJob.n);
  const inner = load<i32>(desc + ScanJob.inner), k = load<i32>(desc + ScanJob.k), flag = load<i32>(desc + ScanJob.flag) != 0;
  const x = <usize>load<u32>(desc + ScanJob.x), out = <usize>load<u32>(desc + ScanJob.out), out2 = <usize>load<u32>(desc + ScanJob.out2);
  const parts = load<i32>(desc + ScanJob.parts);
  const lines = outer * inner;
  const l0 = partStart(lines, parts, part, 1), l1 = partStart(lines, parts, part + 1, 1);
  const step = <usize>inner << 2;
  for (let line = l0; line < l1; line++) {
    const base = x + ((<usize>(line / inner) * n * inner + <usize>(line % inner)) << 2);
    if (op == GATHER_CUMSUM) {
      // f64 running sum, each output rounded once (PyTorch's CPU cumsum accumulates in double too).
      const o = out + (base - x);
      let acc: f64 = 0;
      for (let j = 0; j < n; j++) {
        const at: usize = <usize>(flag ? n - 1 - j : j) * step;
        acc += <f64>load<f32>(base + at);
        store<f32>(o + at, <f32>acc);
      }
      continue;
    }
    // topk: insertion into the k best so far, ties kept in index order.
    const ob = (<usize>(line / inner) * k * inner + <usize>(line % inner)) << 2;
    const vals = out + ob, inds = out2 + ob;
    let count = 0;
    for (let j = 0; j < n; j++) {
      const v = load<f32>(base + <usize>j * step);
      const r = rank(v, flag);
      if (count == k) {
        if (r <= rank(load<f32>(vals + <usize>(k - 1) * step), flag)) continue;
        count = k - 1;
      }
      let p = count;
      while (p > 0) {
        const w = load<f32>(vals + <usize>(p - 1) * step);
        if (r <= rank(w, flag)) break;
        store<f32>(vals + <usize>p * step, w);
        store<f32>(inds + <usize>p * step, load<f32>(inds + <usize>(p - 1) * step));
        p--;
      }
      store<f32>(vals + <usize>p * step, v);
      store<f32>(inds + <usize>p * step, <f32>j);
      count++;
    }
  }
}
