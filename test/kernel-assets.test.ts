// The WGSL the bundles embed and Node's hooks serve (tools/kernel-assets.mjs):
// comments and layout go, every token stays, in order. (Whether the result
// compiles is every WebGPU test's business: they run this same text.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelAssets, minifyWgsl as minify } from '../tools/kernel-assets.mjs';
import shipped from '../kernels-wgsl/elementwise.wgsl';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'kernels-wgsl');
const files = readdirSync(dir).filter((f) => f.endsWith('.wgsl'));

test('comments go, nested block comments included, and still separate tokens', () => {
  assert.is(minify('  let a = 1; // one\n\n\t// only a comment\nlet b/* x /* nested */ y */= a;\n'), 'let a = 1;\nlet b = a;\n');
  assert.is(minify('x/**/y'), 'x y\n');
  assert.is(minify('a // c /* not a block\nb'), 'a\nb\n');
  assert.is(minify('/* // not a line comment */ c'), 'c\n');
  assert.is(minify('// nothing\n'), '');
  assert.throws(() => minify('a /* open'), /unterminated/);
});

test('every kernel file keeps its tokens, in order, and loses its comments', () => {
  for (const f of files) {
    const source = readFileSync(join(dir, f), 'utf8');
    assert.not.match(source, /\/\*/, `${f}: block comments; extend this test's reference tokenizer`);
    // Reference: line comments cut line by line (the files have no block comments), split on blanks.
    const tokens = (s: string) => s.split('\n').map((l) => l.replace(/\/\/.*/, '')).join('\n').split(/\s+/).filter(Boolean);
    const small = minify(source);
    assert.equal(small.split(/\s+/).filter(Boolean), tokens(source), f);
    assert.not.match(small, /\/\/|^\s|\s\n|\n\n/m, `${f}: a comment or stray blank left`);
    assert.ok(small.endsWith('\n'), `${f}: ends without a line break (files are concatenated)`);
    assert.ok(small.length < source.length * 0.8, `${f}: ${source.length} -> ${small.length} bytes`);
  }
});

test('the bundle and the Node hooks embed the same text', async () => {
  const esbuild = await import('esbuild');
  const res = await esbuild.build({
    stdin: { contents: "import code from './kernels-wgsl/elementwise.wgsl'; console.log(code);", resolveDir: root },
    bundle: true, write: false, format: 'esm', logLevel: 'silent', ...kernelAssets,
  });
  const expected = minify(readFileSync(join(dir, 'elementwise.wgsl'), 'utf8'));
  assert.ok(res.outputFiles[0].text.includes(JSON.stringify(expected)), 'the bundle holds another text');
  assert.is(shipped, expected);
});

test.run();
