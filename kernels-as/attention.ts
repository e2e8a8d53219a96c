// Fused scaled dot-product attention (FlashAttention-2) on f32x4, passes of
// one job (AttentionJob, layout in src/backends/primitives/attention.ts):
//
// forward (units: batch·head × blocks of BQ query rows): the block's queries,
//   scaled, are packed once; for each tile of BK keys: S = Q·Kᵀ, masks,
//   an online softmax (running max m and sum l per row; the accumulator is
//   rescaled when the max grows), acc += P·V. Then out = acc / l and
//   lse = m + log l. Only BQ × BK scores exist at a time.
// backwardQ (same units): D_i = rowsum(dO ⊙ O) (kept in `drow` for the next
//   pass); for each key tile, P = exp(S − lse) recomputed, dP = dO·Vᵀ,
//   dS = P ⊙ (dP − D), dQ += dS·K; dQ = scale·dQ. With `dbias`, dS is also
//   stored (the gradient of an additive mask that needs one).
// backwardKV (units: batch·kvHead × blocks of BK keys): for each query head
//   of the group and each query tile, the same P and dS; dV += Pᵀ·dO and
//   dK += dSᵀ·Q; dK = scale·dK. Parts never write the same rows.
// backward (units: batch·kvHead): one pass doing both: D_i for the group's
//   query rows, then each key block as backwardKV plus dQ += dS·K into a
//   per-thread accumulator, as FlashAttention-2's backward (5 products per
//   tile pair instead of 7). The unit owns every row it writes, so no atomics;
//   the JS side picks it where batch·kvHead units keep the threads busy.
//
// Masking: causal (key j > query i), key lengths (j ≥ len[b]) and the
// additive mask. A row with no visible key gets out = 0 and lse = +inf, so
// every P = exp(s − lse) of the backward is 0 for it: zero gradients, no NaN.
import { ATTN_BACKWARD, ATTN_BACKWARD_KV, ATTN_BACKWARD_Q, AttentionJob } from '../build/gen/attention';
import { align64, expNeg4, hsum4, load4, store4 } from './math';
import { expRow, gradRow, maskRow, rowMax, zeroFrom } from './attention-softmax';
import { accumulate, BK, BQ, LD, MR, packChunks, packRows, packT, roundUp, scores } from './attention-tiles';

// One call's parameters, read from its descriptor into this instance's globals
// (each thread has its own instance; the runtime is a stub with no heap to spare).
let Q: usize = 0, K: usize = 0, V: usize = 0, OUT: usize = 0, LSE: usize = 0, DOUT: usize = 0;
let DQ: usize = 0, DK: usize = 0, DV: usize = 0, DROW: usize = 0, DBIAS: usize = 0, MASK: usize = 0, LENS: usize = 0;
let HEADS = 0, GROUP = 0, LQ = 0, LK = 0, HD = 0, SCALE: f32 = 1, CAUSAL = false;
let MB = 0, MH = 0, MQ = 0, MK = 0;

function readJob(desc: usize): void {
  Q = load<u32>(desc + AttentionJob.q); K = load<u32>(desc + AttentionJob.k); V = load<u32>(desc + AttentionJob.v);
  OUT = load<u32>(desc + AttentionJob.out); LSE = load<u32>(desc + AttentionJob.lse); DOUT = load<u32>(desc + AttentionJob.dout);
  DQ = load<u32>(desc + AttentionJob.dq); DK = load<u32>(desc + AttentionJob.dk); DV = load<u32>(desc + AttentionJob.dv);
  DROW = load<u32>(desc + AttentionJob.drow); DBIAS = load<u32>(desc + AttentionJob.dbias);
  MASK = load<u32>(desc + AttentionJob.mask); LENS = load<u32>(desc + AttentionJob.lens);
  HEADS = load<i32>(desc + AttentionJob.heads); GROUP = load<i32>(desc + AttentionJob.group);
  LQ = load<i32>(desc + AttentionJob.lq); LK = load<i32>(desc + AttentionJob.lk); HD = load<i32>(desc + AttentionJob.d);
  SCALE = load<f32>(desc + AttentionJob.scale); CAUSAL = load<u32>(desc + AttentionJob.causal) != 0;
  MB = load<i32>(desc + AttentionJob.maskB); MH = load<i32>(desc + AttentionJob.maskH);
  MQ = load<i32>(desc + AttentionJob.maskQ); MK = load<i32>(desc + AttentionJob.maskK);
}

/** Keys visible to batch entry b (key lengths). */
function keyLen(b: i32): i32 { return LENS ? <i32>load<f32>(LENS + (<usize>b << 2)) : LK; }
/** Byte address of the mask value for (b, h, i, j), or 0 without a mask. */
function maskAt(b: i32, h: i32, i: i32, j: i32): usize {
  if (!MASK) return 0;
  return MASK + ((<usize>b * MB + <usize>h * MH + <usize>i * MQ + <usize>j * MK) << 2);
}
/** Byte address of row i of (batch·head) bh of a [.., L, HD] tensor. */
// @ts-ignore: decorator
@inline function row(base: usize, bh: i32, L: i32, i: i32): usize { return base + (((<usize>bh * L + i) * HD) << 2); }

// Scratch of one thread (bytes from its slot), the same layout for every pass.
// @ts-ignore: decorator
@inline function panelBytes(D: i32): usize { return align64((<usize>roundUp(BQ, MR) * D) << 2); }
// @ts-ignore: decorator
@inline function tileTBytes(D: i32): usize { return align64((<usize>D * LD) << 2); }
// @ts-ignore: decorator
@inline function chunkBytes(D: i32): usize { return align64((<usize>max(BQ, BK) * roundUp(D, 8)) << 2); }
const SCORE_BYTES: usize = <usize>BQ * LD * 4;
// @ts-ignore: decorator
@inline function accBytes(D: i32): usize { return align64((<usize>max(BQ, BK) * roundUp(D, 8)) << 2); }
const ROW_BYTES: usize = 256;

// @ts-ignore: decorator
@inline function tileBytes(D: i32): usize {
  return 2 * panelBytes(D) + 2 * tileTBytes(D) + 3 * chunkBytes(D) + 2 * SCORE_BYTES + 2 * accBytes(D) + 2 * ROW_BYTES;
}

/**
 * Bytes of scratch one thread needs for attention with head dimension D: the
 * tiles, and for the fused backward `dqRows` rows of dQ accumulator.
 */
export function attentionScratch(D: i32, dqRows: i32): f64 {
  return <f64>tileBytes(D) + <f64>dqRows * <f64>(roundUp(D, 8) * 4);
}

// This thread's scratch blocks (set per part from its slot).
let QP: usize = 0, OP: usize = 0, KT: usize = 0, VT: usize = 0, C1: usize = 0, C2: usize = 0, C3: usize = 0, S: usize = 0, T: usize = 0;
let ACC: usize = 0, ACC2: usize = 0, RA: usize = 0, RB: usize = 0, DQA: usize = 0;

function scratchAt(base: usize, D: i32): void {
  QP = base; OP = QP + panelBytes(D);
  KT = OP + panelBytes(D); VT = KT + tileTBytes(D);
  C1 = VT + tileTBytes(D); C2 = C1 + chunkBytes(D); C3 = C2 + chunkBytes(D);
  S = C3 + chunkBytes(D); T = S + SCORE_BYTES;
  ACC = T + SCORE_BYTES; ACC2 = ACC + accBytes(D);
  RA = ACC2 + accBytes(D); RB = RA + ROW_BYTES;
  DQA = base + tileBytes(D);
}

/** Visible keys of query row i in a tile of n keys from key j0 (causal cuts it; <= 0: none). */
// @ts-ignore: decorator
@inline function visible(i: i32, j0: i32, n: i32): i32 { return CAUSAL ? min(n, i - j0 + 1) : n; }

/** Zeroes rows [m, m rounded up to MR) of a score tile: A operands are read in whole panels. */
function zeroTail(s: usize, m: i32): void {
  for (let r = m; r < roundUp(m, MR); r++) zeroFrom(s + ((<usize>r * LD) << 2), 0);
}

/** Index of (batch, kv head) of query head h of batch b. */
// @ts-ignore: decorator
@inline function kvIndex(b: i32, h: i32): i32 { return b * (HEADS / GROUP) + h / GROUP; }

function forwardUnit(u: i32): void {
  const blocks = (LQ + BQ - 1) / BQ;
  const bh = u / blocks, i0 = (u % blocks) * BQ, m = min(BQ, LQ - i0);
  const b = bh / HEADS, h = bh % HEADS, kvh = kvIndex(b, h);
  const D = HD, ldc = (<usize>roundUp(D, 8)) << 2;
  const kLen = keyLen(b), kEnd = CAUSAL ? min(kLen, i0 + m) : kLen;
  packRows(row(Q, bh, LQ, i0), <usize>D << 2, m, D, SCALE, QP);
  memory.fill(ACC, 0, <usize>roundUp(m, MR) * ldc);
  for (let r = 0; r < m; r++) { store<f32>(RA + (<usize>r << 2), -Infinity); store<f32>(RB + (<usize>r << 2), 0); }
  for (let j0 = 0; j0 < kEnd; j0 += BK) {
    const n = min(BK, kEnd - j0);
    const kt = row(K, kvh, LK, j0), vt = row(V, kvh, LK, j0);
    packT(kt, n, D, KT);
    packChunks(vt, n, D, C1);
    scores(QP, m, KT, roundUp(n, 8), D, S);
    for (let r = 0; r < m; r++) {
      const i = i0 + r, s = S + ((<usize>r * LD) << 2), ra = RA + (<usize>r << 2), rb = RB + (<usize>r << 2);
      const lim = visible(i, j0, n);
      const mOld = load<f32>(ra);
      let mNew: f32 = -Infinity;
      if (lim > 0) {
        maskRow(s, lim, maskAt(b, h, i, j0), MK != 0);
        mNew = max(mOld, rowMax(s, lim));
      }
      if (mNew == -Infinity) { zeroFrom(s, 0); continue; } // nothing visible yet: m and l stay
      const sum = expRow(s, lim, mNew);
      store<f32>(ra, mNew);
      // Nothing summed yet: the accumulator row is still 0, no rescale.
      if (mOld == -Infinity) { store<f32>(rb, sum); continue; }
      // Rescale what was summed under the old max.
      const alpha = f32x4.extract_lane(expNeg4(f32x4.splat(mOld - mNew)), 0);
      store<f32>(rb, load<f32>(rb) * alpha + sum);
      if (alpha != 1) {
        const va = f32x4.splat(alpha);
        const a = ACC + <usize>r * ldc;
        for (let d = 0; d < D; d += 4) v128.store(a + (<usize>d << 2), f32x4.mul(v128.load(a + (<usize>d << 2)), va));
      }
    }
    zeroTail(S, m);
    accumulate(false, S, m, n, C1, D, ACC, ldc);
  }
  for (let r = 0; r < m; r++) {
    const l = load<f32>(RB + (<usize>r << 2));
    const o = row(OUT, bh, LQ, i0 + r), a = ACC + <usize>r * ldc;
    const inv = f32x4.splat(l > 0 ? 1 / l : 0);
    for (let d = 0; d < D; d += 4) store4(o + (<usize>d << 2), f32x4.mul(v128.load(a + (<usize>d << 2)), inv), min(4, D - d));
    const lse: f32 = l > 0 ? load<f32>(RA + (<usize>r << 2)) + <f32>Math.log(<f64>l) : Infinity;
    store<f32>(LSE + ((<usize>bh * LQ + i0 + r) << 2), lse);
  }
}

/** Σ a·b over one row of D floats. */
function dotRow(a: usize, b: usize, D: i32): f32 {
  let acc = f32x4.splat(0);
  for (let d = 0; d < D; d += 4) {
    const at = <usize>d << 2, w = min(4, D - d);
    acc = f32x4.add(acc, f32x4.mul(load4(a + at, w), load4(b + at, w)));
  }
  return hsum4(acc);
}

function backwardQUnit(u: i32): void {
  const blocks = (LQ + BQ - 1) / BQ;
  const bh = u / blocks, i0 = (u % blocks) * BQ, m = min(BQ, LQ - i0);
  const b = bh / HEADS, h = bh % HEADS, kvh = kvIndex(b, h);
  const D = HD, ldc = (<usize>roundUp(D, 8)) << 2, ld = <usize>D << 2;
  const kLen = keyLen(b), kEnd = CAUSAL ? min(kLen, i0 + m) : kLen;
  packRows(row(Q, bh, LQ, i0), ld, m, D, SCALE, QP);
  packRows(row(DOUT, bh, LQ, i0), ld, m, D, 1, OP);
  for (let r = 0; r < m; r++) {
    const at = (<usize>bh * LQ + i0 + r) << 2;
    const di = dotRow(row(DOUT, bh, LQ, i0 + r), row(OUT, bh, LQ, i0 + r), D);
    store<f32>(RB + (<usize>r << 2), di);
    store<f32>(DROW + at, di);
    store<f32>(RA + (<usize>r << 2), load<f32>(LSE + at));
  }
  memory.fill(ACC, 0, <usize>roundUp(m, MR) * ldc);
  for (let j0 = 0; j0 < kEnd; j0 += BK) {
    const n = min(BK, kEnd - j0), n8 = roundUp(n, 8);
    const kt = row(K, kvh, LK, j0), vt = row(V, kvh, LK, j0);
    packT(kt, n, D, KT);
    packT(vt, n, D, VT);
    packChunks(kt, n, D, C1);
    scores(QP, m, KT, n8, D, S);
    scores(OP, m, VT, n8, D, T);
    for (let r = 0; r < m; r++) {
      const i = i0 + r, off = (<usize>r * LD) << 2;
      gradRow(S + off, T + off, visible(i, j0, n), maskAt(b, h, i, j0), MK != 0, load<f32>(RA + (<usize>r << 2)), load<f32>(RB + (<usize>r << 2)));
      if (DBIAS) memory.copy(DBIAS + (((<usize>bh * LQ + i) * LK + j0) << 2), T + off, <usize>n << 2);
    }
    zeroTail(T, m);
    accumulate(false, T, m, n, C1, D, ACC, ldc);
  }
  const vs = f32x4.splat(SCALE);
  for (let r = 0; r < m; r++) {
    const o = row(DQ, bh, LQ, i0 + r), a = ACC + <usize>r * ldc;
    for (let d = 0; d < D; d += 4) store4(o + (<usize>d << 2), f32x4.mul(v128.load(a + (<usize>d << 2)), vs), min(4, D - d));
  }
}

/**
 * dK and dV of the keys [j0, j0 + BK) of (batch b, key/value head hk), summed
 * over the query blocks of every query head of its group. `fused` (the one-
 * pass backward) also adds dQ += dS·K into this thread's accumulator DQA
 * (GROUP heads × LQ rounded up to MR rows, so padded panel rows stay in the
 * head's own rows) and stores dS where the mask needs it.
 */
function keyBlock(b: i32, hk: i32, j0: i32, fused: bool): void {
  const bkv = b * (HEADS / GROUP) + hk;
  const D = HD, ldc = (<usize>roundUp(D, 8)) << 2, ld = <usize>D << 2;
  const nAll = min(BK, LK - j0), n = min(nAll, keyLen(b) - j0), n8 = roundUp(n, 8);
  memory.fill(ACC, 0, <usize>BK * ldc);
  memory.fill(ACC2, 0, <usize>BK * ldc);
  if (n > 0) {
    packT(row(K, bkv, LK, j0), n, D, KT);
    packT(row(V, bkv, LK, j0), n, D, VT);
    if (fused) packChunks(row(K, bkv, LK, j0), n, D, C3);
    for (let g = 0; g < GROUP; g++) {
      const h = hk * GROUP + g, bh = b * HEADS + h;
      // Causal: queries before j0 see none of these keys.
      for (let i0 = CAUSAL ? j0 : 0; i0 < LQ; i0 += BQ) {
        const m = min(BQ, LQ - i0);
        const q = row(Q, bh, LQ, i0), dout = row(DOUT, bh, LQ, i0);
        packRows(q, ld, m, D, SCALE, QP);
        packRows(dout, ld, m, D, 1, OP);
        packChunks(dout, m, D, C1);
        packChunks(q, m, D, C2);
        scores(QP, m, KT, n8, D, S);
        scores(OP, m, VT, n8, D, T);
        for (let r = 0; r < m; r++) {
          const i = i0 + r, off = (<usize>r * LD) << 2, at = (<usize>bh * LQ + i) << 2;
          gradRow(S + off, T + off, visible(i, j0, n), maskAt(b, h, i, j0), MK != 0, load<f32>(LSE + at), load<f32>(DROW + at));
          if (fused && DBIAS) memory.copy(DBIAS + (((<usize>bh * LQ + i) * LK + j0) << 2), T + off, <usize>n << 2);
        }
        // Rows = keys (the tiles read transposed), summed over the m queries.
        accumulate(true, S, n, m, C1, D, ACC2, ldc);
        accumulate(true, T, n, m, C2, D, ACC, ldc);
        if (fused) {
          zeroTail(T, m);
          accumulate(false, T, m, n, C3, D, DQA + (<usize>g * roundUp(LQ, MR) + i0) * ldc, ldc);
        }
      }
    }
  }
  const vs = f32x4.splat(SCALE), zero = f32x4.splat(0);
  for (let r = 0; r < nAll; r++) {
    const ok = r < n;
    const dk = row(DK, bkv, LK, j0 + r), dv = row(DV, bkv, LK, j0 + r);
    const a = ACC + <usize>r * ldc, a2 = ACC2 + <usize>r * ldc;
    for (let d = 0; d < D; d += 4) {
      const at = <usize>d << 2, wd = min(4, D - d);
      store4(dk + at, ok ? f32x4.mul(v128.load(a + at), vs) : zero, wd);
      store4(dv + at, ok ? v128.load(a2 + at) : zero, wd);
    }
  }
}

function backwardKVUnit(u: i32): void {
  const blocks = (LK + BK - 1) / BK, kvHeads = HEADS / GROUP;
  const bkv = u / blocks;
  keyBlock(bkv / kvHeads, bkv % kvHeads, (u % blocks) * BK, false);
}

/**
 * The whole backward of (batch, key/value head) u in one pass: D_i, then every
 * key block as the dK/dV pass plus dQ += dS·K (5 products per tile pair, the
 * two passes take 7), then dQ.
 */
function backwardUnit(u: i32): void {
  const kvHeads = HEADS / GROUP, b = u / kvHeads, hk = u % kvHeads;
  const D = HD, ldc = (<usize>roundUp(D, 8)) << 2, rows = roundUp(LQ, MR);
  for (let g = 0; g < GROUP; g++) {
    const bh = b * HEADS + hk * GROUP + g;
    for (let i = 0; i < LQ; i++) store<f32>(DROW + ((<usize>bh * LQ + i) << 2), dotRow(row(DOUT, bh, LQ, i), row(OUT, bh, LQ, i), D));
  }
  memory.fill(DQA, 0, <usize>GROUP * rows * ldc);
  for (let j0 = 0; j0 < LK; j0 += BK) keyBlock(b, hk, j0, true);
  const vs = f32x4.splat(SCALE);
  for (let g = 0; g < GROUP; g++) {
    const bh = b * HEADS + hk * GROUP + g;
    for (let i = 0; i < LQ; i++) {
      const o = row(DQ, bh, LQ, i), a = DQA + (<usize>g * rows + i) * ldc;
      for (let d = 0; d < D; d += 4) store4(o + (<usize>d << 2), f32x4.mul(v128.load(a + (<usize>d << 2)), vs), min(4, D - d));
    }
  }
}

/** Part `part` of the AttentionJob at `desc`: units part, part + parts, … of its pass. */
export function attentionPart(desc: usize, part: i32, slot: i32): void {
  readJob(desc);
  const parts = load<i32>(desc + AttentionJob.parts), pass = load<i32>(desc + AttentionJob.pass), batch = load<i32>(desc + AttentionJob.batch);
  scratchAt(<usize>load<u32>(desc + AttentionJob.scratch) + <usize>slot * <usize>load<u32>(desc + AttentionJob.scratchPart), HD);
  if (pass == ATTN_BACKWARD) {
    for (let u = part; u < batch * (HEADS / GROUP); u += parts) backwardUnit(u);
    return;
  }
  if (pass == ATTN_BACKWARD_KV) {
    const units = batch * (HEADS / GROUP) * ((LK + BK - 1) / BK);
    for (let u = part; u < units; u += parts) backwardKVUnit(u);
    return;
  }
  const units = batch * HEADS * ((LQ + BQ - 1) / BQ);
  if (pass == ATTN_BACKWARD_Q) for (let u = part; u < units; u += parts) backwardQUnit(u);
  else for (let u = part; u < units; u += parts) forwardUnit(u);
}
