// Max and average pooling on WASM (kernels-as/pool.ts); pixels split over the threads.
import { POOL, PoolJob, poolSizes, type AvgPoolParams, type PoolGeometry } from '../../primitives/pool.js';
import { WHO, type WasmHandle, type WasmRuntime } from '../runtime.js';

/** Flop-equivalents per window element for the thread split (a load and a compare or add). */
const COST = 8;

function run(rt: WasmRuntime, mode: number, x: WasmHandle, out: WasmHandle, idx: WasmHandle | null, p: PoolGeometry,
  includePad: boolean, pixels: number): void {
  const parts = rt.partsFor(p.N * p.Ho * p.Wo * p.C * p.Kh * p.Kw * COST, pixels);
  rt.job('pool', PoolJob, {
    mode, x: x.ptr, out: out.ptr, idx: idx ? idx.ptr : 0, N: p.N, H: p.H, W: p.W, C: p.C, Ho: p.Ho, Wo: p.Wo,
    Kh: p.Kh, Kw: p.Kw, sh: p.sh, sw: p.sw, padTop: p.padTop, padLeft: p.padLeft, includePad: +includePad, parts, dh: p.dh ?? 1, dw: p.dw ?? 1,
  }, parts);
}

export function maxPool2d(rt: WasmRuntime, x: WasmHandle, out: WasmHandle, argmax: WasmHandle | null, p: PoolGeometry): void {
  const s = poolSizes(p, WHO);
  rt.check(out, s.y, 'maxPool2d out');
  if (argmax) rt.check(argmax, s.y, 'maxPool2d argmax');
  if (s.y === 0) return;
  rt.check(x, s.x, 'maxPool2d x');
  run(rt, POOL.codes.max, x, out, argmax, p, false, p.N * p.Ho * p.Wo);
}

export function maxPool2dBackward(rt: WasmRuntime, dy: WasmHandle, argmax: WasmHandle, dx: WasmHandle, p: PoolGeometry): void {
  const s = poolSizes(p, WHO);
  rt.check(dx, s.x, 'maxPool2d backward dx');
  if (s.x === 0) return;
  rt.check(dy, s.y, 'maxPool2d backward dy');
  rt.check(argmax, s.y, 'maxPool2d backward argmax');
  run(rt, POOL.codes.maxBackward, dy, dx, argmax, p, false, p.N * p.H * p.W);
}

export function avgPool2d(rt: WasmRuntime, x: WasmHandle, out: WasmHandle, p: AvgPoolParams): void {
  const s = poolSizes(p, WHO, true);
  rt.check(out, s.y, 'avgPool2d out');
  if (s.y === 0) return;
  rt.check(x, s.x, 'avgPool2d x');
  run(rt, POOL.codes.avg, x, out, null, p, p.countIncludePad, p.N * p.Ho * p.Wo);
}

export function avgPool2dBackward(rt: WasmRuntime, dy: WasmHandle, dx: WasmHandle, p: AvgPoolParams): void {
  const s = poolSizes(p, WHO, true);
  rt.check(dx, s.x, 'avgPool2d backward dx');
  if (s.x === 0) return;
  rt.check(dy, s.y, 'avgPool2d backward dy');
  run(rt, POOL.codes.avgBackward, dy, dx, null, p, p.countIncludePad, p.N * p.H * p.W);
}
