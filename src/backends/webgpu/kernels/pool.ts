// Dispatch of max and average pooling (kernels-wgsl/pool.wgsl): one invocation per element.
import { PoolDims, poolSizes, type AvgPoolParams, type PoolGeometry } from '../../primitives/pool.js';
import { params, WG, WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';

const dims = (p: PoolGeometry, includePad: boolean, total: number) => params(PoolDims, {
  N: p.N, H: p.H, W: p.W, C: p.C, Ho: p.Ho, Wo: p.Wo, Kh: p.Kh, Kw: p.Kw, sh: p.sh, sw: p.sw,
  padTop: p.padTop, padLeft: p.padLeft, includePad: +includePad, total, dh: p.dh ?? 1, dw: p.dw ?? 1,
});

export function maxPool2d(rt: GpuRuntime, x: GpuHandle, out: GpuHandle, argmax: GpuHandle | null, p: PoolGeometry): void {
  const s = poolSizes(p, WHO);
  rt.check(out, s.y, 'maxPool2d out');
  if (argmax) rt.check(argmax, s.y, 'maxPool2d argmax');
  if (s.y === 0) return;
  rt.check(x, s.x, 'maxPool2d x');
  if (argmax && argmax.buffer === out.buffer) throw new Error(`${WHO}: maxPool2d out and argmax must be distinct storage`);
  const idx = argmax ? null : rt.scratch(16);
  rt.aliasSafe(out, [x], s.y, (dst) => rt.aliasSafe(argmax, [x], s.y, (at) => rt.dispatch(
    { file: 'pool', entry: 'max_pool', constants: { WG, HAS_IDX: argmax !== null } },
    [x.buffer, dst, at ?? idx!], Math.ceil(s.y / WG), dims(p, false, s.y))));
  if (idx) rt.release(idx);
}

export function maxPool2dBackward(rt: GpuRuntime, dy: GpuHandle, argmax: GpuHandle, dx: GpuHandle, p: PoolGeometry): void {
  const s = poolSizes(p, WHO);
  rt.check(dx, s.x, 'maxPool2d backward dx');
  if (s.x === 0) return;
  rt.check(dy, s.y, 'maxPool2d backward dy');
  rt.check(argmax, s.y, 'maxPool2d backward argmax');
  rt.aliasSafe(dx, [dy, argmax], s.x, (dst) => rt.dispatch({ file: 'pool', entry: 'max_pool_backward', constants: { WG } },
    [dy.buffer, argmax.buffer, dst], Math.ceil(s.x / WG), dims(p, false, s.x)));
}

export function avgPool2d(rt: GpuRuntime, x: GpuHandle, out: GpuHandle, p: AvgPoolParams): void {
  const s = poolSizes(p, WHO, true);
  rt.check(out, s.y, 'avgPool2d out');
  if (s.y === 0) return;
  rt.check(x, s.x, 'avgPool2d x');
  rt.aliasSafe(out, [x], s.y, (dst) => rt.dispatch({ file: 'pool', entry: 'avg_pool', constants: { WG } },
    [x.buffer, dst], Math.ceil(s.y / WG), dims(p, p.countIncludePad, s.y)));
}

export function avgPool2dBackward(rt: GpuRuntime, dy: GpuHandle, dx: GpuHandle, p: AvgPoolParams): void {
  const s = poolSizes(p, WHO, true);
  rt.check(dx, s.x, 'avgPool2d backward dx');
  if (s.x === 0) return;
  rt.check(dy, s.y, 'avgPool2d backward dy');
  rt.aliasSafe(dx, [dy], s.x, (dst) => rt.dispatch({ file: 'pool', entry: 'avg_pool_backward', constants: { WG } },
    [dy.buffer, dst], Math.ceil(s.x / WG), dims(p, p.countIncludePad, s.x)));
}
