// The packed declarations (dist/types) in a consumer's TypeScript project:
// TypeScript 5.9, strict, skipLibCheck false (so every .d.ts lepton ships is
// checked), with nothing but lib ES2022: no DOM, no @webgpu/types, no
// @types/node. The consumer uses the public API, `using` included, and
// expects internal members to be absent (@ts-expect-error fails if they are
// declared). One run per moduleResolution a consumer may use.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packed, root } from './helpers/packed.js';

const tsc = join(root, 'node_modules/typescript-5.9/bin/tsc');

const CONSUMER = `import {
  init, tensor, zeros, randn, matmul, add, relu, softmax, crossEntropy, nn, optim, scope, keep, dispose, noGrad,
  LeptonError, type Tensor, type InitOptions, type DeviceName, type NestedArray,
} from 'lepton';

const options: InitOptions = { backend: 'wasm', threads: 1, powerPreference: 'high-performance' };
export const device: DeviceName = await init(options);

const model = new nn.MLP([2, 8, 3], { activation: 'relu', seed: 1 });
const opt = new optim.Adam(model.parameters(), { lr: 1e-2, betas: [0.9, 0.999] });
const sgd = new optim.SGD(new nn.Linear(2, 3).parameters(), { lr: 0.1, momentum: 0.9 });
const x = tensor([[0, 1], [1, 0]]);
const loss: Tensor = scope(() => {
  const l = nn.crossEntropy(model.forward(x), [0, 2]);
  opt.zeroGrad();
  l.backward();
  opt.step();
  return l;
});
export const value: number = await loss.item();
sgd.zeroGrad();

export async function products(): Promise<NestedArray[]> {
  using w = randn([2, 2], { seed: 1, requiresGrad: true });
  const y = relu(add(matmul(x, w), zeros([2]))).sum();
  y.backward();
  const kept = keep(softmax(x, -1));
  dispose([y, crossEntropy(x, [1, 0], { reduction: 'none' })]);
  const nograd = noGrad(() => x.mul(2));
  return [await w.grad!.array(), kept.rank, nograd.shape.length];
}

export function message(e: unknown): string | null {
  return e instanceof LeptonError ? e.message : null;
}

// Internal members are not declared.
// @ts-expect-error gradFn is internal
export const node = x.gradFn;
// @ts-expect-error handle() is internal
export const handle = x.handle('op', 'x');
`;

const MODES = [
  { resolution: 'bundler', module: 'esnext' },
  { resolution: 'node16', module: 'node16' },
  { resolution: 'nodenext', module: 'nodenext' },
];

test('the packed declarations hold no @internal member', () => {
  const dir = join(packed().consumer, 'node_modules/lepton/dist/types');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));
  assert.ok(files.includes('index.d.ts'), `no index.d.ts in ${dir}`);
  const tagged = files.filter((f) => readFileSync(join(dir, f), 'utf8').includes('@internal'));
  assert.equal(tagged, [], `declarations still carrying @internal members: ${tagged.join(', ')}`);
});

for (const { resolution, module } of MODES) {
  test(`a consumer type-checks against the tarball: TypeScript 5.9, moduleResolution ${resolution}`, () => {
    const { consumer } = packed();
    writeFileSync(join(consumer, 'main.ts'), CONSUMER);
    const config = join(consumer, `tsconfig.${resolution}.json`);
    writeFileSync(config, JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module, moduleResolution: resolution, lib: ['ES2022'], types: [],
        strict: true, skipLibCheck: false, noEmit: true,
      },
      files: ['main.ts'],
    }));
    const t0 = performance.now();
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', config], { cwd: consumer, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    console.log(`  tsc 5.9 (${resolution}): ${out ? 'FAILED' : 'ok'} in ${Math.round(performance.now() - t0)} ms`);
    assert.is(out, '', `tsc 5.9 --moduleResolution ${resolution} on the packed declarations:\n${out}`);
  });
}

test('TypeScript 5.9 is the one checking', () => {
  const version = execFileSync(process.execPath, [tsc, '-v'], { encoding: 'utf8' }).trim();
  assert.match(version, /^Version 5\.9\./);
});

test.run();
