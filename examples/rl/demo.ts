// npm run demo:rl: PPO learns CartPole-v1 (or Pendulum-v1) in Node, with a
// progress bar of the mean return over the last 100 episodes.
//   npm run demo:rl -- --env pendulum --backend wasm|webgpu --seed 2 --steps 200000
//   npm run demo:rl -- --save cartpole.safetensors   (keep the trained actor-critic)
import { init, describeDevice, saveSafetensors, type DeviceName } from 'lepton';
import { PPO, PRESETS } from './ppo.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const envName = opt('env') ?? 'cartpole';
const env = envName === 'cartpole' ? 'CartPole-v1' : envName === 'pendulum' ? 'Pendulum-v1' : null;
const backend = (opt('backend') ?? 'wasm') as DeviceName | 'auto';
const seed = Number(opt('seed') ?? 1);
const save = opt('save');
const steps = opt('steps') === undefined ? undefined : Number(opt('steps'));
if (!env || !['auto', 'wasm', 'webgpu'].includes(backend) || !Number.isInteger(seed) || (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) || (args.includes('--save') && !save)) {
  console.error('usage: npm run demo:rl -- [--env cartpole|pendulum] [--backend wasm|webgpu|auto] [--seed N] [--steps N] [--save model.safetensors]');
  process.exit(1);
}
// The solved levels: CartPole-v1's reward threshold (475), and −200 for Pendulum.
const target = env === 'CartPole-v1' ? 475 : -200;
const totalSteps = steps ?? PRESETS[env].totalSteps;

const device = await init({ backend });
const ppo = new PPO({ env, seed, totalSteps }, device);
const c = ppo.cfg;
console.log(`lepton demo:rl: PPO on ${env}, ${c.numEnvs} environments × ${c.numSteps} steps per update, ${c.epochs} epochs of minibatches of ${c.minibatchSize}, Adam lr ${c.lr}`);
console.log(`backend: ${device} (${describeDevice()}); goal: mean return ${env === 'CartPole-v1' ? '≥' : '>'} ${target} over the last 100 episodes\n`);

const lo = env === 'CartPole-v1' ? 0 : -1500, hi = env === 'CartPole-v1' ? 500 : 0;
const bar = (v: number, width = 30) => {
  const full = Number.isNaN(v) ? 0 : Math.max(0, Math.min(width, Math.round(((v - lo) / (hi - lo)) * width)));
  return '█'.repeat(full) + '░'.repeat(width - full);
};
const t0 = performance.now();
let solvedAt: { steps: number; seconds: number } | null = null;
let lastLine = 0;
while (ppo.steps < totalSteps) {
  const s = await ppo.update();
  const sec = (performance.now() - t0) / 1000;
  const done = s.episodes >= 100 && (env === 'CartPole-v1' ? s.meanReturn >= target : s.meanReturn > target);
  const line = `mean return ${bar(s.meanReturn)} ${s.meanReturn.toFixed(1).padStart(7)}  steps ${String(s.steps).padStart(7)}  ${(s.steps / sec).toFixed(0)} steps/s  ${sec.toFixed(1)} s`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
  else if (done || sec - lastLine >= 5) { console.log(line); lastLine = sec; }
  if (done) { solvedAt = { steps: s.steps, seconds: sec }; break; }
}
if (process.stdout.isTTY) process.stdout.write('\n');
const sec = (performance.now() - t0) / 1000;
console.log(`\nenvironment steps ${ppo.steps} in ${sec.toFixed(1)} s: ${(ppo.steps / sec).toFixed(0)} steps/s (acting, environments and training together)`);
console.log(`episodes          ${ppo.returns.length}, mean return of the last 100: ${ppo.meanReturn().toFixed(1)}`);
if (save) {
  await saveSafetensors(ppo.agent, save, { metadata: { model: 'examples/rl/agent.ts ActorCritic', env } });
  console.log(`saved             ${save} (safetensors; load with loadSafetensors(model, …) or in PyTorch)`);
}
if (solvedAt) console.log(`solved            after ${solvedAt.steps} steps, ${solvedAt.seconds.toFixed(1)} s`);
else { console.log(`not solved        within ${totalSteps} steps (try another --seed or more --steps)`); process.exitCode = 2; }
