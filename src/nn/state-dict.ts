// Module.loadStateDict: check every entry first, then write them all, so a
// bad state dict leaves the module exactly as it was.
import { fail, fmtShape } from '../errors.js';
import { bool, options } from '../options.js';
import { Tensor, type NestedArray } from '../tensor.js';

/** A value for one key: a Tensor, a flat typed array / number[] (row-major), or nested arrays of the exact shape. */
export type StateValue = Tensor | ArrayLike<number> | NestedArray;
export type StateDictInput = Record<string, StateValue> | Map<string, StateValue>;

export interface LoadStateDictOptions {
  /** Refuse keys the module lacks and require every key it has. Default true. Shapes are always checked. */
  strict?: boolean;
}

/** What a non-strict load skipped (both empty after a strict one). */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** @internal A checked load: `write()` applies it (nothing was changed before). */
export interface LoadPlan {
  result: LoadStateDictResult;
  write(): void;
}

/** A checked write: host values, or a same-device tensor to copy on the device. */
type Plan = { dst: Tensor; values: Float32Array } | { dst: Tensor; src: Tensor };

const list = (keys: string[], max = 6) =>
  keys.slice(0, max).map((k) => `'${k}'`).join(', ') + (keys.length > max ? ` and ${keys.length - max} more` : '');

function entries(OP: string, sd: StateDictInput): [string, StateValue][] {
  if (sd instanceof Map) {
    for (const k of sd.keys()) if (typeof k !== 'string') fail(OP, `state dict keys must be strings, got ${typeof k}`);
    return [...sd.entries()];
  }
  if (!sd || typeof sd !== 'object' || Array.isArray(sd) || sd instanceof Tensor || ArrayBuffer.isView(sd)) {
    fail(OP, `argument 'stateDict' must be an object (or a Map) of name -> tensor or array, got ${sd === null ? 'null' : Array.isArray(sd) ? 'an array' : typeof sd}`);
  }
  return Object.entries(sd);
}

/** Shape of rectangular nested numeric arrays; a LeptonError naming `key` otherwise. */
function nestedShape(OP: string, key: string, data: NestedArray[]): number[] {
  const shape: number[] = [];
  for (let cur: NestedArray = data; Array.isArray(cur); cur = cur[0]) shape.push(cur.length);
  const walk = (v: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number') fail(OP, `key '${key}': element ${path} is ${Array.isArray(v) ? 'an array' : typeof v}; needs a number`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      fail(OP, `key '${key}': nested arrays are ragged at ${path || 'the top level'} (${Array.isArray(v) ? `length ${v.length}` : 'a number'} where ${shape[dim]} entries are needed)`);
    }
    v.forEach((x, i) => walk(x, dim + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  return shape;
}

function sizeMismatch(OP: string, key: string, got: string, dst: Tensor): never {
  return fail(OP, `key '${key}': shape mismatch: the state dict has ${got}, the module's tensor is ${fmtShape(dst.shape)} (${dst.size} values)`);
}

/** Checks one value against its destination and says how to write it. Reads nothing asynchronously. */
function plan(OP: string, key: string, dst: Tensor, v: StateValue): Plan {
  if (dst.isDisposed) fail(OP, `key '${key}': the module's tensor was disposed`);
  if (v instanceof Tensor) {
    if (v.isDisposed) fail(OP, `key '${key}': the tensor was disposed`);
    if (v.shape.length !== dst.shape.length || v.shape.some((s, i) => s !== dst.shape[i])) sizeMismatch(OP, key, `shape ${fmtShape(v.shape)}`, dst);
    if (v.backend === dst.backend) return { dst, src: v };
    if (!v.backend.readSync) {
      fail(OP, `key '${key}': the tensor is on ${v.device} and the module's on ${dst.device}; ${v.device} reads asynchronously: pass \`await t.data()\` or \`await t.to('${dst.device}')\``);
    }
    return { dst, values: v.dataSync() };
  }
  if (ArrayBuffer.isView(v)) {
    if (v instanceof DataView || v instanceof BigInt64Array || v instanceof BigUint64Array) fail(OP, `key '${key}': a ${v.constructor.name} is not numeric data; use a Float32Array`);
    const a = v as unknown as ArrayLike<number>;
    if (a.length !== dst.size) sizeMismatch(OP, key, `${a.length} values`, dst);
    return { dst, values: a instanceof Float32Array ? a : Float32Array.from(a) };
  }
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number')) {
      if (v.length !== dst.size) sizeMismatch(OP, key, `${v.length} values`, dst);
      return { dst, values: Float32Array.from(v as number[]) };
    }
    const shape = nestedShape(OP, key, v as NestedArray[]);
    if (shape.length !== dst.shape.length || shape.some((s, i) => s !== dst.shape[i])) sizeMismatch(OP, key, `nested arrays of shape ${fmtShape(shape)}`, dst);
    const values = new Float32Array(dst.size);
    let k = 0;
    const put = (x: NestedArray): void => { if (Array.isArray(x)) x.forEach(put); else values[k++] = x; };
    put(v as NestedArray[]);
    return { dst, values };
  }
  return fail(OP, `key '${key}': needs a Tensor, a typed array or (nested) number arrays, got ${v === null ? 'null' : typeof v}`);
}

/**
 * @internal Checks `sd` against `target` (key → the module's tensor) and returns the
 * write to make; throws a LeptonError (naming `OP`) before anything changes.
 */
export function planLoad(target: ReadonlyMap<string, Tensor>, sd: StateDictInput, options_: LoadStateDictOptions | undefined, OP = 'loadStateDict'): LoadPlan {
  const opts = options(OP, options_, { strict: bool });
  const strict = opts.strict ?? true;
  const given = entries(OP, sd);
  const unexpectedKeys = given.map(([k]) => k).filter((k) => !target.has(k));
  const have = new Set(given.map(([k]) => k));
  const missingKeys = [...target.keys()].filter((k) => !have.has(k));
  if (strict && (unexpectedKeys.length || missingKeys.length)) {
    const parts = [];
    if (unexpectedKeys.length) parts.push(`unexpected key(s) ${list(unexpectedKeys)}`);
    if (missingKeys.length) parts.push(`missing key(s) ${list(missingKeys)}`);
    fail(OP, `${parts.join('; ')}. The module's keys are ${list([...target.keys()], 12)}; pass { strict: false } to load a subset`);
  }
  const plans = given.filter(([k]) => target.has(k)).map(([k, v]) => plan(OP, k, target.get(k)!, v));
  return { result: { missingKeys, unexpectedKeys }, write: () => writePlans(OP, plans) };
}

// Every entry passed: now write. Nothing before this changed the module.
function writePlans(OP: string, plans: Plan[]): void {
  for (const p of plans) {
    const be = p.dst.backend, dst = p.dst.handle(OP, 'destination');
    if ('values' in p) be.write(dst, p.values);
    else {
      const src = p.src.handle(OP, 'source');
      if (src !== dst) be.unary('copy', src, dst, p.dst.size);
    }
    // An in-place write: a recorded graph that saved the old values refuses a later backward.
    p.dst.live(OP, 'destination').version++;
  }
}

/** @internal Loads `sd` into `target`, all or nothing. */
export function loadState(target: ReadonlyMap<string, Tensor>, sd: StateDictInput, opts: LoadStateDictOptions, OP = 'loadStateDict'): LoadStateDictResult {
  const p = planLoad(target, sd, opts, OP);
  p.write();
  return p.result;
}
