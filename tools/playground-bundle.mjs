// Shared by `npm start` (tools/serve.mjs) and `npm run build:playground`
// (tools/build-playground.mjs): bundles playground/src/main.ts with esbuild
// (ESM, browser, es2022; the kernels embedded as the library build embeds
// them, tools/kernel-assets.mjs) and copies the page's static files next to
// the bundle.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelAssets } from './kernel-assets.mjs';
import { ensureDigitsAsset } from './pack-digits.mjs';

export const root = new URL('..', import.meta.url).pathname;
export const defaultOutdir = join(root, 'playground/dist');

/** The two response headers that make a page cross-origin isolated (SharedArrayBuffer, so WASM threads). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** lepton's Wasm kernels are compiled by asc into build/; `npm ci` does it, but a fresh checkout may lack them. */
function ensureWasm() {
  // The bundle embeds each module gzipped (build/*.wasm.gz, written after asc) and the
  // WGSL declarations generated from src/backends/primitives/ (build/gen/).
  const targets = Object.values(JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8')).targets).map((t) => `${t.outFile}.gz`);
  if ([...targets, 'build/gen/elementwise.wgsl'].every((f) => existsSync(join(root, f)))) return;
  console.log('playground: compiling the Wasm kernels first (node tools/build.mjs wasm)');
  execFileSync(process.execPath, [join(root, 'tools/build.mjs'), 'wasm'], { stdio: 'inherit', cwd: root });
}

const STATIC = ['index.html', 'style.css'];
/** The Digits tab's data, packed from the `mnist` devDependency at build time (tools/pack-digits.mjs). */
export const DIGITS_FILE = 'digits.bin.gz';

function copyStatic(outdir) {
  for (const f of STATIC) copyFileSync(join(root, 'playground', f), join(outdir, f));
  copyFileSync(ensureDigitsAsset(), join(outdir, DIGITS_FILE));
}

function esbuildOptions(outdir) {
  return {
    entryPoints: [join(root, 'playground/src/main.ts')],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    ...kernelAssets,
    alias: { lepton: join(root, 'src/index.ts') },
    // lepton loads Dawn's Node addon and node:* modules only under Node; the browser never reaches those imports.
    external: ['webgpu', 'node:*'],
    sourcemap: true,
    logLevel: 'warning',
    absWorkingDir: root,
  };
}

/** One build into `outdir`. Returns the bundle size in bytes. */
export async function buildPlayground(outdir = defaultOutdir) {
  ensureWasm();
  mkdirSync(outdir, { recursive: true });
  const esbuild = await import('esbuild');
  await esbuild.build(esbuildOptions(outdir));
  copyStatic(outdir);
  return readFileSync(join(outdir, 'main.js')).length;
}

/** Builds, then rebuilds on every change under playground/ and src/ (for `npm start -- --watch`). */
export async function watchPlayground(outdir = defaultOutdir) {
  ensureWasm();
  mkdirSync(outdir, { recursive: true });
  const esbuild = await import('esbuild');
  const copier = {
    name: 'copy-static',
    setup(build) { build.onEnd(() => { copyStatic(outdir); console.log('playground: rebuilt'); }); },
  };
  const options = esbuildOptions(outdir);
  const ctx = await esbuild.context({ ...options, plugins: [...options.plugins, copier] });
  await ctx.watch();
  return ctx;
}

/** The headers file of Netlify / Cloudflare Pages, and a note for other hosts. */
export function writeHostingNotes(outdir) {
  writeFileSync(join(outdir, '_headers'), `/*\n${Object.entries(ISOLATION_HEADERS).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  writeFileSync(join(outdir, 'README.md'), `# lepton playground (static build)

Serve this folder with any static file server. For WASM threads the pages
must be served with these two response headers, which make the page
cross-origin isolated (browsers give SharedArrayBuffer only to such pages):

${Object.entries(ISOLATION_HEADERS).map(([k, v]) => `    ${k}: ${v}`).join('\n')}

\`_headers\` sets them on Netlify and Cloudflare Pages. Elsewhere configure
them in the server (nginx: \`add_header\`; Apache: \`Header set\`). Without them
the playground still works, on WebGPU and single-threaded WASM. GitHub Pages
cannot set headers.

Serve \`.js\` as \`text/javascript\`. \`${DIGITS_FILE}\` (the Digits tab's MNIST
digits) is gzipped already and the page unpacks it itself: serve it as is
(any type; a server that adds \`Content-Encoding: gzip\` works too). Built
by \`npm run build:playground\`.
`);
}
