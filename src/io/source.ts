// Where bytes come from and go to: a Node file path, a URL (fetched; in Node a
// file: URL is read from disk), an ArrayBuffer or view, or anything with
// arrayBuffer() (a Blob or File in browsers, a fetch Response). Node's fs is
// imported under a name bundlers cannot see, so browser bundles stay free of it.
import { importNode, isNode } from '../backends/node-import.js';
import { fail } from '../errors.js';

/** What the loaders accept. A string is a file path in Node and a URL (fetched) in browsers. */
export type BinarySource = string | URL | ArrayBuffer | ArrayBufferView | Blob | { arrayBuffer(): Promise<ArrayBuffer> };

type Fs = { readFile(p: string | URL): Promise<Uint8Array>; writeFile(p: string, d: Uint8Array): Promise<void> };

const describe = (v: unknown) => v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;

async function fetchBytes(op: string, url: string | URL): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    return fail(op, `cannot fetch '${String(url)}': ${(e as Error).message}`);
  }
  if (!res.ok) fail(op, `cannot fetch '${String(url)}': HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The bytes of `src`, without copying where it already is bytes. */
export async function readBytes(op: string, src: BinarySource): Promise<Uint8Array> {
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  if (typeof src === 'string' || src instanceof URL) {
    const url = src instanceof URL ? src : /^[a-z][a-z0-9+.-]*:/i.test(src) && !/^[a-z]:[\\/]/i.test(src) ? new URL(src) : null;
    if (isNode && (!url || url.protocol === 'file:')) {
      const fs = await importNode<Fs>('node:fs/promises');
      try {
        return await fs.readFile(url ?? (src as string));
      } catch (e) {
        return fail(op, `cannot read '${String(src)}': ${(e as Error).message}`);
      }
    }
    return fetchBytes(op, src);
  }
  if (src && typeof (src as Blob).arrayBuffer === 'function') return new Uint8Array(await (src as Blob).arrayBuffer());
  return fail(op, `argument 'source' must be a path or URL, an ArrayBuffer or typed array, or a Blob / File / Response, got ${describe(src)}`);
}

/** Writes `bytes` to a file (Node only). */
export async function writeBytes(op: string, path: string, bytes: Uint8Array): Promise<void> {
  if (typeof path !== 'string' || path === '') fail(op, `argument 'path' must be a non-empty string, got ${describe(path)}`);
  if (!isNode) fail(op, `a path can be written only in Node; in a browser use the returned bytes (e.g. new Blob([bytes]) for a download)`);
  const fs = await importNode<Fs>('node:fs/promises');
  try {
    await fs.writeFile(path, bytes);
  } catch (e) {
    fail(op, `cannot write '${path}': ${(e as Error).message}`);
  }
}
