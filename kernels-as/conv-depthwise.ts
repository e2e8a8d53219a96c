// Depthwise convolution (groups = C = O: each channel its own Kh×Kw filter,
// w [Kh, Kw, 1, C]) forward, input gradient and filter gradient. There is
// no reduction over channels, so no GEMM: each output is a Kh·Kw-term dot
// product, and the kernels run along the channels of a pixel (contiguous in
// NHWC), 16 at a time in four f32x4 accumulators, then 4, then the rest.
// Taps outside the input are skipped by computing each pixel's valid tap
// range (forward), its valid tap list (input gradient: with stride s only
// taps with kh·dh ≡ ih + padTop (mod s) reach row ih), or runs (filter
// gradient, as in conv-filter.ts, whose partials and reduce it shares).
import { ACT_NONE } from '../build/gen/activation';
import { ConvJob } from '../build/gen/conv';
import { filterPartialBytes, tapRuns } from './conv-filter';
import { SEG_BYTES } from './conv-kernel';
import { activate4, actGrad4, align64, fma4, load4, store4 } from './math';
import { partStart } from './parts';

// @ts-ignore: decorator
@inline function u(desc: usize, at: usize): i32 { return load<i32>(desc + at); }
// @ts-ignore: decorator
@inline function ptr(desc: usize, at: usize): usize { return <usize>load<u32>(desc + at); }

/** First index k ≥ 0 with base + k·d ≥ 0, and one past the last with base + k·d < size (clamped to [0, K]). */
// @ts-ignore: decorator
@inline function tapLo(base: i32, d: i32): i32 { return base >= 0 ? 0 : (-base + d - 1) / d; }
// @ts-ignore: decorator
@inline function tapHi(base: i32, d: i32, size: i32, K: i32): i32 { return size - 1 - base < 0 ? 0 : min(K, (size - 1 - base) / d + 1); }

export function depthwisePart(desc: usize, part: i32): void {
  const x = ptr(desc, ConvJob.x), w = ptr(desc, ConvJob.w), bias = ptr(desc, ConvJob.bias), out = ptr(desc, ConvJob.out);
  const N = u(desc, ConvJob.N), H = u(desc, ConvJob.H), W = u(desc, ConvJob.W), C = u(desc, ConvJob.C);
  const Ho = u(desc, ConvJob.Ho), Wo = u(desc, ConvJob.Wo);
  const Kh = u(desc, ConvJob.Kh), Kw = u(desc, ConvJob.Kw), sh = u(desc, ConvJob.sh), sw = u(desc, ConvJob.sw);
  const dh = u(desc, ConvJob.dh), dw = u(desc, ConvJob.dw), pt = u(desc, ConvJob.padTop), pl = u(desc, ConvJob.padLeft);
  const act = u(desc, ConvJob.act);
  const M = N * Ho * Wo, parts = u(desc, ConvJob.parts);
  const m0 = partStart(M, parts, part, 1), m1 = partStart(M, parts, part + 1, 1);
  const rowX = <usize>C << 2;
  // Three taps across at stride 1 (the common 3×3): blocks of four pixels of a row share their inputs.
  const quad = Kw == 3 && dw == 1 && sw == 1, C4 = C & ~3;
  let n = m0 / (Ho * Wo), oh = (m0 % (Ho * Wo)) / Wo, ow = m0 % Wo;
  for (let m = m0; m < m1;) {
    const ihb = oh * sh - pt, iwb = ow * sw - pl;
    const khA = tapLo(ihb, dh), khB = tapHi(ihb, dh, H, Kh);
    let P = 1;
    if (quad && khA < khB && m + 4 <= m1 && ow + 4 <= Wo && iwb >= 0 && iwb + 6 <= W) {
      // Four pixels whose windows lie inside the input across.
      P = 4;
      const xr = x + (<usize>(n * H + ihb) * W + iwb) * rowX, o = out + <usize>m * rowX;
      quadRows(xr, w, bias, o, <usize>C4 << 2, rowX, <usize>(W * dh) * rowX, khA, khB, act);
      for (let q = 0; q < 4; q++) pixelChannels(x, w, bias, out + <usize>(m + q) * rowX, C, C4, rowX, n, H, W, ihb, iwb + q, khA, khB, 0, 3, Kw, dh, 1, act);
    } else {
      const kwA = tapLo(iwb, dw), kwB = tapHi(iwb, dw, W, Kw);
      pixelChannels(x, w, bias, out + <usize>m * rowX, C, 0, rowX, n, H, W, ihb, iwb, khA, khB, kwA, kwB, Kw, dh, dw, act);
    }
    m += P; ow += P;
    while (ow >= Wo) { ow -= Wo; if (++oh == Ho) { oh = 0; n++; } }
  }
}

/**
 * Four pixels of a row whose windows lie inside across, channels [0, cEnd)
 * bytes: one pass over the channels per filter row, adding that row's three
 * taps to the outputs (still in L1 from the last pass), then the activation.
 * A pass's 12 products per four channels form chains three deep, short
 * enough for the CPU to overlap successive channels and run ahead to the
 * next loads; one pass doing all nine taps waits on each output's nine-deep
 * chain (1.2x slower in cache, 1.4x at batch 8). `xr` is the first window's
 * top-left input, rows `rowBytes` apart; taps kh in [khA, khB), khA < khB.
 */
// @ts-ignore: decorator
@inline function quadRows(xr: usize, w: usize, bias: usize, o: usize, cEnd: usize, rowX: usize, rowBytes: usize,
  khA: i32, khB: i32, act: i32): void {
  for (let kh = khA; kh < khB; kh++) {
    const xp = xr + <usize>kh * rowBytes, wp = w + <usize>(kh * 3) * rowX;
    const first = kh == khA ? (bias != 0 ? 1 : 2) : 0;
    // Pixel strides known at compile time (no address add per load): 1.2x.
    const whole = cEnd == rowX;
    if (whole && rowX == 64) quadPass<u8>(xp, wp, o, bias, first);
    else if (whole && rowX == 128) quadPass<u16>(xp, wp, o, bias, first);
    else if (whole && rowX == 256) quadPass<u32>(xp, wp, o, bias, first);
    else if (whole && rowX == 512) quadPass<u64>(xp, wp, o, bias, first);
    else if (whole && rowX == 1024) quadPass<v128>(xp, wp, o, bias, first);
    else quadPassAny(xp, wp, o, bias, cEnd, rowX, first);
  }
  if (act == ACT_NONE) return;
  for (let q: usize = 0; q < 4; q++) {
    const d = o + q * rowX;
    for (let cb: usize = 0; cb < cEnd; cb += 16) v128.store(d + cb, activate4(act, v128.load(d + cb)));
  }
}

/**
 * One filter row's three taps added to four pixels' outputs at `d` (pixels
 * `rowX` apart), channels [0, cEnd) bytes, four at a time. `first`: 0 adds
 * to the outputs, 1 starts from the bias at `bp`, 2 from zero.
 */
// @ts-ignore: decorator
@inline function quadPassAny(xp: usize, wp: usize, d: usize, bp: usize, cEnd: usize, rowX: usize, first: i32): void {
  const end = d + cEnd, r2 = rowX * 2, r3 = rowX * 3, r4 = rowX * 4, r5 = rowX * 5;
  for (; d < end; d += 16, xp += 16, wp += 16, bp += 16) {
    let a0: v128, a1: v128, a2: v128, a3: v128;
    if (first == 0) { a0 = v128.load(d); a1 = v128.load(d + rowX); a2 = v128.load(d + r2); a3 = v128.load(d + r3); }
    else { a0 = first == 1 ? v128.load(bp) : f32x4.splat(0); a1 = a0; a2 = a0; a3 = a0; }
    const w0 = v128.load(wp), w1 = v128.load(wp + rowX), w2 = v128.load(wp + r2);
    const x0 = v128.load(xp), x1 = v128.load(xp + rowX), x2 = v128.load(xp + r2);
    a0 = fma4(x0, w0, a0); a0 = fma4(x1, w1, a0); a0 = fma4(x2, w2, a0);
    a1 = fma4(x1, w0, a1); a1 = fma4(x2, w1, a1);
    a2 = fma4(x2, w0, a2);
    const x3 = v128.load(xp + r3);
    a1 = fma4(x3, w2, a1); a2 = fma4(x3, w1, a2); a3 = fma4(x3, w0, a3);
    const x4 = v128.load(xp + r4);
    a2 = fma4(x4, w2, a2); a3 = fma4(x4, w1, a3);
    a3 = fma4(v128.load(xp + r5), w2, a3);
    v128.store(d, a0); v128.store(d + rowX, a1); v128.store(d + r2, a2); v128.store(d + r3, a3);
  }
}

/** quadPassAny for pixels sizeof<T>()·64 bytes apart, every channel (cEnd = that stride). */
// @ts-ignore: decorator
@inline function quadPass<T>(xp: usize, wp: usize, d: usize, bp: usize, first: i32): void {
  const end = d + sizeof<T>() * 64;
  for (; d < end; d += 16, xp += 16, wp += 16, bp += 16) {
    let a0: v128, a1: v128, a2: v128, a3: v128;
    if (first == 0) { a0 = v128.load(d); a1 = v128.load(d, sizeof<T>() * 64); a2 = v128.load(d, sizeof<T>() * 128); a3 = v128.load(d, sizeof<T>() * 192); }
    else { a0 = first == 1 ? v128.load(bp) : f32x4.splat(0); a1 = a0; a2 = a0; a3 = a0; }
    const w0 = v128.load(wp), w1 = v128.load(wp, sizeof<T>() * 64), w2 = v128.load(wp, sizeof<T>() * 128);
    const x0 = v128.load(xp), x1 = v128.load(xp, sizeof<T>() * 64), x2 = v128.load(xp, sizeof<T>() * 128);
    a0 = fma4(x0, w0, a0); a0 = fma4(x1, w1, a0); a0 = fma4(x2, w2, a0);
    a1 = fma4(x1, w0, a1); a1 = fma4(x2, w1, a1);
    a2 = fma4(x2, w0, a2);
    const x3 = v128.load(xp, sizeof<T>() * 192);
    a1 = fma4(x3, w2, a1); a2 = fma4(x3, w1, a2); a3 = fma4(x3, w0, a3);
    const x4 = v128.load(xp, sizeof<T>() * 256);
    a2 = fma4(x4, w2, a2); a3 = fma4(x4, w1, a3);
    a3 = fma4(v128.load(xp, sizeof<T>() * 320), w2, a3);
    v128.store(d, a0); v128.store(d, a1, sizeof<T>() * 64); v128.store(d, a2, sizeof<T>() * 128); v128.store(d, a3, sizeof<T>() * 192);
  }
}

/** One pixel's channels from c0 on: taps kh in [khA, khB), kw in [kwA, kwB) (the valid ones). */
// @ts-ignore: decorator
@inline function pixelChannels(x: usize, w: usize, bias: usize, o: usize, C: i32, c0: i32, rowX: usize,
  n: i32, H: i32, W: i32, ihb: i32, iwb: i32, khA: i32, khB: i32, kwA: i32, kwB: i32, Kw: i32, dh: i32, dw: i32, act: i32): void {
  let c = c0;
  for (; c + 16 <= C; c += 16) {
    const cb = <usize>c << 2;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    if (bias != 0) { a0 = v128.load(bias + cb); a1 = v128.load(bias + cb, 16); a2 = v128.load(bias + cb, 32); a3 = v128.load(bias + cb, 48); }
    for (let kh = khA; kh < khB; kh++) {
      let xp = x + ((<usize>(n * H + ihb + kh * dh) * W + iwb + kwA * dw) * rowX) + cb;
      let wp = w + (<usize>(kh * Kw + kwA) * rowX) + cb;
      for (let kw = kwA; kw < kwB; kw++, xp += <usize>dw * rowX, wp += rowX) {
        a0 = fma4(v128.load(xp), v128.load(wp), a0);
        a1 = fma4(v128.load(xp, 16), v128.load(wp, 16), a1);
        a2 = fma4(v128.load(xp, 32), v128.load(wp, 32), a2);
        a3 = fma4(v128.load(xp, 48), v128.load(wp, 48), a3);
      }
    }
    if (act != ACT_NONE) { a0 = activate4(act, a0); a1 = activate4(act, a1); a2 = activate4(act, a2); a3 = activate4(act, a3); }
    v128.store(o + cb, a0); v128.store(o + cb, a1, 16); v128.store(o + cb, a2, 32); v128.store(o + cb, a3, 48);
  }
  for (; c < C; c += 4) {
    const cb = <usize>c << 2, r = min(4, C - c);
    let a = bias != 0 ? load4(bias + cb, r) : f32x4.splat(0);
    for (let kh = khA; kh < khB; kh++) {
      let xp = x + ((<usize>(n * H + ihb + kh * dh) * W + iwb + kwA * dw) * rowX) + cb;
      let wp = w + (<usize>(kh * Kw + kwA) * rowX) + cb;
      for (let kw = kwA; kw < kwB; kw++, xp += <usize>dw * rowX, wp += rowX) a = fma4(load4(xp, r), load4(wp, r), a);
    }
    if (act != ACT_NONE) a = activate4(act, a);
    store4(o + cb, a, r);
  }
}


/** dx[pixel, c] = Σ over the taps that reach the pixel of dy · w (dy already prologued by the host). */
export function depthwiseDataPart(desc: usize, part: i32, slot: i32): void {
  const dy = ptr(desc, ConvJob.x), w = ptr(desc, ConvJob.w), dx = ptr(desc, ConvJob.out);
  const N = u(desc, ConvJob.N), H = u(desc, ConvJob.H), W = u(desc, ConvJob.W), C = u(desc, ConvJob.C);
  const Ho = u(desc, ConvJob.Ho), Wo = u(desc, ConvJob.Wo);
  const Kh = u(desc, ConvJob.Kh), Kw = u(desc, ConvJob.Kw), sh = u(desc, ConvJob.sh), sw = u(desc, ConvJob.sw);
  const dh = u(desc, ConvJob.dh), dw = u(desc, ConvJob.dw), pt = u(desc, ConvJob.padTop), pl = u(desc, ConvJob.padLeft);
  const M = N * H * W, parts = u(desc, ConvJob.parts);
  const p0 = partStart(M, parts, part, 1), p1 = partStart(M, parts, part + 1, 1);
  // The pixel's taps: (dy byte offset, w byte offset) pairs.
  const list = ptr(desc, ConvJob.scratch) + <usize>slot * ptr(desc, ConvJob.scratchPart);
  const rowX = <usize>C << 2;
  for (let m = p0; m < p1; m++) {
    const n = m / (H * W), rem = m % (H * W), ih = rem / W, iw = rem % W;
    let taps = 0;
    for (let kh = 0; kh < Kh; kh++) {
      const nh = ih + pt - kh * dh;
      if (nh < 0) break;
      if (nh % sh != 0 || nh / sh >= Ho) continue;
      for (let kw = 0; kw < Kw; kw++) {
        const nw = iw + pl - kw * dw;
        if (nw < 0) break;
        if (nw % sw != 0 || nw / sw >= Wo) continue;
        const e = list + (<usize>taps << 3);
        store<u32>(e, <u32>((<usize>(n * Ho + nh / sh) * Wo + nw / sw) * rowX));
        store<u32>(e, <u32>(<usize>(kh * Kw + kw) * rowX), 4);
        taps++;
      }
    }
    const o = dx + <usize>m * rowX;
    let c = 0;
    for (; c + 16 <= C; c += 16) {
      const cb = <usize>c << 2;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let i = 0; i < taps; i++) {
        const e = list + (<usize>i << 3);
        const yp = dy + <usize>load<u32>(e) + cb, wp = w + <usize>load<u32>(e, 4) + cb;
        a0 = fma4(v128.load(yp), v128.load(wp), a0);
        a1 = fma4(v128.load(yp, 16), v128.load(wp, 16), a1);
        a2 = fma4(v128.load(yp, 32), v128.load(wp, 32), a2);
        a3 = fma4(v128.load(yp, 48), v128.load(wp, 48), a3);
      }
      v128.store(o + cb, a0); v128.store(o + cb, a1, 16); v128.store(o + cb, a2, 32); v128.store(o + cb, a3, 48);
    }
    for (; c < C; c += 4) {
      const cb = <usize>c << 2, r = min(4, C - c);
      let a = f32x4.splat(0);
      for (let i = 0; i < taps; i++) {
        const e = list + (<usize>i << 3);
        a = fma4(load4(dy + <usize>load<u32>(e) + cb, r), load4(w + <usize>load<u32>(e, 4) + cb, r), a);
      }
      store4(o + cb, a, r);
    }
  }
}

/** Partial dW[tap, c] of this part's pixels (as convFilterPart: chunks, staged dZ, runs). */
export function depthwiseFilterPart(desc: usize, part: i32, slot: i32): void {
  const x = ptr(desc, ConvJob.x), dy = ptr(desc, ConvJob.w), t = ptr(desc, ConvJob.t), pro = u(desc, ConvJob.pro);
  const dzOut = ptr(desc, ConvJob.dzOut), wantSums = ptr(desc, ConvJob.sumB) != 0;
  const N = u(desc, ConvJob.N), H = u(desc, ConvJob.H), W = u(desc, ConvJob.W), C = u(desc, ConvJob.C);
  const Ho = u(desc, ConvJob.Ho), Wo = u(desc, ConvJob.Wo);
  const Kh = u(desc, ConvJob.Kh), Kw = u(desc, ConvJob.Kw), sh = u(desc, ConvJob.sh), sw = u(desc, ConvJob.sw);
  const dh = u(desc, ConvJob.dh), dw = u(desc, ConvJob.dw), pt = u(desc, ConvJob.padTop), pl = u(desc, ConvJob.padLeft);
  const cap = u(desc, ConvJob.chunk), T = Kh * Kw;
  const M = N * Ho * Wo, parts = u(desc, ConvJob.parts);
  const partial = ptr(desc, ConvJob.packed) + <usize>part * filterPartialBytes(T, 1, C);
  const sums = partial + align64(<usize>(T * C) << 2);
  memory.fill(partial, 0, filterPartialBytes(T, 1, C));
  const p0 = partStart(M, parts, part, 1), p1 = partStart(M, parts, part + 1, 1);
  if (p0 >= p1) return;
  const staged = ptr(desc, ConvJob.scratch) + <usize>slot * ptr(desc, ConvJob.scratchPart);
  const runs = staged + align64(<usize>(C * cap) << 2);
  const rowX = <usize>C << 2, xStep = <usize>sw * rowX;
  for (let c0 = p0; c0 < p1; c0 += cap) {
    const cn = min(cap, p1 - c0);
    // Stage dZ = op(t, dy) rows (row-major, as dy), with the bias sums in f64.
    for (let m = 0; m < cn; m++) {
      const at = <usize>(c0 + m) * rowX, d = staged + <usize>m * rowX;
      for (let c = 0; c < C; c += 4) {
        const cb = <usize>c << 2, r = min(4, C - c);
        let v = load4(dy + at + cb, r);
        if (pro != 0) v = actGrad4(pro, load4(t + at + cb, r), v);
        store4(d + cb, v, r);
        if (dzOut != 0) store4(dzOut + at + cb, v, r);
        if (wantSums) {
          const s = sums + (<usize>c << 3);
          v128.store(s, f64x2.add(v128.load(s), f64x2.promote_low_f32x4(v)));
          if (r > 2) v128.store(s, f64x2.add(v128.load(s, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))), 16);
        }
      }
    }
    for (let kh = 0; kh < Kh; kh++) {
      for (let kw = 0; kw < Kw; kw++) {
        const nr = tapRuns(runs, x, c0, cn, kh, kw, C * 4, H, W, C, Ho, Wo, sh, sw, dh, dw, pt, pl);
        if (nr == 0) continue;
        const drow = partial + <usize>(kh * Kw + kw) * rowX;
        let c = 0;
        for (; c + 16 <= C; c += 16) {
          const cb = <usize>c << 2;
          let a0 = v128.load(drow + cb), a1 = v128.load(drow + cb, 16), a2 = v128.load(drow + cb, 32), a3 = v128.load(drow + cb, 48);
          for (let s = 0; s < nr; s++) {
            const rec = runs + (<usize>s << 5);
            let dp = staged + <usize>load<u32>(rec) + cb;
            let xp = <usize>load<u32>(rec, 8) + cb;
            const len = load<i32>(rec, 4);
            for (let i = 0; i < len; i++, dp += rowX, xp += xStep) {
              a0 = fma4(v128.load(xp), v128.load(dp), a0);
              a1 = fma4(v128.load(xp, 16), v128.load(dp, 16), a1);
              a2 = fma4(v128.load(xp, 32), v128.load(dp, 32), a2);
              a3 = fma4(v128.load(xp, 48), v128.load(dp, 48), a3);
            }
          }
          v128.store(drow + cb, a0); v128.store(drow + cb, a1, 16); v128.store(drow + cb, a2, 32); v128.store(drow + cb, a3, 48);
        }
        for (; c < C; c += 4) {
          const cb = <usize>c << 2, r = min(4, C - c);
          let a = load4(drow + cb, r);
          for (let s = 0; s < nr; s++) {
            const rec = runs + (<usize>s << 5);
            let dp = staged + <usize>load<u32>(rec) + cb;
            let xp = <usize>load<u32>(rec, 8) + cb;
            const len = load<i32>(rec, 4);
            for (let i = 0; i < len; i++, dp += rowX, xp += xStep) a = fma4(load4(xp, r), load4(dp, r), a);
          }
          store4(drow + cb, a, r);
        }
      }
    }
  }
}

// SEG_BYTES is the run record size tapRuns writes (shared with conv-filter.ts).
export const DEPTHWISE_RUN_BYTES: usize = SEG_BYTES;
