// A model's weights as a safetensors file, in PyTorch's names and layouts, and
// the raw reader and writer underneath.
import { fail, fmtShape } from '../errors.js';
import { dispose } from '../memory.js';
import { Module } from '../nn/module.js';
import type { LoadStateDictOptions, LoadStateDictResult, StateValue } from '../nn/state-dict.js';
import { Tensor } from '../tensor.js';
import { fileShape, inversePerm, layoutsOf, loadableDtype, permute } from './layouts.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsEntry, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';
import { readBytes, writeBytes, type BinarySource } from './source.js';

export interface SaveOptions {
  /** Written to the header's `__metadata__` (string → string), after `format: 'pt'`. */
  metadata?: Record<string, string>;
}

function checkModule(op: string, m: unknown): Module {
  if (!(m instanceof Module)) fail(op, `argument 'model' must be an nn.Module, got ${m === null ? 'null' : typeof m}`);
  return m;
}

/** (path?, options?) with either optional. */
function pathAndOptions<O extends object>(op: string, a: unknown, b: unknown): [string | undefined, O] {
  if (typeof a === 'string') return [a, (b ?? {}) as O];
  if (a !== undefined && b !== undefined) fail(op, `argument 'path' must be a string, got ${typeof a}`);
  const opts = a ?? b ?? {};
  if (typeof opts !== 'object' || opts === null) fail(op, `the second argument must be a path (string) or an options object, got ${typeof opts}`);
  return [undefined, opts as O];
}

/**
 * `model`'s state dict as safetensors entries in PyTorch's layouts: each
 * tensor read from its device, reordered where its layer's layout says.
 */
export async function torchEntries(model: Module, op: string): Promise<[string, SafetensorsEntry][]> {
  const layouts = layoutsOf(model);
  const sd = model.stateDict();
  try {
    return await Promise.all(Object.entries(sd).map(async ([k, t]): Promise<[string, SafetensorsEntry]> => {
      const l = layouts.get(k), data = await t.data();
      return [k, { shape: fileShape(t.shape, l), data: l?.perm ? permute(data, t.shape, l.perm) : data, dtype: l?.dtype === 'I64' ? 'I64' : 'F32' }];
    }));
  } catch (e) {
    return fail(op, `reading the model's tensors failed: ${(e as Error).message}`);
  } finally {
    dispose(sd);
  }
}

/**
 * Converts tensors read from a file (PyTorch's layouts) into a state dict for
 * `model` (lepton's layouts), checking every key it has: dtype and shape
 * (both shapes named). Keys the model lacks pass through untouched for
 * loadStateDict's strict check. Reads nothing from the device.
 */
export function fromTorchLayout(model: Module, tensors: Record<string, SafetensorsTensor>, op: string): Map<string, StateValue> {
  const layouts = layoutsOf(model);
  const shapes = new Map<string, readonly number[]>();
  const sd = model.stateDict();
  for (const [k, t] of Object.entries(sd)) shapes.set(k, t.shape);
  dispose(sd);
  const out = new Map<string, StateValue>();
  for (const [k, t] of Object.entries(tensors)) {
    const mine = shapes.get(k), l = layouts.get(k);
    if (!mine) { out.set(k, t.data); continue; }
    const want = fileShape(mine, l);
    const layoutNote = l?.perm ? ` (PyTorch's layout${l.axes ? ` ${l.axes}` : ''}; lepton keeps it as ${fmtShape(mine)})` : '';
    if (!loadableDtype(t.dtype, l)) {
      fail(op, `key '${k}': dtype mismatch: the file has ${t.dtype} ${fmtShape(t.shape)}, the model needs a float tensor (F32, F64, F16 or BF16) ${fmtShape(want)}${layoutNote}`);
    }
    if (t.shape.length !== want.length || t.shape.some((s, i) => s !== want[i])) {
      fail(op, `key '${k}': shape mismatch: the file has ${fmtShape(t.shape)} (${t.dtype}), the model needs ${fmtShape(want)}${layoutNote}`);
    }
    out.set(k, l?.perm ? permute(t.data, want, inversePerm(l.perm)) : t.data);
  }
  return out;
}

/**
 * Saves `model`'s state dict (parameters and persistent buffers) as a
 * safetensors file with PyTorch's names and layouts (a Linear's weight
 * [out, in]), float32, metadata `format: 'pt'`. Resolves to the file's
 * bytes; with a `path` (Node) also writes them there. In a browser,
 * `new Blob([bytes])` makes a download.
 */
export async function saveSafetensors(model: Module, path?: string, options?: SaveOptions): Promise<Uint8Array>;
export async function saveSafetensors(model: Module, options?: SaveOptions): Promise<Uint8Array>;
export async function saveSafetensors(model: Module, a?: string | SaveOptions, b?: SaveOptions): Promise<Uint8Array> {
  const op = 'saveSafetensors';
  checkModule(op, model);
  const [path, opts] = pathAndOptions<SaveOptions>(op, a, b);
  const bytes = encodeSafetensors(await torchEntries(model, op), { format: 'pt', ...opts.metadata }, op);
  if (path !== undefined) await writeBytes(op, path, bytes);
  return bytes;
}

/**
 * Loads a safetensors file written by saveSafetensors or by PyTorch (names
 * and layouts as PyTorch's `state_dict()`) into `model`. F32, F64, F16 and
 * BF16 tensors are converted to float32. Everything is checked before
 * anything is written: a bad or truncated file, a missing or unexpected key
 * (under `strict`, the default), a dtype or shape mismatch throws a
 * LeptonError naming the key and both shapes, and the model is unchanged.
 * `source`: a file path (Node) or URL, an ArrayBuffer / typed array, or a
 * Blob / File / Response.
 */
export async function loadSafetensors(model: Module, source: BinarySource, options: LoadStateDictOptions = {}): Promise<LoadStateDictResult> {
  const op = 'loadSafetensors';
  checkModule(op, model);
  const file = decodeSafetensors(await readBytes(op, source), op);
  const plan = model.planLoadStateDict(fromTorchLayout(model, file.tensors, op), options, op);
  plan.write();
  return plan.result;
}

/** Reads a safetensors file as it is stored (no layout change): name → { dtype, shape, data as float32 }, and its metadata. */
export async function readSafetensors(source: BinarySource): Promise<SafetensorsFile> {
  return decodeSafetensors(await readBytes('readSafetensors', source), 'readSafetensors');
}

/**
 * Writes tensors as they are (no layout change) to a safetensors file: each
 * value a Tensor (read from its device) or `{ shape, data, dtype? }` (dtype
 * F32 by default; F64, I64, I32 also). Resolves to the bytes; with a `path`
 * (Node) also writes them.
 */
export async function writeSafetensors(tensors: Record<string, Tensor | SafetensorsEntry>, path?: string, options?: SaveOptions): Promise<Uint8Array>;
export async function writeSafetensors(tensors: Record<string, Tensor | SafetensorsEntry>, options?: SaveOptions): Promise<Uint8Array>;
export async function writeSafetensors(tensors: Record<string, Tensor | SafetensorsEntry>, a?: string | SaveOptions, b?: SaveOptions): Promise<Uint8Array> {
  const op = 'writeSafetensors';
  if (!tensors || typeof tensors !== 'object' || Array.isArray(tensors)) fail(op, `argument 'tensors' must be an object of name → tensor, got ${Array.isArray(tensors) ? 'an array' : typeof tensors}`);
  const [path, opts] = pathAndOptions<SaveOptions>(op, a, b);
  const entries = await Promise.all(Object.entries(tensors).map(async ([k, v]): Promise<[string, SafetensorsEntry]> => {
    if (v instanceof Tensor) { v.live(op, `tensors['${k}']`); return [k, { shape: v.shape, data: await v.data() }]; }
    if (!v || typeof v !== 'object' || !('shape' in v) || !('data' in v)) fail(op, `tensor '${k}' must be a Tensor or { shape, data, dtype? }`);
    return [k, v];
  }));
  const bytes = encodeSafetensors(entries, opts.metadata ?? null, op);
  if (path !== undefined) await writeBytes(op, path, bytes);
  return bytes;
}
