// Settings ⇄ URL: round trips, and out-of-range values clamped with a message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkInput, defaults, parseSettings, serializeSettings, type Settings } from '../../playground/src/state.js';

const TABS = ['playground', 'race', 'bench'];

test('defaults survive a round trip through the URL with no corrections', () => {
  const d = defaults();
  const { value, problems } = parseSettings(`#${serializeSettings(d)}`, TABS);
  assert.equal(value, d);
  assert.equal(problems, []);
});

test('every changed setting survives a round trip', () => {
  const s: Settings = {
    ...defaults(), tab: 'race', problem: 'regression', dataset: 'reg-gauss', noise: 35, trainPct: 70, batch: 200, dataSeed: 77,
    initSeed: 5, features: ['x2', 'xy', 'cosy'], hidden: [256, 1, 3, 8, 8, 8, 8, 8], activation: 'gelu', lr: 0.0003, optimizer: 'momentum',
    reg: 'l1', regRate: 0.003, backend: 'wasm-threads', showTest: true, discretize: true, raceA: 'wasm', raceB: 'wasm-threads',
  };
  const hash = serializeSettings(s);
  assert.ok(hash.includes('hidden=256,1,3,8,8,8,8,8'), hash);
  const { value, problems } = parseSettings(hash, TABS);
  assert.equal(value, s);
  assert.equal(problems, []);
});

test('out-of-range and malformed values are clamped or replaced, each with a sentence', () => {
  const { value, problems } = parseSettings('#lr=50&noise=-3&batch=2.6&hidden=300,0,4&act=swish&features=x,q&foo=1&showTest=maybe', TABS);
  assert.is(value.lr, 10);
  assert.is(value.noise, 0);
  assert.is(value.batch, 3);
  assert.equal(value.hidden, [256, 1, 4]);
  assert.is(value.activation, 'tanh');
  assert.equal(value.features, ['x']);
  assert.is(value.showTest, false);
  const text = problems.join('\n');
  for (const bit of ['learning rate: 50 is out of range', 'noise: -3 is out of range', 'batch size: 2.6 is not a whole number',
    'neurons in layer 1: 300 is out of range', 'activation: "swish"', 'unknown feature "q"', 'unknown setting "foo"', 'show test data']) {
    assert.ok(text.includes(bit), `expected "${bit}" in:\n${text}`);
  }
});

test('too many layers, no features, a dataset of the other problem type', () => {
  const a = parseSettings('#hidden=1,2,3,4,5,6,7,8,9,10', TABS);
  assert.equal(a.value.hidden, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(a.problems[0].includes('more than the 8 allowed'));
  const b = parseSettings('#features=', TABS);
  assert.equal(b.value.features, ['x', 'y']);
  const c = parseSettings('#problem=classification&dataset=reg-plane', TABS);
  assert.is(c.value.problem, 'regression');
  assert.ok(c.problems.some((p) => p.includes('does not fit')));
  const d = parseSettings('#problem=regression', TABS);
  assert.is(d.value.dataset, 'reg-plane');
  assert.equal(parseSettings('#hidden=', TABS).value.hidden, []);
  assert.is(parseSettings('#tab=nope', TABS).value.tab, 'playground');
});

test('the Digits settings: a round trip, and bad values clamped or replaced with a sentence', () => {
  const s: Settings = { ...defaults(), tab: 'digits', digitsFilters: 16, digitsLr: 0.0005, digitsBatch: 64, digitsSeed: 42 };
  const hash = serializeSettings(s);
  assert.ok(hash.includes('digitsFilters=16&digitsLr=0.0005&digitsBatch=64&digitsSeed=42'), hash);
  assert.equal(parseSettings(hash, [...TABS, 'digits']).value, s);
  const { value, problems } = parseSettings('#digitsFilters=99&digitsLr=abc&digitsBatch=0&digitsSeed=1.5', TABS);
  assert.is(value.digitsFilters, 32);
  assert.is(value.digitsLr, defaults().digitsLr);
  assert.is(value.digitsBatch, 1);
  assert.is(value.digitsSeed, 2);
  const text = problems.join('\n');
  for (const bit of ['digits: first-layer filters: 99 is out of range [1, 32]', 'digits: learning rate: "abc" is not a number',
    'digits: batch size: 0 is out of range [1, 256]', 'digits: weight seed: 1.5 is not a whole number']) {
    assert.ok(text.includes(bit), `expected "${bit}" in:\n${text}`);
  }
  assert.equal(checkInput('digitsBatch', '300', 32).value, 256);
});

test('checkInput applies the same ranges to values typed into the page', () => {
  assert.equal(checkInput('lr', '0.1', 0.03), { value: 0.1, problems: [] });
  const c = checkInput('batch', '9999', 16);
  assert.is(c.value, 512);
  assert.ok(c.problems[0].includes('out of range [1, 512]'));
  const d = checkInput('regRate', 'abc', 0.01);
  assert.is(d.value, 0.01);
  assert.ok(d.problems[0].includes('not a number'));
});

test.run();
