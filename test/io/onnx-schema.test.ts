// The committed ONNX schema descriptor is what tools/gen-onnx-schema.ts makes from onnx.proto.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { generate } from '../../tools/gen-onnx-schema.js';

test('src/io/onnx/onnx-schema.gen.ts is current (node --import tsx tools/gen-onnx-schema.ts)', () => {
  assert.ok(readFileSync('src/io/onnx/onnx-schema.gen.ts', 'utf8') === generate(), 'stale: run node --import tsx tools/gen-onnx-schema.ts');
});

test.run();
