// The addition task's data: sequences spell the problem and its sum (checked by
// string arithmetic, not the encoder's own digit loop), held-out problems never
// reach a training batch, and parsing accepts what a person types.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as add from '../../examples/addition/data.js';

const text = (ids: ArrayLike<number>) => Array.from(ids, add.tokenText).join('');

test('a sequence is the zero-padded prompt and the reversed five-digit sum', () => {
  const { tokens, problems } = add.trainBatch(add.rng(3), 200);
  assert.is(tokens.length, 200 * add.SEQ_LEN);
  problems.forEach(([a, b], i) => {
    const seq = text(tokens.subarray(i * add.SEQ_LEN, (i + 1) * add.SEQ_LEN));
    const sum = String(a + b).padStart(5, '0').split('').reverse().join('');
    assert.is(seq, `${String(a).padStart(4, '0')}+${String(b).padStart(4, '0')}=${sum}`);
  });
  assert.is(text(add.encodePrompt(9999, 9999)) + text(add.encodeAnswer(9999, 9999)), '9999+9999=89991');
  assert.is(add.decodeAnswer(add.encodeAnswer(4321, 987)), 5308);
});

test('held-out problems are about a tenth, never in training batches, distinct', () => {
  let held = 0;
  for (let a = 0; a < 300; a++) for (let b = 0; b < 300; b++) if (add.isHeldOut(a, b)) held++;
  assert.ok(Math.abs(held / 90000 - 0.1) < 0.01, `held-out fraction ${held / 90000}`);
  const { problems } = add.trainBatch(add.rng(5), 5000);
  assert.ok(problems.every(([a, b]) => !add.isHeldOut(a, b)));
  const test_ = add.heldOutProblems(500);
  assert.ok(test_.every(([a, b]) => add.isHeldOut(a, b)));
  assert.is(new Set(test_.map(([a, b]) => `${a}+${b}`)).size, 500);
  // Operand lengths 1..4 are about equally common.
  const lens = [0, 0, 0, 0, 0];
  for (const [a] of problems) lens[String(a).length]++;
  for (let len = 2; len <= 4; len++) assert.ok(lens[len] > 800, `${len}-digit operands: ${lens[len]}`);
});

test('parseProblem reads typed problems and refuses others', () => {
  assert.equal(add.parseProblem(' 12 + 345 '), [12, 345]);
  assert.equal(add.parseProblem('9999+0='), [9999, 0]);
  assert.is(add.parseProblem('12345+1'), null);
  assert.is(add.parseProblem('1-2'), null);
  assert.throws(() => add.encodePrompt(10000, 1), /a must be an integer in \[0, 9999\]/);
});

test.run();
