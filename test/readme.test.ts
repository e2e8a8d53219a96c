// Every ```ts / ```js block of README.md runs as written against the built
// package: each becomes a module file inside the repo (test-output/readme/),
// where `import … from 'lepton'` is the package's self-reference and resolves
// through package.json's exports to dist/, as it does for a user. Plain Node
// with tsx for the TypeScript, no loader hooks, no tsconfig paths. The
// TypeScript blocks also type-check (strict) against dist/types.
// Shell and output blocks are not run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = join(root, 'test-output/readme');
const RUN = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);

interface Block { line: number; lang: string; code: string; file: string }

function blocks(): Block[] {
  const out: Block[] = [];
  const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    assert.ok(end > i, `README.md:${i + 1}: unclosed code block`);
    const lang = open[1].toLowerCase();
    if (RUN.has(lang)) {
      const ts = lang === 'ts' || lang === 'typescript';
      out.push({ line: i + 1, lang, code: lines.slice(i + 1, end).join('\n'), file: join(dir, `block-${i + 1}.${ts ? 'ts' : 'mjs'}`) });
    }
    i = end;
  }
  return out;
}

const found = blocks();
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
// No tsconfig "paths" for tsx: 'lepton' must resolve as it does for users (the repo's tsconfig maps it to src/).
const tsconfig = join(dir, 'tsconfig.json');
writeFileSync(tsconfig, JSON.stringify({
  compilerOptions: {
    target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], types: [],
    strict: true, noEmit: true, skipLibCheck: false, isolatedModules: true,
  },
  include: ['*.ts'],
}));
for (const b of found) writeFileSync(b.file, `${b.code}\n`);
const env = { ...process.env, TSX_TSCONFIG_PATH: tsconfig };
const where = (b: Block) => `README.md:${b.line} (\`\`\`${b.lang}: ${b.code.split('\n')[0]})`;

test('README.md has code blocks to run', () => {
  assert.ok(found.length >= 2, `found ${found.length}`);
});

test("'lepton' resolves to the built package from a README block's place", () => {
  const probe = join(dir, 'resolve.mjs');
  writeFileSync(probe, "console.log(import.meta.resolve('lepton'));\n");
  const r = spawnSync(process.execPath, ['--import', 'tsx', probe], { cwd: root, env, encoding: 'utf8' });
  assert.is(r.stdout.trim(), new URL('../dist/index.js', import.meta.url).href, r.stderr);
});

for (const b of found) {
  test(`runs: ${where(b)}`, () => {
    // Run where the blocks are: files a block writes (spiral.safetensors) land in test-output/readme/.
    const r = spawnSync(process.execPath, ['--import', 'tsx', b.file], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    assert.ok(r.status === 0, `${where(b)} failed (exit ${r.status ?? r.signal}):\n${r.stderr.slice(-3000)}`);
  });
}

test('the TypeScript blocks type-check (strict) against dist/types', () => {
  if (!found.some((b) => b.file.endsWith('.ts'))) return;
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig, '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
  const errors = r.stdout.replace(/block-(\d+)\.ts/g, 'README.md block at line $1');
  assert.ok(r.status === 0, `tsc on the README's TypeScript blocks:\n${errors}${r.stderr}`);
});

test.run();
