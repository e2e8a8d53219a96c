import type { AvgPoolParams, PoolGeometry } from '../../primitives/pool.js';
import { WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';
export function maxPool2d(rt: GpuRuntime, x: GpuHandle, out: GpuHandle, argmax: GpuHandle | null, p: PoolGeometry): void { throw new Error(`${WHO}: todo`); }
export function maxPool2dBackward(rt: GpuRuntime, dy: GpuHandle, argmax: GpuHandle, dx: GpuHandle, p: PoolGeometry): void { throw new Error(`${WHO}: todo`); }
export function avgPool2d(rt: GpuRuntime, x: GpuHandle, out: GpuHandle, p: AvgPoolParams): void { throw new Error(`${WHO}: todo`); }
export function avgPool2dBackward(rt: GpuRuntime, dy: GpuHandle, dx: GpuHandle, p: AvgPoolParams): void { throw new Error(`${WHO}: todo`); }
