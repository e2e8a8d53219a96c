// Dispatch of fused attention (kernels-wgsl/attention.wgsl). One invocation
// per query row (forward, dQ) or key row (dK/dV). On a GPU the other side's
// rows come through workgroup-memory tiles sized to the device's limit; on a
// CPU adapter (SwiftShader) invocations read them from storage, without
// barriers, in small workgroups that spread over the cores.
import { AttentionDims, type AttentionParams } from '../../primitives/attention.js';
import type { Kernel } from '../pipelines.js';
import { params, WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';

/** The largest head dimension: one row lives in registers as D4 ≤ 64 vec4s. */
export const MAX_HEAD_DIM = 256;

/** Rows per workgroup: 64 on a GPU; 16 on a CPU adapter (more workgroups for its threads). */
const ROWS_GPU = 64, ROWS_CPU = 16;

/** The head-dimension class: vec4s per row, a power of two ≥ ceil(D / 4). */
export function headClass(D: number): number {
  let d4 = 1;
  while (d4 * 4 < D) d4 *= 2;
  return d4;
}

/** Workgroup rows, tile rows, the head-dimension class, tiles in workgroup memory, loops bounded at run time. */
interface Shape { rows: number; tile: number; d4: number; shared: boolean; dyn: boolean }

/** 'auto': workgroup tiles on a GPU, direct reads on a CPU adapter; or force one (tests). */
export type AttentionVariant = 'auto' | 'tiled' | 'direct';

function shapeFor(rt: GpuRuntime, D: number, variant: AttentionVariant): Shape {
  const cpu = rt.isFallbackAdapter;
  if (variant === 'direct' || (variant === 'auto' && cpu)) {
    // A CPU adapter compiles one pipeline per entry point for every head dimension (a second or
    // two each on SwiftShader): loops bounded at run time, which it gains nothing from unrolling.
    return cpu ? { rows: ROWS_CPU, tile: 32, d4: MAX_HEAD_DIM / 4, shared: false, dyn: true }
      : { rows: ROWS_GPU, tile: 32, d4: headClass(D), shared: false, dyn: false };
  }
  // Two tiles of TILE rows × D4 vec4s in workgroup memory. (Forced onto a CPU adapter for tests,
  // smaller workgroups; SwiftShader takes 2-30 s to compile these, growing with D4.)
  const d4 = headClass(D);
  const limit = rt.device.limits.maxComputeWorkgroupStorageSize;
  let tile = ROWS_GPU;
  while (tile > 4 && 2 * tile * d4 * 16 > limit) tile /= 2;
  return { rows: cpu ? ROWS_CPU : ROWS_GPU, tile: cpu ? Math.min(tile, ROWS_CPU) : tile, d4, shared: true, dyn: false };
}

function kernel(entry: string, s: Shape): Kernel {
  return {
    file: 'attention', entry,
    constants: { WG: s.rows, D4: s.d4, TILE: s.tile, SHARED: s.shared, TILE_WORDS: s.shared ? s.tile * s.d4 : 1, DYN_D: s.dyn },
  };
}

function dims(p: AttentionParams<GpuHandle>, blocks: number, hasBias: boolean) {
  const st = p.mask?.strides ?? [0, 0, 0, 0];
  return params(AttentionDims, {
    batch: p.batch, heads: p.heads, group: p.heads / p.kvHeads, lq: p.Lq, lk: p.Lk, d: p.D, scale: p.scale, causal: +p.causal,
    maskB: st[0], maskH: st[1], maskQ: st[2], maskK: st[3], hasMask: +!!p.mask, hasLens: +!!p.keyLengths, blocks, hasBias: +hasBias,
  });
}

function checkArgs(rt: GpuRuntime, p: AttentionParams<GpuHandle>, hs: Record<string, [GpuHandle, number]>): void {
  rt.live();
  if (p.D > MAX_HEAD_DIM) throw new Error(`${WHO}: attention head dimension ${p.D} exceeds ${MAX_HEAD_DIM}`);
  for (const [what, [h, n]] of Object.entries(hs)) rt.check(h, n, `attention ${what}`);
  if (p.mask) rt.check(p.mask.h, p.mask.size, 'attention mask');
  if (p.keyLengths) rt.check(p.keyLengths, p.batch, 'attention keyLengths');
}

/** Multiply-adds of the call's score and value products, for read pacing. */
const work = (p: AttentionParams<unknown>, products: number) => products * 2 * p.batch * p.heads * p.Lq * p.Lk * Math.max(p.D, 4);

export function attention(rt: GpuRuntime, q: GpuHandle, k: GpuHandle, v: GpuHandle, out: GpuHandle, lse: GpuHandle,
  p: AttentionParams<GpuHandle>, variant: AttentionVariant): void {
  const nq = p.batch * p.heads * p.Lq, nk = p.batch * p.kvHeads * p.Lk;
  checkArgs(rt, p, { q: [q, nq * p.D], k: [k, nk * p.D], v: [v, nk * p.D], out: [out, nq * p.D], lse: [lse, nq] });
  if (nq === 0) return;
  const s = shapeFor(rt, p.D, variant), blocks = Math.ceil(p.Lq / s.rows);
  rt.dispatch(kernel('attention_forward', s), [
    q.buffer, k.buffer, v.buffer, p.mask?.h.buffer ?? rt.dummy, p.keyLengths?.buffer ?? rt.dummy, out.buffer, lse.buffer,
  ], p.batch * p.heads * blocks, dims(p, blocks, false), work(p, 2));
}

export function attentionBackward(rt: GpuRuntime, q: GpuHandle, k: GpuHandle, v: GpuHandle, out: GpuHandle, lse: GpuHandle,
  dout: GpuHandle, dq: GpuHandle, dk: GpuHandle, dv: GpuHandle, p: AttentionParams<GpuHandle>, dbias: GpuHandle | null,
  variant: AttentionVariant): void {
  const nq = p.batch * p.heads * p.Lq, nk = p.batch * p.kvHeads * p.Lk;
  checkArgs(rt, p, {
    q: [q, nq * p.D], k: [k, nk * p.D], v: [v, nk * p.D], out: [out, nq * p.D], lse: [lse, nq],
    dout: [dout, nq * p.D], dq: [dq, nq * p.D], dk: [dk, nk * p.D], dv: [dv, nk * p.D],
  });
  if (dbias) rt.check(dbias, nq * p.Lk, 'attention dbias');
  if (nq === 0 && nk === 0) return;
  const s = shapeFor(rt, p.D, variant);
  // [lse | rowsum(dO ⊙ O) | key lengths]: one binding for what the two gradient kernels read per row.
  const stats = rt.scratch((2 * nq + p.batch) * 4);
  const prepGroups = Math.ceil(Math.max(nq, p.batch) / s.rows);
  rt.dispatch(kernel('attention_prep', s), [dout.buffer, out.buffer, lse.buffer, p.keyLengths?.buffer ?? rt.dummy, stats],
    prepGroups, dims(p, 0, false), nq * p.D * 2);
  if (nq > 0) {
    const blocks = Math.ceil(p.Lq / s.rows);
    rt.dispatch(kernel('attention_backward_q', s), [
      q.buffer, k.buffer, v.buffer, p.mask?.h.buffer ?? rt.dummy, dout.buffer, stats, dq.buffer, dbias?.buffer ?? rt.dummyOut,
    ], p.batch * p.heads * blocks, dims(p, blocks, !!dbias), work(p, 3));
  }
  if (nk > 0) {
    const blocks = Math.ceil(p.Lk / s.rows);
    rt.dispatch(kernel('attention_backward_kv', s), [
      q.buffer, k.buffer, v.buffer, p.mask?.h.buffer ?? rt.dummy, dout.buffer, stats, dk.buffer, dv.buffer,
    ], p.batch * p.kvHeads * blocks, dims(p, blocks, false), work(p, 4));
  }
  rt.release(stats); // later users are recorded after these dispatches
}
