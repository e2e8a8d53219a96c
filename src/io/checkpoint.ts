// A training checkpoint in one safetensors file: the model's state under
// `model.` (PyTorch's names and layouts, as saveSafetensors writes them), the
// optimizer's state tensors under `optimizer.state.<i>.<name>` (each in its
// parameter's layout), and in the metadata the optimizer's kind,
// hyperparameters and step counters as JSON. Loading checks the model and the
// optimizer parts before writing either.
import { fail, fmtShape } from '../errors.js';
import { dispose } from '../memory.js';
import { Module } from '../nn/module.js';
import type { LoadStateDictResult } from '../nn/state-dict.js';
import { Optimizer, type OptimizerStateDictInput } from '../optim/optimizer.js';
import { Tensor } from '../tensor.js';
import { fileShape, inversePerm, layoutsOf, permute } from './layouts.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsEntry } from './safetensors.js';
import { readBytes, writeBytes, type BinarySource } from './source.js';
import { fromTorchLayout, torchEntries } from './weights.js';

export interface CheckpointParts {
  model?: Module;
  optimizer?: Optimizer;
  /** Your own string → string entries (an epoch number, a config), returned by loadCheckpoint. Keys may not start with 'lepton.'. */
  metadata?: Record<string, string>;
}

export interface LoadCheckpointParts {
  model?: Module;
  optimizer?: Optimizer;
  /** For the model: refuse unexpected keys and require every key (default true). */
  strict?: boolean;
}

export interface CheckpointInfo {
  /** The metadata given to saveCheckpoint. */
  metadata: Record<string, string>;
  /** What the model load skipped under `strict: false` (null without a model). */
  model: LoadStateDictResult | null;
}

const VERSION = '1';

interface OptimizerMeta {
  type: string;
  paramGroups: OptimizerStateDictInput['paramGroups'];
  /** Per parameter index: its counters and the permutation its tensors were stored with. */
  state: Record<string, { counts: Record<string, number>; perm: number[] | null }>;
}

/** Each parameter of `model` → the permutation PyTorch's layout applies to it. */
function paramPerms(model: Module | undefined): Map<Tensor, readonly number[]> {
  const out = new Map<Tensor, readonly number[]>();
  if (!model) return out;
  const layouts = layoutsOf(model);
  for (const [k, p] of model.namedParameters()) { const perm = layouts.get(k)?.perm; if (perm) out.set(p, perm); }
  return out;
}

/**
 * Saves a training checkpoint (model and/or optimizer state) as one
 * safetensors file. Resolves to its bytes; with `path` (Node) also writes it.
 * Restoring it with loadCheckpoint into fresh objects and training on gives
 * bit-for-bit the weights of a run that never stopped.
 */
export async function saveCheckpoint(parts: CheckpointParts, path?: string): Promise<Uint8Array> {
  const op = 'saveCheckpoint';
  const { model, optimizer, metadata = {} } = checkParts(op, parts) as CheckpointParts;
  if (!model && !optimizer) fail(op, "needs a 'model', an 'optimizer' or both");
  if (!metadata || typeof metadata !== 'object') fail(op, `option 'metadata' must be an object of string → string, got ${typeof metadata}`);
  for (const k of Object.keys(metadata)) if (k.startsWith('lepton.')) fail(op, `metadata key '${k}' is reserved (keys starting with 'lepton.')`);
  const entries: [string, SafetensorsEntry][] = [];
  const meta: Record<string, string> = { format: 'pt', ...metadata, 'lepton.checkpoint': VERSION };
  if (model) for (const [k, e] of await torchEntries(model, op)) entries.push([`model.${k}`, e]);
  if (optimizer) {
    const perms = paramPerms(model);
    const sd = optimizer.stateDict();
    const om: OptimizerMeta = { type: optimizer.name, paramGroups: sd.paramGroups, state: {} };
    try {
      for (const [i, s] of Object.entries(sd.state)) {
        const p = optimizer.params[Number(i)], perm = perms.get(p) ?? null;
        const counts: Record<string, number> = {};
        for (const [name, v] of Object.entries(s)) {
          if (typeof v === 'number') { counts[name] = v; continue; }
          const data = await v.data();
          entries.push([`optimizer.state.${i}.${name}`, { shape: fileShape(v.shape, perm ? { perm } : undefined), data: perm ? permute(data, v.shape, perm) : data }]);
        }
        om.state[i] = { counts, perm: perm ? [...perm] : null };
      }
    } finally {
      for (const s of Object.values(sd.state)) dispose(Object.values(s).filter((v) => v instanceof Tensor));
    }
    meta['lepton.optimizer'] = JSON.stringify(om);
  }
  const bytes = encodeSafetensors(entries, meta, op);
  if (path !== undefined) await writeBytes(op, path, bytes);
  return bytes;
}

function checkParts(op: string, parts: unknown): LoadCheckpointParts & CheckpointParts {
  if (!parts || typeof parts !== 'object') fail(op, `argument 'parts' must be { model?, optimizer? }, got ${parts === null ? 'null' : typeof parts}`);
  const { model, optimizer } = parts as CheckpointParts;
  if (model !== undefined && !(model instanceof Module)) fail(op, "'model' must be an nn.Module");
  if (optimizer !== undefined && !(optimizer instanceof Optimizer)) fail(op, "'optimizer' must be an optimizer (optim.SGD, optim.Adam …)");
  return parts as LoadCheckpointParts & CheckpointParts;
}

/**
 * Restores a checkpoint from saveCheckpoint into `model` and/or `optimizer`
 * (built as when it was saved; the optimizer over `model.parameters()`).
 * Both parts are checked before either is written: on any error nothing
 * changes. Resolves to the checkpoint's own metadata.
 */
export async function loadCheckpoint(source: BinarySource, parts: LoadCheckpointParts): Promise<CheckpointInfo> {
  const op = 'loadCheckpoint';
  const { model, optimizer, strict } = checkParts(op, parts);
  if (!model && !optimizer) fail(op, "needs a 'model', an 'optimizer' or both");
  const file = decodeSafetensors(await readBytes(op, source), op);
  const meta = file.metadata ?? {};
  if (meta['lepton.checkpoint'] !== VERSION) {
    fail(op, `not a lepton checkpoint (its metadata has no 'lepton.checkpoint': '${VERSION}'); a file of model weights loads with loadSafetensors`);
  }
  const section = (prefix: string) => Object.fromEntries(Object.entries(file.tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  const plans = [];
  if (model) plans.push(model.planLoadStateDict(fromTorchLayout(model, section('model.'), op), { strict: strict ?? true }, op));
  if (optimizer) {
    if (!meta['lepton.optimizer']) fail(op, 'the checkpoint holds no optimizer state');
    let om: OptimizerMeta;
    try {
      om = JSON.parse(meta['lepton.optimizer']) as OptimizerMeta;
    } catch (e) {
      return fail(op, `bad optimizer metadata: ${(e as Error).message}`);
    }
    if (om.type !== optimizer.name) fail(op, `the checkpoint's optimizer is ${om.type}; this one is ${optimizer.name}`);
    const tensors = section('optimizer.state.');
    const state: OptimizerStateDictInput['state'] = {};
    for (const [i, { counts }] of Object.entries(om.state ?? {})) state[i] = { ...counts };
    for (const [k, t] of Object.entries(tensors)) {
      const [i, name] = k.split('.');
      const s = state[i];
      if (!s) fail(op, `tensor 'optimizer.state.${k}' belongs to no parameter listed in the optimizer metadata`);
      const perm = om.state[i].perm, p = optimizer.params[Number(i)];
      // The tensor as stored must be its parameter's shape in the layout it was saved with.
      if (p) {
        const want = fileShape(p.shape, perm ? { perm } : undefined);
        if (t.shape.length !== want.length || t.shape.some((d, j) => d !== want[j])) {
          fail(op, `key 'optimizer.state.${k}': shape mismatch: the file has ${fmtShape(t.shape)}, the optimizer's parameter ${i} needs ${fmtShape(want)}`);
        }
      }
      s[name] = perm ? permute(t.data, t.shape, inversePerm(perm)) : t.data;
    }
    plans.push(optimizer.planLoadStateDict({ state, paramGroups: om.paramGroups }, op));
  }
  for (const p of plans) p.write();
  const own = Object.fromEntries(Object.entries(meta).filter(([k]) => !k.startsWith('lepton.') && k !== 'format'));
  return { metadata: own, model: model ? plans[0].result : null };
}
