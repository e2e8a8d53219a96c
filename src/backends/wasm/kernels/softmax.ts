// Softmax / log-softmax on WASM (kernels-as/softmax.ts); rows split over the threads.
import { SoftmaxJob } from '../../primitives/softmax.js';
import type { WasmHandle, WasmRuntime } from '../runtime.js';

/** Flop-equivalents per element for the thread split: three passes, one with exp. */
const COST = 150;

export function softmax(rt: WasmRuntime, x: WasmHandle, out: WasmHandle, rows: number, cols: number, log: boolean): void {
  rt.check(x, rows * cols, 'softmax input');
  rt.check(out, rows * cols, 'softmax output');
  if (rows * cols === 0) return;
  const parts = rt.partsFor(rows * cols * COST, rows);
  rt.job('softmax', SoftmaxJob, { x: x.ptr, out: out.ptr, rows, cols, log: +log, parts }, parts);
}
