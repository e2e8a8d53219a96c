// Node module hooks: `import code from './x.wgsl'` gives the text,
// `import bytes from './x.wasm'` gives a Uint8Array (as esbuild's loaders do).
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  if (url.endsWith('.wgsl')) {
    const text = await readFile(new URL(url), 'utf8');
    return { format: 'module', shortCircuit: true, source: `export default ${JSON.stringify(text)};` };
  }
  if (url.endsWith('.wasm')) {
    const b64 = (await readFile(new URL(url))).toString('base64');
    return {
      format: 'module', shortCircuit: true,
      source: `export default Uint8Array.from(Buffer.from(${JSON.stringify(b64)}, 'base64'));`,
    };
  }
  return nextLoad(url, context);
}
