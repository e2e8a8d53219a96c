// Max and average pooling over NHWC tensors, forward and backward, along
// the channels of a pixel (contiguous), four at a time. Codes and the job
// layout come from src/backends/primitives/pool.ts.
//
// Max: the first maximum of the window wins ties (strictly greater replaces);
// a NaN replaces any number and is never replaced, so NaN propagates and the
// gradient goes to the first NaN. The window position of the winner (kh·Kw +
// kw, as a float) is written when asked: the backward sends each dy element
// to it. Backward passes gather: each input pixel sums over the windows that
// contain it (no two parts write one element, no atomics).
import { POOL_AVG, POOL_AVG_BACKWARD, POOL_MAX, POOL_MAX_BACKWARD, PoolJob } from '../build/gen/pool';
import { loadPartial, storePartial } from './math';
import { partStart } from './parts';

// @ts-ignore: decorator
@inline function u(desc: usize, at: usize): i32 { return load<i32>(desc + at); }
// @ts-ignore: decorator
@inline function ptr(desc: usize, at: usize): usize { return <usize>load<u32>(desc + at); }
// @ts-ignore: decorator
@inline function load4(p: usize, r: i32, fill: f32): v128 { return r >= 4 ? v128.load(p) : loadPartial(p, r, fill); }
// @ts-ignore: decorator
@inline function store4(p: usize, v: v128, r: i32): void { if (r >= 4) v128.store(p, v); else storePartial(p, v, r); }

export function poolPart(desc: usize, part: i32): void {
  switch (u(desc, PoolJob.mode)) {
    case POOL_MAX: maxForward(desc, part); break;
    case POOL_MAX_BACKWARD: maxBackward(desc, part); break;
    case POOL_AVG: avgForward(desc, part); break;
    case POOL_AVG_BACKWARD: avgBackward(desc, part); break;
    default: break;
  }
}

function maxForward(desc: usize, part: i32): void {
  const x = ptr(desc, PoolJob.x), out = ptr(desc, PoolJob.out), idx = ptr(desc, PoolJob.idx);
  const N = u(desc, PoolJob.N), H = u(desc, PoolJob.H), W = u(desc, PoolJob.W), C = u(desc, PoolJob.C);
  const Ho = u(desc, PoolJob.Ho), Wo = u(desc, PoolJob.Wo), Kh = u(desc, PoolJob.Kh), Kw = u(desc, PoolJob.Kw);
  const sh = u(desc, PoolJob.sh), sw = u(desc, PoolJob.sw), pt = u(desc, PoolJob.padTop), pl = u(desc, PoolJob.padLeft);
  const dh = u(desc, PoolJob.dh), dw = u(desc, PoolJob.dw);
  const M = N * Ho * Wo, parts = u(desc, PoolJob.parts);
  const m0 = partStart(M, parts, part, 1), m1 = partStart(M, parts, part + 1, 1);
  const row = <usize>C << 2, tapStep = row * <usize>dw;
  for (let m = m0; m < m1; m++) {
    const n = m / (Ho * Wo), rem = m % (Ho * Wo), oh = rem / Wo, ow = rem % Wo;
    const ih0 = oh * sh - pt, iw0 = ow * sw - pl;
    // The taps inside the input (every window starts before row H and column W).
    const khA = firstTap(ih0, dh), khB = min(Kh, (H - ih0 + dh - 1) / dh), kwA = firstTap(iw0, dw), kwB = min(Kw, (W - iw0 + dw - 1) / dw);
    for (let c = 0; c < C; c += 4) {
      const cb = <usize>c << 2, r = min(4, C - c);
      let best = f32x4.splat(-Infinity), at = f32x4.splat(-1);
      for (let kh = khA; kh < khB; kh++) {
        let p = x + (<usize>(n * H + ih0 + kh * dh) * W + iw0 + kwA * dw) * row + cb;
        for (let kw = kwA; kw < kwB; kw++, p += tapStep) {
          const v = load4(p, r, 0);
          // v > best, or v is NaN and best is not: the first maximum, the first NaN.
          const take = v128.or(f32x4.gt(v, best), v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
          best = v128.bitselect(v, best, take);
          at = v128.bitselect(f32x4.splat(<f32>(kh * Kw + kw)), at, take);
        }
      }
      store4(out + <usize>m * row + cb, best, r);
      if (idx != 0) store4(idx + <usize>m * row + cb, at, r);
    }
  }
}

/** The first tap kh with start + kh·d >= 0. */
// @ts-ignore: decorator
@inline function firstTap(start: i32, d: i32): i32 { return start >= 0 ? 0 : (d - 1 - start) / d; }

/** Output rows (or columns) whose window (K taps d apart) may hold input row i: [lo, hi). */
// @ts-ignore: decorator
@inline function windowsLo(i: i32, pad: i32, K: i32, s: i32): i32 { const a = i + pad - K + 1; return a <= 0 ? 0 : (a + s - 1) / s; }
// @ts-ignore: decorator
@inline function windowsHi(i: i32, pad: i32, s: i32, out: i32): i32 { const a = i + pad; return a < 0 ? 0 : min(out, a / s + 1); }

function maxBackward(desc: usize, part: i32): void {
  const dy = ptr(desc, PoolJob.x), dx = ptr(desc, PoolJob.out), idx = ptr(desc, PoolJob.idx);
  const N = u(desc, PoolJob.N), H = u(desc, PoolJob.H), W = u(desc, PoolJob.W), C = u(desc, PoolJob.C);
  const Ho = u(desc, PoolJob.Ho), Wo = u(desc, PoolJob.Wo), Kh = u(desc, PoolJob.Kh), Kw = u(desc, PoolJob.Kw);
  const sh = u(desc, PoolJob.sh), sw = u(desc, PoolJob.sw), pt = u(desc, PoolJob.padTop), pl = u(desc, PoolJob.padLeft);
  const dh = u(desc, PoolJob.dh), dw = u(desc, PoolJob.dw);
  const M = N * H * W, parts = u(desc, PoolJob.parts);
  const m0 = partStart(M, parts, part, 1), m1 = partStart(M, parts, part + 1, 1);
  const row = <usize>C << 2;
  for (let m = m0; m < m1; m++) {
    const n = m / (H * W), rem = m % (H * W), ih = rem / W, iw = rem % W;
    const ohA = windowsLo(ih, pt, (Kh - 1) * dh + 1, sh), ohB = windowsHi(ih, pt, sh, Ho);
    const owA = windowsLo(iw, pl, (Kw - 1) * dw + 1, sw), owB = windowsHi(iw, pl, sw, Wo);
    for (let c = 0; c < C; c += 4) {
      const cb = <usize>c << 2, r = min(4, C - c);
      let acc = f32x4.splat(0);
      if (dh == 1 && dw == 1) {
        // Undilated (the common case): every window in range holds the pixel; no division per window and channel block.
        for (let oh = ohA; oh < ohB; oh++) {
          for (let ow = owA; ow < owB; ow++) {
            const at = (<usize>(n * Ho + oh) * Wo + ow) * row + cb;
            const pos = f32x4.splat(<f32>((ih + pt - oh * sh) * Kw + iw + pl - ow * sw));
            acc = f32x4.add(acc, v128.and(load4(dy + at, r, 0), f32x4.eq(load4(idx + at, r, -1), pos)));
          }
        }
      } else {
        for (let oh = ohA; oh < ohB; oh++) {
          // Dilated windows hold this row only when it falls on one of their taps.
          const th = ih + pt - oh * sh;
          if (th % dh != 0) continue;
          for (let ow = owA; ow < owB; ow++) {
            const tw = iw + pl - ow * sw;
            if (tw % dw != 0) continue;
            const at = (<usize>(n * Ho + oh) * Wo + ow) * row + cb;
            const pos = f32x4.splat(<f32>((th / dh) * Kw + tw / dw));
            acc = f32x4.add(acc, v128.and(load4(dy + at, r, 0), f32x4.eq(load4(idx + at, r, -1), pos)));
          }
        }
      }
      store4(dx + <usize>m * row + cb, acc, r);
    }
  }
}

function avgForward(desc: usize, part: i32): void {
  const x = ptr(desc, PoolJob.x), out = ptr(desc, PoolJob.out);
  const N = u(desc, PoolJob.N), H = u(desc, PoolJob.H), W = u(desc, PoolJob.W), C = u(desc, PoolJob.C);
  const Ho = u(desc, PoolJob.Ho), Wo = u(desc, PoolJob.Wo), Kh = u(desc, PoolJob.Kh), Kw = u(desc, PoolJob.Kw);
  const sh = u(desc, PoolJob.sh), sw = u(desc, PoolJob.sw), pt = u(desc, PoolJob.padTop), pl = u(desc, PoolJob.padLeft);
  const includePad = u(desc, PoolJob.includePad) != 0;
  const M = N * Ho * Wo, parts = u(desc, PoolJob.parts);
  const m0 = partStart(M, parts, part, 1), m1 = partStart(M, parts, part + 1, 1);
  const row = <usize>C << 2;
  for (let m = m0; m < m1; m++) {
    const n = m / (Ho * Wo), rem = m % (Ho * Wo), oh = rem / Wo, ow = rem % Wo;
    const ih0 = oh * sh - pt, iw0 = ow * sw - pl;
    const khA = max(0, -ih0), khB = min(Kh, H - ih0), kwA = max(0, -iw0), kwB = min(Kw, W - iw0);
    // With padding: the part of the window inside the padded input (all of it, but in ceil mode's last windows).
    const count = includePad ? min(Kh, H + pt - ih0) * min(Kw, W + pl - iw0) : max(0, khB - khA) * max(0, kwB - kwA);
    const scale = f32x4.splat(<f32>(1.0 / <f64>count));
    for (let c = 0; c < C; c += 4) {
      const cb = <usize>c << 2, r = min(4, C - c);
      let s = f32x4.splat(0);
      for (let kh = khA; kh < khB; kh++) {
        let p = x + (<usize>(n * H + ih0 + kh) * W + iw0 + kwA) * row + cb;
        for (let kw = kwA; kw < kwB; kw++, p += row) s = f32x4.add(s, load4(p, r, 0));
      }
      store4(out + <usize>m * row + cb, f32x4.mul(s, scale), r);
    }
  }
}

function avgBackward(desc: usize, part: i32): void {
  const dy = ptr(desc, PoolJob.x), dx = ptr(desc, PoolJob.out);
  const N = u(desc, PoolJob.N), H = u(desc, PoolJob.H), W = u(desc, PoolJob.W), C = u(desc, PoolJob.C);
  const Ho = u(desc, PoolJob.Ho), Wo = u(desc, PoolJob.Wo), Kh = u(desc, PoolJob.Kh), Kw = u(desc, PoolJob.Kw);
  const sh = u(desc, PoolJob.sh), sw = u(desc, PoolJob.sw), pt = u(desc, PoolJob.padTop), pl = u(desc, PoolJob.padLeft);
  const includePad = u(desc, PoolJob.includePad) != 0;
  const M = N * H * W, parts = u(desc, PoolJob.parts);
  const m0 = partStart(M, parts, part, 1), m1 = partStart(M, parts, part + 1, 1);
  const row = <usize>C << 2;
  for (let m = m0; m < m1; m++) {
    const n = m / (H * W), rem = m % (H * W), ih = rem / W, iw = rem % W;
    const ohA = windowsLo(ih, pt, Kh, sh), ohB = windowsHi(ih, pt, sh, Ho);
    const owA = windowsLo(iw, pl, Kw, sw), owB = windowsHi(iw, pl, sw, Wo);
    for (let c = 0; c < C; c += 4) {
      const cb = <usize>c << 2, r = min(4, C - c);
      let acc = f32x4.splat(0);
      for (let oh = ohA; oh < ohB; oh++) {
        const ih0 = oh * sh - pt;
        const rows = includePad ? min(Kh, H + pt - ih0) : min(Kh, H - ih0) - max(0, -ih0);
        for (let ow = owA; ow < owB; ow++) {
          const iw0 = ow * sw - pl;
          const count = rows * (includePad ? min(Kw, W + pl - iw0) : min(Kw, W - iw0) - max(0, -iw0));
          const at = (<usize>(n * Ho + oh) * Wo + ow) * row + cb;
          acc = f32x4.add(acc, f32x4.mul(load4(dy + at, r, 0), f32x4.splat(<f32>(1.0 / <f64>count))));
        }
      }
      store4(dx + <usize>m * row + cb, acc, r);
    }
  }
}
