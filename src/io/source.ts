// Where bytes come from and go to: a Node file path, a URL (fetched; in Node a
// file: URL is read from disk), an ArrayBuffer or view, or anything with
// arrayBuffer() (a Blob or File in browsers, a fetch Response). Node's fs is
// imported under a name bundlers cannot see, so browser bundles stay free of it.
import { importNode, isNode } from '../backends/node-import.js';
import { fail } from '../errors.js';

/** A URL object (the WHATWG `URL` of browsers and Node), typed structurally so the declarations need no DOM lib. */
export interface UrlLike { readonly href: string; readonly protocol: string }

/**
 * What the loaders accept: a string (a file path in Node, a URL fetched in
 * browsers), a URL, an ArrayBuffer or typed array, or anything with
 * `arrayBuffer()`: a Blob, a File, a fetch Response.
 */
export type BinarySource = string | UrlLike | ArrayBuffer | ArrayBufferView | { arrayBuffer(): Promise<ArrayBuffer> };

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
  const isUrl = (v: unknown): v is UrlLike => !!v && typeof v === 'object' && typeof (v as UrlLike).href === 'string' && typeof (v as UrlLike).protocol === 'string';
  if (typeof src === 'string' || isUrl(src)) {
    const url = isUrl(src) ? new URL(src.href) : /^[a-z][a-z0-9+.-]*:/i.test(src) && !/^[a-z]:[\\/]/i.test(src) ? new URL(src) : null;
    if (isNode && (!url || url.protocol === 'file:')) {
      const fs = await importNode<Fs>('node:fs/promises');
      try {
        return await fs.readFile(url ?? (src as string));
      } catch (e) {
        return fail(op, `cannot read '${String(src)}': ${(e as Error).message}`);
      }
    }
    return fetchBytes(op, url ?? (src as string));
  }
  if (src && typeof (src as Blob).arrayBuffer === 'function') return new Uint8Array(await (src as { arrayBuffer(): Promise<ArrayBuffer> }).arrayBuffer());
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
