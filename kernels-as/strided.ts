// Strided copy: out[i] = x[offset + sum_d coord_d(i) * strides[d]] over the
// row-major output shape. Covers transpose, broadcast (stride 0), slicing.
// Values move as i32 bits, so the copy is exact (NaN payloads included).
//
// The StridedJob descriptor (src/backends/primitives/strided.ts) holds the
// shape and strides (the JS side has merged dimensions that are contiguous in
// the source and dropped size-1 ones); each part keeps its coordinates in its
// own 32 bytes of the descriptor's tail.
import { StridedJob } from '../build/gen/strided';
import { partStart } from './parts';

const STRIDE: usize = StridedJob.strides - StridedJob.shape;
const OUT_STRIDE: usize = StridedJob.outStrides - StridedJob.shape;

/** Square tile edge for transposes: TILE source rows of 64 bytes stay in L1. */
const TILE = 16;

/** One output row of `len` values, source stride `s` elements. */
// @ts-ignore: decorator
@inline function copyRow(src: usize, dst: usize, len: i32, s: isize): void {
  if (s == 1) {
    memory.copy(dst, src, <usize>len << 2);
  } else if (s == 0) {
    const v = v128.load32_splat(src);
    let i = 0;
    for (; i + 4 <= len; i += 4) v128.store(dst + (<usize>i << 2), v);
    for (; i < len; i++) store<i32>(dst + (<usize>i << 2), load<i32>(src));
  } else {
    const sb = s << 2;
    let p = src;
    for (let i = 0; i < len; i++, p += sb) store<i32>(dst + (<usize>i << 2), load<i32>(p));
  }
}

/** Writes the transpose of the 4x4 block whose columns are 4 floats at src + q sb into 4 rows at dst (stride db). */
// @ts-ignore: decorator
@inline function transpose4x4(src: usize, sb: usize, dst: usize, db: usize): void {
  const v0 = v128.load(src), v1 = v128.load(src + sb), v2 = v128.load(src + 2 * sb), v3 = v128.load(src + 3 * sb);
  const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7), t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst + db, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * db, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * db, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
}

/**
 * A rows x cols output plane whose source has stride 1 down the rows and `s`
 * along a row: square tiles (so both sides stay in cache), 4x4 register
 * transposes inside, single values on the ragged edges.
 */
function transposePlane(src: usize, dst: usize, rows: i32, cols: i32, s: isize): void {
  const sb = <usize>(s << 2);
  const db = <usize>cols << 2;
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = min(rows, i0 + TILE);
    const i4 = i0 + ((i1 - i0) & ~3);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = min(cols, j0 + TILE);
      const j4 = j0 + ((j1 - j0) & ~3);
      for (let i = i0; i < i4; i += 4) {
        const si = src + (<usize>i << 2);
        const di = dst + <usize>i * db;
        for (let j = j0; j < j4; j += 4) transpose4x4(si + <usize>j * sb, sb, di + (<usize>j << 2), db);
        for (let j = j4; j < j1; j++) {
          for (let r = 0; r < 4; r++) store<i32>(di + <usize>r * db + (<usize>j << 2), load<i32>(si + (<usize>r << 2) + <usize>j * sb));
        }
      }
      for (let i = i4; i < i1; i++) {
        for (let j = j0; j < j1; j++) store<i32>(dst + <usize>i * db + (<usize>j << 2), load<i32>(src + (<usize>i << 2) + <usize>j * sb));
      }
    }
  }
}

/**
 * Part `part` of the StridedJob at `desc`. The output is a sequence of steps
 * (a row, or a transposed plane of rows) over the outer dimensions; parts
 * split the steps.
 */
export function stridedPart(desc: usize, part: i32): void {
  const x = <usize>load<u32>(desc + StridedJob.x), out = <usize>load<u32>(desc + StridedJob.out);
  const rank = load<i32>(desc + StridedJob.rank), parts = load<i32>(desc + StridedJob.parts);
  const base = x + (<usize>load<i32>(desc + StridedJob.offset) << 2);
  const dims = desc + StridedJob.shape;
  const coord = desc + StridedJob.coords + (<usize>part << 5);
  if (load<u32>(desc + StridedJob.into) != 0) {
    stridedInto(desc, part, base, out, rank, parts, dims, coord);
    return;
  }
  if (rank <= 0) {
    if (part == 0) store<i32>(out, load<i32>(base));
    return;
  }
  for (let d = 0; d < rank; d++) if (load<i32>(dims + (<usize>d << 2)) <= 0) return;
  const last = rank - 1;
  const len = load<i32>(dims + (<usize>last << 2));
  const s = <isize>load<i32>(dims + (<usize>last << 2), STRIDE);
  // A transpose of the last two axes walks the source in tiles instead of columns.
  let planeDims = last;
  let rowsPerStep = 1;
  if (rank >= 2 && s != 1 && s != 0 && load<i32>(dims + (<usize>(last - 1) << 2), STRIDE) == 1) {
    planeDims = last - 1;
    rowsPerStep = load<i32>(dims + (<usize>planeDims << 2));
  }
  let steps = 1;
  for (let d = 0; d < planeDims; d++) steps *= load<i32>(dims + (<usize>d << 2));
  const s0 = partStart(steps, parts, part, 1), s1 = partStart(steps, parts, part + 1, 1);
  if (s0 >= s1) return;
  // Coordinates and source offset of step s0.
  let off: isize = 0;
  let rest = s0;
  for (let d = planeDims - 1; d >= 0; d--) {
    const at = dims + (<usize>d << 2);
    const size = load<i32>(at);
    const c = rest % size;
    rest /= size;
    store<i32>(coord + (<usize>d << 2), c);
    off += <isize>c * load<i32>(at, STRIDE);
  }
  const stepBytes = (<usize>len * rowsPerStep) << 2;
  let o = out + <usize>s0 * stepBytes;
  for (let step = s0; step < s1; step++) {
    const src = base + (off << 2);
    if (planeDims < last) transposePlane(src, o, rowsPerStep, len, s);
    else copyRow(src, o, len, s);
    o += stepBytes;
    for (let d = planeDims - 1; d >= 0; d--) {
      const at = dims + (<usize>d << 2);
      const cd = coord + (<usize>d << 2);
      const c = load<i32>(cd) + 1;
      const sizeD = load<i32>(at);
      if (c < sizeD) {
        store<i32>(cd, c);
        off += load<i32>(at, STRIDE);
        break;
      }
      store<i32>(cd, 0);
      off -= <isize>(sizeD - 1) * load<i32>(at, STRIDE);
    }
  }
}

/**
 * The copy into a strided region of out (concat pieces, a slice's gradient,
 * a KV cache's append): out[outOffset + Σ c·outStrides] = x[offset + Σ c·strides].
 * Parts split the rows (all but the last dimension); a row whose source and
 * destination are both contiguous is one memory.copy (a concat piece or a
 * cache append, once the JS side has merged contiguous dimensions).
 * Distinct coordinates reach distinct outputs, so parts never write one
 * element twice.
 */
function stridedInto(desc: usize, part: i32, base: usize, out: usize, rank: i32, parts: i32, dims: usize, coord: usize): void {
  const outBase = out + (<usize>load<i32>(desc + StridedJob.outOffset) << 2);
  if (rank <= 0) {
    if (part == 0) store<i32>(outBase, load<i32>(base));
    return;
  }
  for (let d = 0; d < rank; d++) if (load<i32>(dims + (<usize>d << 2)) <= 0) return;
  const last = rank - 1;
  const lastAt = dims + (<usize>last << 2);
  const len = load<i32>(lastAt);
  const sIn = <isize>load<i32>(lastAt, STRIDE), sOut = <isize>load<i32>(lastAt, OUT_STRIDE);
  let rows = 1;
  for (let d = 0; d < last; d++) rows *= load<i32>(dims + (<usize>d << 2));
  const r0 = partStart(rows, parts, part, 1), r1 = partStart(rows, parts, part + 1, 1);
  if (r0 >= r1) return;
  // Coordinates and offsets of row r0; later rows step them like an odometer.
  let src: isize = 0, dst: isize = 0;
  let rest = r0;
  for (let d = last - 1; d >= 0; d--) {
    const at = dims + (<usize>d << 2);
    const size = load<i32>(at);
    const c = rest % size;
    rest /= size;
    store<i32>(coord + (<usize>d << 2), c);
    src += <isize>c * load<i32>(at, STRIDE);
    dst += <isize>c * load<i32>(at, OUT_STRIDE);
  }
  const contiguous = sIn == 1 && sOut == 1;
  const ib = sIn << 2, ob = sOut << 2;
  for (let row = r0; row < r1; row++) {
    const from = base + (src << 2), to = outBase + (dst << 2);
    if (contiguous) memory.copy(to, from, <usize>len << 2);
    else {
      let a = from, b = to;
      for (let i = 0; i < len; i++, a += ib, b += ob) store<i32>(b, load<i32>(a));
    }
    for (let d = last - 1; d >= 0; d--) {
      const at = dims + (<usize>d << 2);
      const cd = coord + (<usize>d << 2);
      const c = load<i32>(cd) + 1;
      const sizeD = load<i32>(at);
      if (c < sizeD) {
        store<i32>(cd, c);
        src += load<i32>(at, STRIDE);
        dst += load<i32>(at, OUT_STRIDE);
        break;
      }
      store<i32>(cd, 0);
      src -= <isize>(sizeD - 1) * load<i32>(at, STRIDE);
      dst -= <isize>(sizeD - 1) * load<i32>(at, OUT_STRIDE);
    }
  }
}
