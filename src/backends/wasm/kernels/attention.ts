// Fused attention on WASM (kernels-as/attention.ts): one AttentionJob per pass.
// The forward and the dQ pass split (batch·head, query block) units over the
// threads, the dK/dV pass (batch·kvHead, key block) units, the one-pass
// backward batch·kvHead units: each part writes its own rows, so no two
// threads write the same output.
import { ATTN, AttentionJob, type AttentionParams } from '../../primitives/attention.js';
import type { WasmHandle, WasmRuntime } from '../runtime.js';

/** Query rows per block and keys per tile (BQ, BK in kernels-as/attention-tiles.ts): the units of a part. */
const BLOCK = 64;
/** Rows of a micro-tile (MR in kernels-as/attention-tiles.ts): each head's dQ accumulator is padded to it. */
const TILE_ROWS = 4;
/**
 * Largest dQ accumulator (bytes per thread) the one-pass backward may take:
 * beyond it (long sequences with many query heads per key/value head) the two
 * passes run, whose scratch does not grow with the sequence.
 */
const FUSED_MAX_DQ_BYTES = 16 << 20;

type Pass = keyof typeof ATTN.codes;

function checkArgs(rt: WasmRuntime, p: AttentionParams<WasmHandle>, hs: Record<string, [WasmHandle, number]>): void {
  for (const [what, [h, n]] of Object.entries(hs)) rt.check(h, n, `attention ${what}`);
  if (p.mask) rt.check(p.mask.h, p.mask.size, 'attention mask');
  if (p.keyLengths) rt.check(p.keyLengths, p.batch, 'attention keyLengths');
}

/** Runs one pass: `units` blocks, split over the threads that `flops` of work is worth. */
function run(rt: WasmRuntime, pass: Pass, p: AttentionParams<WasmHandle>, ptrs: {
  q: WasmHandle; k: WasmHandle; v: WasmHandle; out: WasmHandle; lse: WasmHandle;
  dout?: WasmHandle; dq?: WasmHandle; dk?: WasmHandle; dv?: WasmHandle; dbias?: WasmHandle | null; drow?: number;
}, units: number, flops: number, dqRows = 0): void {
  const parts = rt.partsFor(flops, units);
  const perSlot = Math.ceil(rt.k.attentionScratch(p.D, dqRows) / 64) * 64;
  const s = p.mask?.strides ?? [0, 0, 0, 0];
  rt.withScratch(perSlot * (parts > 1 ? rt.threads : 1), (scratch) => rt.job('attention', AttentionJob, {
    pass: ATTN.codes[pass], q: ptrs.q.ptr, k: ptrs.k.ptr, v: ptrs.v.ptr, out: ptrs.out.ptr, lse: ptrs.lse.ptr,
    dout: ptrs.dout?.ptr ?? 0, dq: ptrs.dq?.ptr ?? 0, dk: ptrs.dk?.ptr ?? 0, dv: ptrs.dv?.ptr ?? 0,
    drow: ptrs.drow ?? 0, dbias: ptrs.dbias?.ptr ?? 0, mask: p.mask?.h.ptr ?? 0, lens: p.keyLengths?.ptr ?? 0,
    batch: p.batch, heads: p.heads, group: p.heads / p.kvHeads, lq: p.Lq, lk: p.Lk, d: p.D, scale: p.scale, causal: +p.causal,
    maskB: s[0], maskH: s[1], maskQ: s[2], maskK: s[3], scratch, scratchPart: perSlot, parts,
  }, parts));
}

/** Multiply-adds of the score and value products (2 flops each), halved under a causal mask. */
function flops(p: AttentionParams<unknown>, products: number): number {
  return products * 2 * p.batch * p.heads * p.Lq * p.Lk * p.D * (p.causal ? 0.5 : 1);
}

export function attention(rt: WasmRuntime, q: WasmHandle, k: WasmHandle, v: WasmHandle, out: WasmHandle, lse: WasmHandle,
  p: AttentionParams<WasmHandle>): void {
  const nq = p.batch * p.heads * p.Lq, nk = p.batch * p.kvHeads * p.Lk;
  checkArgs(rt, p, { q: [q, nq * p.D], k: [k, nk * p.D], v: [v, nk * p.D], out: [out, nq * p.D], lse: [lse, nq] });
  if (nq === 0) return;
  run(rt, 'forward', p, { q, k, v, out, lse }, p.batch * p.heads * Math.ceil(p.Lq / BLOCK), flops(p, 2));
}

export function attentionBackward(rt: WasmRuntime, q: WasmHandle, k: WasmHandle, v: WasmHandle, out: WasmHandle, lse: WasmHandle,
  dout: WasmHandle, dq: WasmHandle, dk: WasmHandle, dv: WasmHandle, p: AttentionParams<WasmHandle>, dbias: WasmHandle | null): void {
  const nq = p.batch * p.heads * p.Lq, nk = p.batch * p.kvHeads * p.Lk;
  checkArgs(rt, p, {
    q: [q, nq * p.D], k: [k, nk * p.D], v: [v, nk * p.D], out: [out, nq * p.D], lse: [lse, nq],
    dout: [dout, nq * p.D], dq: [dq, nq * p.D], dk: [dk, nk * p.D], dv: [dv, nk * p.D],
  });
  if (dbias) rt.check(dbias, nq * p.Lk, 'attention dbias');
  if (nq === 0 && nk === 0) return;
  const all = { q, k, v, out, lse, dout, dq, dk, dv, dbias };
  const groups = p.batch * p.kvHeads, dqRows = (p.heads / Math.max(p.kvHeads, 1)) * Math.ceil(p.Lq / TILE_ROWS) * TILE_ROWS;
  // rowsum(dO ⊙ O) per query row: written by the dQ pass (or the one pass), read by the dK/dV pass.
  rt.withScratch(nq * 4, (drow) => {
    if (fused(rt, p, groups, dqRows)) run(rt, 'backward', p, { ...all, drow }, groups, flops(p, 5), dqRows);
    else {
      if (nq > 0) run(rt, 'backwardQ', p, { ...all, drow }, p.batch * p.heads * Math.ceil(p.Lq / BLOCK), flops(p, 3));
      if (nk > 0) run(rt, 'backwardKV', p, { ...all, drow }, p.batch * p.kvHeads * Math.ceil(p.Lk / BLOCK), flops(p, 4));
    }
  });
}

/**
 * Whether the one-pass backward (5 products per tile pair, batch·kvHead units)
 * beats the two passes (7 products, units of one block): it does unless it
 * leaves threads idle, e.g. one key/value head on two threads.
 */
function fused(rt: WasmRuntime, p: AttentionParams<WasmHandle>, groups: number, dqRows: number): boolean {
  if (dqRows * Math.ceil(p.D / 8) * 32 > FUSED_MAX_DQ_BYTES) return false;
  const split = rt.partsFor(flops(p, 7), Infinity), one = rt.partsFor(flops(p, 5), groups);
  return Math.ceil(groups / one) * 5 <= (7 * groups) / split;
}
