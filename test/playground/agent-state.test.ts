// The Agent tab's settings in the URL: round trips, an environment's own
// defaults, and out-of-range or malformed values corrected with a sentence.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkInput, defaults, parseSettings, serializeSettings, type Settings } from '../../playground/src/state.js';

const TABS = ['playground', 'race', 'bench', 'digits', 'agent'];

test('the defaults train CartPole (16 environments × 64 steps, Adam 0.003, seed 1) and survive a round trip', () => {
  const d = defaults();
  assert.equal([d.agentEnv, d.agentEnvs, d.agentSteps, d.agentLr, d.agentSeed], ['cartpole', 16, 64, 0.003, 1]);
  const hash = serializeSettings(d);
  for (const bit of ['agentEnv=cartpole', 'agentEnvs=16', 'agentSteps=64', 'agentLr=0.003', 'agentSeed=1']) assert.ok(hash.includes(bit), `${bit} in ${hash}`);
  const { value, problems } = parseSettings(`#${hash}`, TABS);
  assert.equal(value, d);
  assert.equal(problems, []);
});

test('every Agent setting survives a round trip', () => {
  const s: Settings = { ...defaults(), tab: 'agent', backend: 'wasm', agentEnv: 'pendulum', agentEnvs: 3, agentSteps: 100, agentLr: 0.0001, agentSeed: 2 ** 31 - 1 };
  const { value, problems } = parseSettings(serializeSettings(s), TABS);
  assert.equal(value, s);
  assert.equal(problems, []);
});

test('a link that names only Pendulum gets Pendulum’s settings (8 × 256 steps, Adam 0.001); named values win', () => {
  let { value, problems } = parseSettings('#tab=agent&agentEnv=pendulum', TABS);
  assert.equal([value.agentEnv, value.agentEnvs, value.agentSteps, value.agentLr], ['pendulum', 8, 256, 0.001]);
  assert.equal(problems, []);
  ({ value, problems } = parseSettings('#agentEnv=pendulum&agentSteps=32', TABS));
  assert.equal([value.agentEnvs, value.agentSteps], [8, 32]);
  assert.equal(problems, []);
});

test('out-of-range and malformed Agent values are corrected, each with a sentence', () => {
  const { value, problems } = parseSettings('#agentEnv=mountaincar&agentEnvs=0&agentSteps=5000&agentLr=abc&agentSeed=1.5', TABS);
  assert.is(value.agentEnv, 'cartpole');
  assert.is(value.agentEnvs, 1);
  assert.is(value.agentSteps, 1024);
  assert.is(value.agentLr, 0.003, 'a learning rate that is not a number falls back to the environment’s');
  assert.is(value.agentSeed, 2);
  const text = problems.join('\n');
  for (const bit of ['agent: environment: "mountaincar" is not one of cartpole, pendulum', 'agent: environments: 0 is out of range [1, 64]; using 1',
    'agent: steps per environment per update: 5000 is out of range [8, 1024]; using 1024', 'agent: learning rate: "abc" is not a number',
    'agent: seed: 1.5 is not a whole number; using 2']) {
    assert.ok(text.includes(bit), `expected "${bit}" in:\n${text}`);
  }
  // Pendulum's fallback rate is its own.
  assert.is(parseSettings('#agentEnv=pendulum&agentLr=x', TABS).value.agentLr, 0.001);
});

test('values typed into the Agent tab go through the same checks', () => {
  assert.equal(checkInput('agentLr', '0.5', 0.003), { value: 0.1, problems: ['agent: learning rate: 0.5 is out of range [1.00e-5, 0.1]; using 0.1'] });
  assert.equal(checkInput('agentEnvs', '7', 16), { value: 7, problems: [] });
  assert.is(checkInput('agentSteps', '', 64).value, 64);
});

test.run();
