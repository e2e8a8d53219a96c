// Node module hooks: `import code from './x.wgsl'` gives the text (minified
// as the bundles embed it), `import bytes from './x.wasm'` (or `.wasm.gz`)
// gives a Uint8Array of the file (as esbuild's binary loader does).
import { readFile } from 'node:fs/promises';
import { minifyWgsl } from './kernel-assets.mjs';

export async function load(url, context, nextLoad) {
  if (url.endsWith('.wgsl')) {
    const text = minifyWgsl(await readFile(new URL(url), 'utf8'));
    return { format: 'module', shortCircuit: true, source: `export default ${JSON.stringify(text)};` };
  }
  if (url.endsWith('.wasm') || url.endsWith('.wasm.gz')) {
    const b64 = (await readFile(new URL(url))).toString('base64');
    return {
      format: 'module', shortCircuit: true,
      source: `export default Uint8Array.from(Buffer.from(${JSON.stringify(b64)}, 'base64'));`,
    };
  }
  return nextLoad(url, context);
}
