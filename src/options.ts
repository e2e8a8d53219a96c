// Options objects at the API boundary: one check for every public function
// that takes `{ … }`. An unknown name (a typo, another library's spelling) or
// a value of the wrong kind is a LeptonError naming the option and what it
// accepts; nothing is silently ignored. Names are looked up as own
// properties only ('toString' or '__proto__' are not options).
import { fail } from './errors.js';

/** What one option accepts: a test and its description for the error ("a boolean"). */
export interface Accepts<T> {
  readonly what: string;
  test(v: unknown): v is T;
}

export const accepts = <T>(what: string, test: (v: unknown) => boolean): Accepts<T> => ({ what, test: test as (v: unknown) => v is T });

export const bool = accepts<boolean>('a boolean (true or false)', (v) => typeof v === 'boolean');
export const finite = accepts<number>('a finite number', (v) => typeof v === 'number' && Number.isFinite(v));
export const anything = accepts<unknown>('any value', () => true);

/** One of the listed strings, checked by value (never by property lookup). */
export function oneOf<const T extends string>(...values: T[]): Accepts<T> {
  return accepts<T>(values.length === 1 ? `'${values[0]}'` : `one of ${values.map((v) => `'${v}'`).join(', ')}`,
    (v) => typeof v === 'string' && (values as string[]).includes(v));
}

/** The names of an object's own keys, e.g. a table of activation codes. */
export const keyOf = <T extends object>(table: T): Accepts<keyof T & string> => oneOf(...(Object.keys(table) as (keyof T & string)[]));

/** An integer in [min, max]. */
export function integer(min = -Infinity, max = Infinity): Accepts<number> {
  const range = max === Infinity ? (min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`) : `an integer in [${min}, ${max}]`;
  return accepts<number>(range, (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);
}

/** A finite number in the interval (or closed at either end): `number(0, 1, '[)')`. */
export function number(lo: number, hi: number, ends: '()' | '[)' | '(]' | '[]' = '[]'): Accepts<number> {
  const what = hi === Infinity ? `a finite number ${ends[0] === '(' ? '>' : '>='} ${lo}` : `a number in ${ends[0]}${lo}, ${hi}${ends[1]}`;
  return accepts<number>(what, (v) => typeof v === 'number' && Number.isFinite(v)
    && (ends[0] === '(' ? v > lo : v >= lo) && (ends[1] === ')' ? v < hi : v <= hi));
}

export function instanceOf<T>(ctor: abstract new (...a: never[]) => T, name: string): Accepts<T> {
  return accepts<T>(`a ${name}`, (v) => v instanceof ctor);
}

export function either<A, B>(a: Accepts<A>, b: Accepts<B>): Accepts<A | B> {
  return accepts<A | B>(`${a.what} or ${b.what}`, (v) => a.test(v) || b.test(v));
}

/** An array of exactly `items.length` values, each accepted by its entry. */
export function tuple<T extends unknown[]>(...items: { [K in keyof T]: Accepts<T[K]> }): Accepts<T> {
  return accepts<T>(`an array of ${items.length} values (${items.map((i) => i.what).join(', ')})`,
    (v) => Array.isArray(v) && v.length === items.length && items.every((it, i) => it.test(v[i])));
}

export const device = oneOf('wasm', 'webgpu');

const DEFERRED = new Set(['[object AsyncFunction]', '[object AsyncGeneratorFunction]', '[object GeneratorFunction]']);

/**
 * Checks that `fn` is a function whose body runs to its end when called:
 * scope() and noGrad() hold their state only while it runs, so an async (or
 * generator) function is refused before any of it runs.
 */
export function syncFunction(op: string, fn: unknown, hint: string): void {
  if (typeof fn !== 'function') fail(op, `argument 'fn' must be a function, got ${describe(fn)}`);
  const tag = Object.prototype.toString.call(fn);
  if (DEFERRED.has(tag)) fail(op, `the function is ${tag.includes('Async') ? 'async' : 'a generator'}: ${hint}`);
}

/** For a result that turned out to be a Promise after all (e.g. async code compiled to plain functions). */
export const isThenable = (v: unknown): boolean =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';

/** Describes a value for an error message: `"abc"`, `-1`, `null`, `an array`, `a Tensor`… */
export function describe(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) {
    const short = v.length <= 8 && v.every((x) => typeof x === 'number' || typeof x === 'boolean' || x === null);
    return short ? `[${v.map(String).join(', ')}]` : `an array of length ${v.length}`;
  }
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return typeof v;
}

/** Options are a plain object: `{ … }`, or one made with Object.create(null) (also from another realm). */
export function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype || proto.constructor?.name === 'Object';
}

const squash = (s: string) => s.toLowerCase().replace(/[_-]/g, '');

/** Edit distance with transpositions (optimal string alignment), small strings only. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) {
    const cost = a[i - 1] === b[j - 1] ? 0 : 1;
    d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
    if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
  }
  return d[a.length][b.length];
}

/** The option a user probably meant: another spelling (`retain_graph`, `keepdims`), a typo, or a known alias. */
function suggest(key: string, names: string[], aliases: Readonly<Record<string, string>>): string | null {
  if (Object.hasOwn(aliases, key)) return aliases[key];
  const k = squash(key);
  const exact = names.find((n) => squash(n) === k);
  if (exact) return exact;
  let best: string | null = null, bestD = Infinity;
  for (const n of names) {
    const dist = distance(k, squash(n));
    if (dist < bestD) { best = n; bestD = dist; }
  }
  return bestD <= Math.min(2, Math.floor(key.length / 3)) ? best : null;
}

/** One entry per option of T: an interface's option added without its check does not compile. */
export type OptionSpec<T> = { readonly [K in keyof Required<T>]: Accepts<unknown> };

/**
 * Checks `opts` (undefined means none) against `spec` and returns it, or a
 * fresh `{}`. `aliases` names the option meant by a common other spelling
 * (PyTorch's or Keras's: `learningRate` → `lr`).
 */
export function options<T extends object>(op: string, opts: T | undefined, spec: OptionSpec<T>,
  aliases: Readonly<Record<string, string>> = {}): T {
  const names = Object.keys(spec);
  if (opts === undefined) return {} as T;
  if (!isPlain(opts)) {
    fail(op, `argument 'options' must be an object with any of: ${names.join(', ')}; got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!Object.hasOwn(spec, key)) {
      const s = suggest(key, names, aliases);
      fail(op, `unknown option '${key}'${s ? ` (did you mean '${s}'?)` : ''}; the options are: ${names.join(', ')}`);
    }
    const v = (opts as Record<string, unknown>)[key];
    const check = (spec as Record<string, Accepts<unknown>>)[key];
    if (v !== undefined && !check.test(v)) fail(op, `option '${key}' must be ${check.what}, got ${describe(v)}`);
  }
  return opts;
}
