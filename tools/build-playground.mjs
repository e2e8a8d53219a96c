// npm run build:playground: writes the static playground to playground/dist/
// (index.html, style.css, main.js + map, _headers, README.md).
//   node tools/build-playground.mjs [--outdir DIR]
import { buildPlayground, defaultOutdir, writeHostingNotes } from './playground-bundle.mjs';
import { resolve } from 'node:path';

const i = process.argv.indexOf('--outdir');
const outdir = i >= 0 ? resolve(process.argv[i + 1]) : defaultOutdir;
const bytes = await buildPlayground(outdir);
writeHostingNotes(outdir);
console.log(`playground: wrote ${outdir} (main.js ${(bytes / 1024).toFixed(0)} KiB)`);
console.log('serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (see README.md there)');
