// arange, linspace and eye: made on the host in float64 and rounded once to
// float32 (as PyTorch computes them), then uploaded.
import { getBackend } from './backends/registry.js';
import { fail } from './errors.js';
import { bool, describe, device, options, type OptionSpec } from './options.js';
import { newStorage, Tensor } from './tensor.js';
import type { TensorOptions } from './creation.js';

const SPEC: OptionSpec<TensorOptions> = { requiresGrad: bool, device };
/** Past this, float32 values no longer count every integer (an arange's length, an eye's size). */
const MAX_ELEMENTS = 2 ** 28;

function place(op: string, values: Float32Array, shape: number[], opts: TensorOptions | undefined): Tensor {
  const o = options(op, opts, SPEC);
  const be = getBackend(o.device);
  const s = newStorage(be, values.length, op);
  if (values.length > 0) be.write(s.handle, values);
  return new Tensor(s, shape, o.requiresGrad ?? false);
}

function finiteArg(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `argument '${name}' must be a finite number, got ${describe(v)}`);
  return v;
}

/**
 * Values from `start` (default 0) up to but excluding `end`, `step` apart
 * (default 1; negative counts down): arange(5), arange(1, 2, 0.25). As
 * PyTorch, the length is ceil((end − start) / step) and value i is
 * start + i·step, computed in float64.
 */
export function arange(end: number, opts?: TensorOptions): Tensor;
export function arange(start: number, end: number, step?: number, opts?: TensorOptions): Tensor;
export function arange(a: number, b?: number | TensorOptions, c?: number | TensorOptions, d?: TensorOptions): Tensor {
  let start = 0, end: number, step = 1, opts: TensorOptions | undefined;
  if (typeof b === 'number') {
    start = finiteArg('arange', 'start', a);
    end = finiteArg('arange', 'end', b);
    if (typeof c === 'number' || c === undefined) { step = c === undefined ? 1 : finiteArg('arange', 'step', c); opts = d; } else opts = c;
  } else {
    end = finiteArg('arange', 'end', a);
    opts = b;
  }
  if (step === 0) fail('arange', "argument 'step' must be non-zero");
  if ((end - start) / step < 0) fail('arange', `the range from ${start} to ${end} with step ${step} runs the wrong way: step's sign must be that of end − start`);
  const n = Math.ceil((end - start) / step);
  if (n > MAX_ELEMENTS) fail('arange', `the range has ${n} values; at most ${MAX_ELEMENTS} are supported`);
  return place('arange', Float32Array.from({ length: n }, (_, i) => start + i * step), [n], opts);
}

/**
 * `steps` values evenly spaced from `start` to `end`, both included. As
 * PyTorch, the first half counts up from start and the second half down from
 * end (so both ends are exact), in float64.
 */
export function linspace(start: number, end: number, steps: number, opts?: TensorOptions): Tensor {
  finiteArg('linspace', 'start', start);
  finiteArg('linspace', 'end', end);
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 0 || steps > MAX_ELEMENTS) {
    fail('linspace', `argument 'steps' must be a non-negative integer (at most ${MAX_ELEMENTS}), got ${describe(steps)}`);
  }
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  const half = Math.floor(steps / 2);
  // One step is `start` (PyTorch fills it so), not the end the second half counts from.
  const values = steps === 1 ? Float32Array.of(start) : Float32Array.from({ length: steps }, (_, i) => (i < half ? start + i * step : end - (steps - 1 - i) * step));
  return place('linspace', values, [steps], opts);
}

/** The n × m identity (m defaults to n): ones on the diagonal. */
export function eye(n: number, m?: number | TensorOptions, opts?: TensorOptions): Tensor {
  const cols = typeof m === 'number' ? m : n;
  const o = typeof m === 'number' || m === undefined ? opts : m;
  for (const [name, v] of [['n', n], ['m', cols]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail('eye', `argument '${name}' must be a non-negative integer, got ${describe(v)}`);
  }
  if (n * cols > MAX_ELEMENTS) fail('eye', `a ${n} × ${cols} matrix has more than ${MAX_ELEMENTS} elements`);
  const values = new Float32Array(n * cols);
  for (let i = 0; i < Math.min(n, cols); i++) values[i * cols + i] = 1;
  return place('eye', values, [n, cols], o);
}
