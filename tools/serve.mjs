// npm start: builds the playground and serves it on 127.0.0.1 with the
// COOP/COEP headers that make the page cross-origin isolated (so WASM can use
// threads on SharedArrayBuffer). esbuild's own server cannot set headers.
//   node tools/serve.mjs [--port N] [--watch] [--outdir DIR]
// PORT=N also sets the port; 0 = any free port. The build goes to
// playground/dist unless --outdir names another folder (the tests use one).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { buildPlayground, defaultOutdir, ISOLATION_HEADERS, watchPlayground } from './playground-bundle.mjs';

const args = process.argv.slice(2);
const flag = (name) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const portArg = flag('port') ?? process.env.PORT ?? '8124';
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`serve: --port must be an integer in 0..65535, got ${JSON.stringify(portArg)}`);
  process.exit(1);
}
const watch = args.includes('--watch');
const outdir = flag('outdir') ? resolve(flag('outdir')) : defaultOutdir;

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.md': 'text/markdown; charset=utf-8', '.gz': 'application/gzip',
};

const t0 = performance.now();
const ctx = watch ? await watchPlayground(outdir) : (await buildPlayground(outdir), null);
console.log(`playground: built in ${Math.round(performance.now() - t0)} ms${watch ? ' (watching for changes)' : ''}`);

const server = createServer(async (req, res) => {
  const headers = { ...ISOLATION_HEADERS, 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' };
  try {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(outdir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(outdir + sep) && file !== outdir) { res.writeHead(403, headers).end('forbidden'); return; }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) { res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found'); return; }
    const body = await readFile(file);
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (e) {
    res.writeHead(500, { ...headers, 'Content-Type': 'text/plain' }).end(String(e));
  }
});

server.on('error', (e) => {
  console.error(`serve: cannot listen on 127.0.0.1:${port}: ${e.message}${e.code === 'EADDRINUSE' ? ' (use --port N, or --port 0 for any free port)' : ''}`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address();
  console.log(`lepton playground: http://127.0.0.1:${actual}/`);
  console.log('(cross-origin isolated: COOP same-origin + COEP require-corp; Ctrl+C stops)');
});

const stop = () => { ctx?.dispose(); server.close(() => process.exit(0)); setTimeout(() => process.exit(0), 500).unref(); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
