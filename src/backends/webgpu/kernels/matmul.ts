// Dispatch of the matmul family (kernels-wgsl/matmul*.wgsl): the plan
// (kernels/matmul-plan.ts) picks the kernel and configuration by shape class.
import { matmulSizes, type MatmulParams, type MatmulShape } from '../../primitives/matmul.js';
import { WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';
import { planMatmul, type MatmulConfig, type MatmulPlan, type ShapeClass } from './matmul-plan.js';

/** How a backend picks each shape class's config (forced for tests, tuned, or the default). */
export interface MatmulPicker {
  pickMatmulConfig(cls: ShapeClass): MatmulConfig;
}

export function plan(rt: GpuRuntime & MatmulPicker, s: MatmulShape): MatmulPlan {
  return planMatmul(s, (c) => rt.pickMatmulConfig(c), rt.isFallbackAdapter);
}

export function matmul(rt: GpuRuntime & MatmulPicker, a: GpuHandle, b: GpuHandle, bias: GpuHandle | null, out: GpuHandle,
  p: MatmulParams<GpuHandle>): void {
  const { N, K } = p;
  const { total, sizeA, sizeB } = matmulSizes(p, WHO);
  rt.check(out, total, 'matmul');
  if (sizeA) rt.check(a, sizeA, 'matmul A');
  if (sizeB) rt.check(b, sizeB, 'matmul B');
  if (bias) rt.check(bias, N, 'matmul bias');
  const pro = p.prologue ?? null;
  if (pro) rt.check(pro.t, pro.on === 'a' ? sizeA : sizeB, 'matmul prologue t');
  const sumB = p.sumB ?? null;
  if (sumB) {
    rt.check(sumB, N, 'matmul sumB');
    if (sumB.buffer === out.buffer) throw new Error(`${WHO}: matmul sumB and out must be distinct storage`);
  }
  if (total === 0) return;
  const pl = plan(rt, { ...p, bias: bias !== null, sumB: sumB !== null, prologue: pro });
  const inputs = [a, b, bias, pro?.t ?? null];
  rt.aliasSafe(out, inputs, total, (dst) => rt.aliasSafe(sumB, inputs, N, (sums) => {
    rt.dispatch(pl.kernel, [a.buffer, b.buffer, bias?.buffer ?? rt.dummy, dst, pro?.t.buffer ?? rt.dummy, sums ?? rt.dummyOut],
      pl.groups, pl.params, 2 * total * K);
  }));
}
