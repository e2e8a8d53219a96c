// PyTorch's layout of each layer's state, per layer class: how a tensor lepton
// keeps is stored in a file that PyTorch reads. A layer whose tensors PyTorch
// stores as lepton does needs no entry. Adding a layer: one `torchLayout(…)`
// line below (see docs/io.md).
import { fail, fmtShape } from '../errors.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Conv2d } from '../nn/conv.js';
import { ConvTranspose2d } from '../nn/conv-transpose.js';
import { MultiHeadAttention } from '../nn/attention.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import type { Dtype } from './safetensors.js';

export interface KeyLayout {
  /** PyTorch's axis order as a permutation of lepton's: file axis i is lepton axis perm[i]. */
  perm?: readonly number[];
  /** How PyTorch names the axes, for error messages ("[out, in]"). */
  axes?: string;
  /** An integer buffer PyTorch keeps as int64 (e.g. BatchNorm's num_batches_tracked): written as I64. */
  dtype?: 'I64';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LayerClass = abstract new (...args: any[]) => Module;
const layouts = new Map<LayerClass, Record<string, KeyLayout>>();

/** Declares how PyTorch stores `cls`'s own parameters and buffers (by local name); subclasses inherit it. */
export function torchLayout(cls: LayerClass, entry: Record<string, KeyLayout>): void {
  layouts.set(cls, entry);
}

let registered = false;
/** The built-in layers' layouts, registered on first use (a call, not a module side effect, so bundles can drop it). */
function registerLayouts(): void {
  if (registered) return;
  registered = true;
  // lepton keeps a Linear's weight [in, out] (x·W); PyTorch keeps [out, in] (x·Wᵀ).
  torchLayout(Linear, { weight: { perm: [1, 0], axes: '[out, in]' } });
  // lepton keeps a Conv2d's weight HWIO [kh, kw, in / groups, out] (NHWC convolution); PyTorch keeps OIHW.
  torchLayout(Conv2d, { weight: { perm: [3, 2, 0, 1], axes: '[out, in / groups, kh, kw]' } });
  // A ConvTranspose2d's weight [kh, kw, out / groups, in]; PyTorch's [in, out / groups, kh, kw].
  torchLayout(ConvTranspose2d, { weight: { perm: [3, 2, 0, 1], axes: '[in, out / groups, kh, kw]' } });
  // PyTorch counts BatchNorm's batches in an int64 scalar; lepton in a float32 one.
  torchLayout(BatchNorm2d, { num_batches_tracked: { dtype: 'I64' } });
  torchLayout(MultiHeadAttention, { in_proj_weight: { perm: [1, 0], axes: '[3·embed, embed]' } });
}

function entryFor(m: Module): Record<string, KeyLayout> | undefined {
  for (let p = Object.getPrototypeOf(m); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const e = layouts.get(p.constructor as LayerClass);
    if (e) return e;
  }
  return undefined;
}

/** state-dict key → its layout, for every key of `model` that has one. */
export function layoutsOf(model: Module): Map<string, KeyLayout> {
  registerLayouts();
  const out = new Map<string, KeyLayout>();
  for (const [path, m] of model.namedModules()) {
    const e = entryFor(m);
    if (e) for (const [name, l] of Object.entries(e)) out.set(path ? `${path}.${name}` : name, l);
  }
  return out;
}

/** The shape a tensor of lepton shape `shape` has in PyTorch's layout. */
export function fileShape(shape: readonly number[], l: KeyLayout | undefined): number[] {
  return l?.perm ? l.perm.map((a) => shape[a]) : [...shape];
}

/** Row-major `data` of `shape` with its axes reordered: out axis i is in axis perm[i]. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  if (perm.length !== shape.length || [...perm].sort().some((a, i) => a !== i)) fail('permute', `perm ${fmtShape(perm)} does not fit shape ${fmtShape(shape)}`);
  if (perm.every((a, i) => a === i)) return data;
  const rank = shape.length, out = new Float32Array(data.length);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= shape[i], i--) inStrides[i] = s;
  const outShape = perm.map((a) => shape[a]), step = perm.map((a) => inStrides[a]);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) { src += step[d]; break; }
      src -= step[d] * (outShape[d] - 1);
      idx[d] = 0;
    }
  }
  return out;
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((a, i) => { inv[a] = i; });
  return inv;
}

/** Whether a file dtype can load into a tensor with layout `l` (floats into float tensors; integers into integer buffers too). */
export function loadableDtype(dtype: Dtype, l: KeyLayout | undefined): boolean {
  return ['F32', 'F64', 'F16', 'BF16'].includes(dtype) || l?.dtype === 'I64';
}
