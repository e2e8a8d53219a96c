// The safetensors format (https://github.com/huggingface/safetensors), bytes
// in and out, nothing lepton-specific: an 8-byte little-endian header length N,
// N bytes of UTF-8 JSON ({ name: { dtype, shape, data_offsets: [begin, end] },
// "__metadata__"?: { string: string } }, padded with spaces), then the data:
// row-major little-endian tensors whose byte ranges, relative to the end of
// the header, cover the data section exactly (no overlap, no hole). Reading
// checks all of that before converting anything, so a bad file throws and
// yields nothing.
import { fail, fmtShape } from '../errors.js';

/** safetensors dtypes lepton reads (converted to float32). Writing: F32, F64, I64, I32. */
export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';
export type WriteDtype = 'F32' | 'F64' | 'I64' | 'I32';

const BYTES: Record<Dtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1 };
export const FLOAT_DTYPES: readonly Dtype[] = ['F64', 'F32', 'F16', 'BF16'];
/** The reference implementation refuses headers over 100 MB: a length field is no reason to allocate gigabytes. */
const MAX_HEADER = 100_000_000;

/** One tensor as read from a file: its dtype there, its shape, its values as float32. */
export interface SafetensorsTensor {
  dtype: Dtype;
  shape: number[];
  data: Float32Array;
}

/** A tensor to write: the values row-major (converted to `dtype`, default F32). */
export interface SafetensorsEntry {
  shape: readonly number[];
  data: ArrayLike<number>;
  dtype?: WriteDtype;
}

export interface SafetensorsFile {
  /** name → tensor, in the header's order. */
  tensors: Record<string, SafetensorsTensor>;
  /** The header's `__metadata__` (string → string), or null when absent. */
  metadata: Record<string, string> | null;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function checkMetadata(op: string, where: string, m: unknown): Record<string, string> {
  if (!m || typeof m !== 'object' || Array.isArray(m)) fail(op, `${where} must be an object of string → string, got ${Array.isArray(m) ? 'an array' : typeof m}`);
  for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') fail(op, `${where}['${k}'] must be a string, got ${typeof v}`);
  return m as Record<string, string>;
}

/** The file's bytes for `entries` (written in the order given, 8-byte wide dtypes first to keep every tensor aligned). */
export function encodeSafetensors(entries: Iterable<[string, SafetensorsEntry]>, metadata?: Record<string, string> | null, op = 'writeSafetensors'): Uint8Array {
  const list = [...entries];
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = checkMetadata(op, "option 'metadata'", metadata);
  const seen = new Set<string>();
  const checked = list.map(([name, e], i) => {
    if (typeof name !== 'string' || name === '' || name === '__metadata__') fail(op, `tensor #${i} has the name ${JSON.stringify(name)}; needs a non-empty string other than '__metadata__'`);
    if (seen.has(name)) fail(op, `the name '${name}' is given twice`);
    seen.add(name);
    const dtype = e.dtype ?? 'F32';
    if (!['F32', 'F64', 'I64', 'I32'].includes(dtype)) fail(op, `tensor '${name}': dtype ${JSON.stringify(dtype)} cannot be written; use F32, F64, I64 or I32`);
    if (!Array.isArray(e.shape) || e.shape.some((s) => !Number.isInteger(s) || s < 0)) fail(op, `tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
    if (e.data?.length !== count(e.shape)) fail(op, `tensor '${name}': shape ${fmtShape(e.shape)} needs ${count(e.shape)} values, got ${e.data?.length}`);
    if (dtype === 'I64' || dtype === 'I32') {
      for (let j = 0; j < e.data.length; j++) if (!Number.isSafeInteger(e.data[j])) fail(op, `tensor '${name}': ${dtype} needs integers, got ${e.data[j]} at index ${j}`);
    }
    return { name, dtype, shape: [...e.shape], data: e.data };
  });
  const order = [...checked].sort((a, b) => BYTES[b.dtype] - BYTES[a.dtype]); // stable: equal widths keep their order
  let offset = 0;
  const at = new Map<string, number>();
  for (const t of order) { at.set(t.name, offset); offset += count(t.shape) * BYTES[t.dtype]; }
  for (const t of checked) {
    const begin = at.get(t.name)!;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [begin, begin + count(t.shape) * BYTES[t.dtype]] };
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so the data starts on an 8-byte boundary (as the reference writer does).
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, n, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  for (const t of checked) {
    const base = 8 + n + at.get(t.name)!;
    const typed = t.dtype === 'F32' ? Float32Array.from(t.data) : t.dtype === 'F64' ? Float64Array.from(t.data)
      : t.dtype === 'I32' ? Int32Array.from(t.data) : BigInt64Array.from(Array.from(t.data, (x) => BigInt(x)));
    if (littleEndian) out.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), base);
    else fail(op, 'big-endian hosts are not supported');
  }
  return out;
}

interface RawEntry { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }

/** Parses and checks the header of `bytes`; throws a LeptonError naming what is wrong before any data is read. */
function parseHeader(bytes: Uint8Array, op: string): { entries: RawEntry[]; metadata: Record<string, string> | null; dataStart: number } {
  if (bytes.length < 8) fail(op, `truncated file: ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true), hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (n > MAX_HEADER) fail(op, `bad header: its length field says ${n} bytes (the limit is ${MAX_HEADER}); not a safetensors file?`);
  if (8 + n > bytes.length) fail(op, `truncated file: the header should be ${n} bytes but only ${bytes.length - 8} follow the length field`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail(op, 'bad header: it is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(op, `bad header: it must begin with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(op, `bad header: not valid JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail(op, 'bad header: the JSON must be an object');
  let metadata: Record<string, string> | null = null;
  const entries: RawEntry[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') { metadata = checkMetadata(op, "bad header: '__metadata__'", v); continue; }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object' || Array.isArray(e)) fail(op, `bad header: the entry of tensor '${name}' must be an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) {
      fail(op, `tensor '${name}': dtype ${JSON.stringify(e.dtype)} is not supported; lepton reads ${Object.keys(BYTES).join(', ')}`);
    }
    if (!Array.isArray(e.shape) || e.shape.some((s) => !Number.isSafeInteger(s) || s < 0)) fail(op, `bad header: tensor '${name}' has shape ${JSON.stringify(e.shape)}; needs non-negative integers`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || off.some((o) => !Number.isSafeInteger(o) || o < 0) || off[0] > off[1]) {
      fail(op, `bad header: tensor '${name}' has data_offsets ${JSON.stringify(off)}; needs [begin, end] with 0 <= begin <= end`);
    }
    const dtype = e.dtype as Dtype, shape = e.shape as number[];
    const need = count(shape) * BYTES[dtype];
    if (off[1] - off[0] !== need) {
      fail(op, `bad header: tensor '${name}' (${dtype} ${fmtShape(shape)}, ${need} bytes) has data_offsets [${off[0]}, ${off[1]}], which hold ${off[1] - off[0]} bytes`);
    }
    entries.push({ name, dtype, shape, begin: off[0], end: off[1] });
  }
  // The tensors must tile the data section exactly: sorted by offset, each begins where the last ended.
  const dataLen = bytes.length - 8 - n;
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0, prev = '';
  for (const e of sorted) {
    if (e.begin < pos) fail(op, `bad header: tensor '${e.name}' [${e.begin}, ${e.end}) overlaps tensor '${prev}' (which ends at ${pos})`);
    if (e.begin > pos) fail(op, `bad header: bytes [${pos}, ${e.begin}) of the data are not part of any tensor (a hole before '${e.name}')`);
    pos = e.end;
    prev = e.name;
  }
  if (pos > dataLen) fail(op, `truncated file: tensor '${prev}' ends at data byte ${pos}, but the data section has ${dataLen} bytes`);
  if (pos < dataLen) fail(op, `bad header: the data section has ${dataLen} bytes but the tensors cover only ${pos} (${dataLen - pos} trailing bytes)`);
  return { entries, metadata, dataStart: 8 + n };
}

const halfToFloat = (h: number): number => {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
};

/** The values of a checked entry as float32 (exact for F32, F16, BF16 and integers up to 2^24; F64 rounds). */
function toFloat32(bytes: Uint8Array, e: RawEntry, start: number): Float32Array {
  const len = e.end - e.begin;
  // A fresh, aligned copy: the file's buffer may put a tensor at any byte offset.
  const buf = bytes.slice(start + e.begin, start + e.begin + len).buffer;
  switch (e.dtype) {
    case 'F32': return new Float32Array(buf);
    case 'F64': return Float32Array.from(new Float64Array(buf));
    case 'F16': return Float32Array.from(new Uint16Array(buf), halfToFloat);
    case 'BF16': { const u = new Uint16Array(buf), out = new Uint32Array(u.length); for (let i = 0; i < u.length; i++) out[i] = u[i] << 16; return new Float32Array(out.buffer); }
    case 'I64': return Float32Array.from(new BigInt64Array(buf), (x) => Number(x));
    case 'U64': return Float32Array.from(new BigUint64Array(buf), (x) => Number(x));
    case 'I32': return Float32Array.from(new Int32Array(buf));
    case 'U32': return Float32Array.from(new Uint32Array(buf));
    case 'I16': return Float32Array.from(new Int16Array(buf));
    case 'U16': return Float32Array.from(new Uint16Array(buf));
    case 'I8': return Float32Array.from(new Int8Array(buf));
    case 'U8': case 'BOOL': return Float32Array.from(new Uint8Array(buf));
  }
}

/** Parses a whole safetensors file; every check runs before any tensor is converted. */
export function decodeSafetensors(bytes: Uint8Array, op = 'readSafetensors'): SafetensorsFile {
  if (!littleEndian) fail(op, 'big-endian hosts are not supported');
  // A plain view: a Node Buffer's slice() would share memory instead of copying.
  if (bytes.constructor !== Uint8Array) bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { entries, metadata, dataStart } = parseHeader(bytes, op);
  const tensors = Object.fromEntries(entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape, data: toFloat32(bytes, e, dataStart) }]));
  return { tensors, metadata };
}
