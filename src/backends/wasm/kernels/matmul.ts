// The matmul family on WASM (kernels-as/matmul.ts, gemv.ts): one MatmulJob,
// its output split into a part per thread (matmul-split.ts).
import { ACTIVATIONS } from '../../primitives/activation.js';
import { BINARY_OPS } from '../../primitives/elementwise.js';
import { MatmulJob, matmulSizes, type MatmulParams } from '../../primitives/matmul.js';
import { WHO, type WasmHandle, type WasmRuntime } from '../runtime.js';
import { planMatmul } from './matmul-split.js';

export function matmul(rt: WasmRuntime, a: WasmHandle, b: WasmHandle, bias: WasmHandle | null, out: WasmHandle, p: MatmulParams<WasmHandle>): void {
  const { batch, M, N, K } = p;
  const { total, sizeA, sizeB } = matmulSizes(p, WHO);
  rt.check(out, total, 'matmul out');
  const pro = p.prologue ?? null;
  if (pro) rt.check(pro.t, pro.on === 'a' ? sizeA : sizeB, 'matmul prologue t');
  if (p.sumB) rt.check(p.sumB, N, 'matmul sumB');
  if (total === 0) return;
  rt.check(a, sizeA, 'matmul A');
  rt.check(b, sizeB, 'matmul B');
  if (bias) rt.check(bias, N, 'matmul bias');

  // One part per thread: parts are claimed, so if a worker wakes late the caller runs its part too.
  const parts = planMatmul(batch, M, N, K, rt.partsFor(2 * total * K, Infinity), rt.tileRows);
  let partM = 0, partN = 0;
  for (const q of parts) { partM = Math.max(partM, q.m1 - q.m0); partN = Math.max(partN, q.n1 - q.n0); }
  const perSlot = Math.ceil(rt.k.matmulScratch(M, N, K, partM, partN) / 64) * 64;
  // Every thread may run a part (a worker still polling from the last job, too): one scratch slot each.
  rt.withScratch(perSlot * (parts.length > 1 ? rt.threads : 1), (scratch) => rt.job('matmul', MatmulJob, {
    a: a.ptr, b: b.ptr, bias: bias ? bias.ptr : 0, out: out.ptr, batch, M, N, K,
    transA: +p.transA, transB: +p.transB, strideA: p.strideA, strideB: p.strideB, act: ACTIVATIONS[p.act],
    pro: pro ? BINARY_OPS[pro.op] : 0, proOnB: pro?.on === 'b' ? 1 : 0, t: pro ? pro.t.ptr : 0,
    sumB: p.sumB ? p.sumB.ptr : 0, scratch, scratchPart: perSlot,
    ranges: parts.flatMap((q) => [q.z0, q.z1, q.m0, q.m1, q.n0, q.n1]),
  }, parts.length, 6 * parts.length));
}
