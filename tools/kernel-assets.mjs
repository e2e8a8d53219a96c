// How kernel files become JS modules, one way for every consumer of src/:
// the esbuild bundles (tools/build.mjs, tools/playground-bundle.mjs) use
// `kernelAssets`, and Node's loader hooks (tools/asset-hooks.mjs, for tests,
// bench and demo) use the same `minifyWgsl`, so tests run the WGSL users get.
//   .wgsl     text, minus comments and indentation (a third of the bytes)
//   .wasm     bytes
//   .wasm.gz  bytes (a gzipped module, written by tools/build.mjs)
import { readFile } from 'node:fs/promises';

/**
 * WGSL without comments (line, and nested block ones), leading and trailing
 * blanks, runs of blanks, and empty lines. Line breaks stay (error messages
 * keep a line to point at). WGSL has no string literals, so no comment marker
 * can hide inside one; a dropped comment becomes a blank, so it still
 * separates the tokens on either side of it.
 */
export function minifyWgsl(source) {
  let out = '';
  for (let i = 0; i < source.length;) {
    if (source.startsWith('//', i)) {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (source.startsWith('/*', i)) {
      let depth = 0;
      do {
        if (source.startsWith('/*', i)) { depth++; i += 2; }
        else if (source.startsWith('*/', i)) { depth--; i += 2; }
        else if (i >= source.length) throw new Error('WGSL: unterminated block comment');
        else i++;
      } while (depth > 0);
      out += ' ';
    } else {
      out += source[i++];
    }
  }
  const lines = out.split('\n').map((line) => line.replace(/[ \t\r]+/g, ' ').trim()).filter(Boolean);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** esbuild options shared by the bundles that embed the kernels. */
export const kernelAssets = {
  loader: { '.wasm': 'binary', '.gz': 'binary' },
  plugins: [{
    name: 'wgsl-minify',
    setup(build) {
      build.onLoad({ filter: /\.wgsl$/ }, async ({ path }) => ({ contents: minifyWgsl(await readFile(path, 'utf8')), loader: 'text' }));
    },
  }],
};
