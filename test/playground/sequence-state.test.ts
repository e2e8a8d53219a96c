// The Sequence tab's settings ⇄ URL: a round trip, clamping with a message,
// and the width made a multiple of the heads (headDim = width / heads).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkInput, checkSeqWidth, defaults, parseSettings, serializeSettings, type Settings } from '../../playground/src/state.js';

const TABS = ['playground', 'sequence'];

test('sequence settings survive a round trip through the URL', () => {
  const s: Settings = { ...defaults(), tab: 'sequence', seqWidth: 96, seqLayers: 3, seqHeads: 8, seqLr: 0.0005, seqBatch: 17, seqSeed: 123456 };
  const hash = serializeSettings(s);
  for (const bit of ['seqWidth=96', 'seqLayers=3', 'seqHeads=8', 'seqLr=0.0005', 'seqBatch=17', 'seqSeed=123456']) assert.ok(hash.includes(bit), hash);
  const { value, problems } = parseSettings(hash, TABS);
  assert.equal(value, s);
  assert.equal(problems, []);
});

test('sequence settings out of range are clamped and reported; unknown text falls back to the default', () => {
  const { value, problems } = parseSettings('#tab=sequence&seqLayers=0&seqHeads=20&seqWidth=1000&seqLr=1&seqBatch=2.5&seqSeed=-4', TABS);
  assert.equal([value.seqLayers, value.seqHeads, value.seqWidth, value.seqLr, value.seqBatch, value.seqSeed], [1, 8, 256, 0.1, 3, 0]);
  const text = problems.join('\n');
  for (const bit of ['sequence: blocks: 0 is out of range [1, 4]; using 1', 'sequence: attention heads: 20 is out of range [1, 8]; using 8',
    'sequence: model width: 1000 is out of range [4, 256]; using 256', 'sequence: learning rate: 1 is out of range', 'sequence: batch size: 2.5 is not a whole number; using 3',
    'sequence: weight seed: -4 is out of range']) assert.ok(text.includes(bit), `"${bit}" in\n${text}`);
  const bad = parseSettings('#seqWidth=wide', TABS);
  assert.is(bad.value.seqWidth, defaults().seqWidth);
  assert.ok(bad.problems[0].includes('"wide" is not a number'), bad.problems[0]);
});

test('the width becomes the nearest multiple of the heads within range, and says so', () => {
  assert.equal(checkSeqWidth(64, 4), { value: 64, problems: [] });
  assert.equal(checkSeqWidth(50, 3).value, 51);
  assert.equal(checkSeqWidth(5, 8).value, 8, 'at least one dimension per head');
  assert.equal(checkSeqWidth(255, 2).value, 256);
  assert.equal(checkSeqWidth(255, 7).value, 252, 'never past the largest width');
  for (let heads = 1; heads <= 8; heads++) {
    for (let w = 4; w <= 256; w++) {
      const c = checkSeqWidth(w, heads);
      assert.ok(c.value % heads === 0 && c.value >= 4 && c.value <= 256, `${w}, ${heads} heads → ${c.value}`);
      assert.ok(Math.abs(c.value - w) <= heads, `${w} → ${c.value} is a nearest multiple of ${heads}`);
      assert.is(c.problems.length, w % heads === 0 ? 0 : 1);
    }
  }
  const { value, problems } = parseSettings('#seqWidth=100&seqHeads=8', TABS);
  assert.is(value.seqWidth, 104);
  assert.equal(problems, ['sequence: model width 100 is not a multiple of the 8 heads; using 104']);
});

test('typed learning rate and batch go through the same checks', () => {
  assert.equal(checkInput('seqLr', '0.01', 0.003), { value: 0.01, problems: [] });
  assert.is(checkInput('seqBatch', '9999', 64).value, 512);
  assert.is(checkInput('seqLr', 'x', 0.003).value, 0.003);
});

test.run();
