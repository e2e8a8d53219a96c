// `npm run docs` (typedoc on the TypeScript 5.9 API, tools/docs.mjs) builds the
// API reference: a page for each main entry point, with its TSDoc text, and no
// page for @internal names.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { root } from './helpers/packed.js';

test('npm run docs writes the API reference for the main entry points', () => {
  const out = mkdtempSync(join(tmpdir(), 'lepton-docs-'));
  try {
    execFileSync('npm', ['run', 'docs', '--', '--out', out], { cwd: root, stdio: 'pipe', timeout: 300_000 });
    const page = (p: string) => {
      assert.ok(existsSync(join(out, p)), `${p} exists`);
      return readFileSync(join(out, p), 'utf8');
    };
    assert.match(page('index.html'), /lepton/);
    assert.match(page('functions/init.html'), /init/);
    assert.match(page('classes/Tensor.html'), /backward/);
    assert.match(page('functions/matmul.html'), /matmul/);
    assert.match(page('classes/nn.MLP.html'), /MLP/);
    assert.match(page('classes/optim.SGD.html'), /parameter groups/);
    assert.match(page('classes/optim.lrScheduler.OneCycleLR.html'), /Smith|maxLr/);
    assert.match(page('functions/nn.utils.clipGradNorm.html'), /1e-6/);
    assert.match(page('functions/metrics.confusionMatrix.html'), /confusion matrix/i);
    assert.match(page('classes/data.DataLoader.html'), /for await/);
    assert.ok(!existsSync(join(out, 'functions/binaryRaw.html')), 'internal helpers have no page');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
