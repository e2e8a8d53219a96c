import type { Conv2dParams, ConvBackwardDataParams, ConvBackwardFilterParams } from '../../primitives/conv.js';
import { WHO, type GpuHandle, type GpuRuntime } from '../runtime.js';
export function conv2d(rt: GpuRuntime, x: GpuHandle, w: GpuHandle, bias: GpuHandle | null, out: GpuHandle, p: Conv2dParams): void { throw new Error(`${WHO}: todo`); }
export function conv2dBackwardData(rt: GpuRuntime, dy: GpuHandle, w: GpuHandle, dx: GpuHandle, p: ConvBackwardDataParams<GpuHandle>): void { throw new Error(`${WHO}: todo`); }
export function conv2dBackwardFilter(rt: GpuRuntime, x: GpuHandle, dy: GpuHandle, dw: GpuHandle, p: ConvBackwardFilterParams<GpuHandle>): void { throw new Error(`${WHO}: todo`); }
