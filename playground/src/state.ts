// Settings and their home in the URL. Every setting has a range; values from
// the URL or from inputs are checked here, clamped where a nearest valid
// value exists, and each correction is reported as a readable sentence.
import { DATASETS, problemOf, type DatasetId, type Problem } from './data.js';
import { FEATURE_IDS, type FeatureId } from './features.js';

export type ActivationName = 'relu' | 'tanh' | 'sigmoid' | 'gelu' | 'linear';
export type OptimizerName = 'sgd' | 'momentum' | 'adam';
export type RegName = 'none' | 'l1' | 'l2';
/** 'auto': WebGPU on a hardware adapter, else WASM with threads where the page may use them, else WASM. */
export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'wasm-threads';
export type RaceBackend = Exclude<BackendChoice, 'auto'>;
/** The Agent tab's environments (Gymnasium's CartPole-v1 and Pendulum-v1). */
export type AgentEnvName = 'cartpole' | 'pendulum';

export interface Settings {
  tab: string;
  problem: Problem;
  dataset: DatasetId;
  /** Percent, 0–50. */
  noise: number;
  /** Percent of the points used for training, 10–90. */
  trainPct: number;
  batch: number;
  dataSeed: number;
  initSeed: number;
  features: FeatureId[];
  /** Neurons per hidden layer; 0–8 layers of 1–256. */
  hidden: number[];
  activation: ActivationName;
  lr: number;
  optimizer: OptimizerName;
  reg: RegName;
  regRate: number;
  backend: BackendChoice;
  showTest: boolean;
  discretize: boolean;
  raceA: RaceBackend;
  raceB: RaceBackend;
  /** Digits tab: first-layer filters of the CNN (the second layer has twice as many). */
  digitsFilters: number;
  /** Digits tab: Adam's learning rate, the batch size, the seed of the initial weights and the batch order. */
  digitsLr: number;
  digitsBatch: number;
  digitsSeed: number;
  /** Sequence tab: the addition transformer's width, blocks and heads (heads divide the width). */
  seqWidth: number;
  seqLayers: number;
  seqHeads: number;
  /** Sequence tab: AdamW's peak learning rate, the batch size, the seed of the initial weights and the batches. */
  seqLr: number;
  seqBatch: number;
  seqSeed: number;
  /** Agent tab: the environment, PPO's environments stepped together, steps per environment per update, Adam's learning rate, the seed. */
  agentEnv: AgentEnvName;
  agentEnvs: number;
  agentSteps: number;
  agentLr: number;
  agentSeed: number;
}

export const LIMITS = {
  noise: [0, 50], trainPct: [10, 90], batch: [1, 512], seed: [0, 2 ** 31 - 1],
  layers: [0, 8], neurons: [1, 256], lr: [1e-5, 10], regRate: [0, 1],
  digitsFilters: [1, 32], digitsLr: [1e-5, 1], digitsBatch: [1, 256],
  seqWidth: [4, 256], seqLayers: [1, 4], seqHeads: [1, 8], seqLr: [1e-5, 0.1], seqBatch: [1, 512],
  agentEnvs: [1, 64], agentSteps: [8, 1024], agentLr: [1e-5, 0.1],
} as const;

export const AGENT_ENVS: readonly AgentEnvName[] = ['cartpole', 'pendulum'];

/**
 * The Agent tab's settings per environment (the page applies them when the
 * environment is switched). CartPole: 16 × 64 steps, Adam 0.003 (CleanRL's
 * quick shape; solved in about 80,000 steps, ~10 s on one WASM thread).
 * Pendulum: the demo's preset (examples/rl/ppo.ts).
 */
export const AGENT_DEFAULTS: Record<AgentEnvName, { agentEnvs: number; agentSteps: number; agentLr: number }> = {
  cartpole: { agentEnvs: 16, agentSteps: 64, agentLr: 0.003 },
  pendulum: { agentEnvs: 8, agentSteps: 256, agentLr: 0.001 },
};

export const ACTIVATIONS: readonly ActivationName[] = ['relu', 'tanh', 'sigmoid', 'gelu', 'linear'];
export const OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'momentum', 'adam'];
export const REGS: readonly RegName[] = ['none', 'l1', 'l2'];
export const BACKENDS: readonly BackendChoice[] = ['auto', 'webgpu', 'wasm', 'wasm-threads'];
export const RACE_BACKENDS: readonly RaceBackend[] = ['webgpu', 'wasm', 'wasm-threads'];

/**
 * The first page a newcomer sees: a spiral and a net that learns it to
 * near-zero test loss in about a thousand steps on either backend.
 */
export const DEFAULTS: Readonly<Settings> = Object.freeze({
  tab: 'playground',
  problem: 'classification',
  dataset: 'spiral',
  noise: 0,
  trainPct: 50,
  batch: 16,
  dataSeed: 1,
  initSeed: 1,
  features: ['x', 'y', 'sinx', 'siny'],
  hidden: [12, 12, 12, 12],
  activation: 'tanh',
  lr: 0.01,
  optimizer: 'adam',
  // A touch of L2 keeps the test loss near zero when training runs on for
  // minutes (without it the logits keep growing and the test loss creeps up).
  reg: 'l2',
  regRate: 0.0003,
  backend: 'auto',
  showTest: false,
  discretize: false,
  raceA: 'webgpu',
  raceB: 'wasm',
  // 8 and 16 filters, Adam 0.002, batch 32: about 92% held-out accuracy after
  // 80 steps and 94% after 150 (a few seconds on one WASM thread).
  digitsFilters: 8,
  digitsLr: 0.002,
  digitsBatch: 32,
  digitsSeed: 1,
  // The transformer demo's model (2 blocks, 4 heads, width 64) and optimizer:
  // about 75% exact held-out answers after 300 steps (~30 s on one WASM thread).
  seqWidth: 64,
  seqLayers: 2,
  seqHeads: 4,
  seqLr: 0.003,
  seqBatch: 64,
  seqSeed: 1,
  agentEnv: 'cartpole',
  ...AGENT_DEFAULTS.cartpole,
  agentSeed: 1,
}) as Readonly<Settings>;

export function defaults(): Settings {
  return { ...DEFAULTS, features: [...DEFAULTS.features], hidden: [...DEFAULTS.hidden] };
}

/** A checked value, and a sentence for each correction made. */
export interface Checked<T> { value: T; problems: string[] }

const fmt = (v: number) => (Math.abs(v) >= 1e-3 || v === 0 ? String(+v.toPrecision(6)) : v.toExponential(2));

function checkNumber(name: string, raw: unknown, lo: number, hi: number, integer: boolean, fallback: number): Checked<number> {
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(v)) return { value: fallback, problems: [`${name}: ${JSON.stringify(raw)} is not a number; using ${fmt(fallback)}`] };
  let value = integer ? Math.round(v) : v;
  const problems: string[] = [];
  if (integer && value !== v) problems.push(`${name}: ${fmt(v)} is not a whole number; using ${value}`);
  if (value < lo || value > hi) {
    const c = Math.min(hi, Math.max(lo, value));
    problems.push(`${name}: ${fmt(value)} is out of range [${fmt(lo)}, ${fmt(hi)}]; using ${fmt(c)}`);
    value = c;
  }
  return { value, problems };
}

function checkEnum<T extends string>(name: string, raw: unknown, allowed: readonly T[], fallback: T): Checked<T> {
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return { value: raw as T, problems: [] };
  return { value: fallback, problems: [`${name}: ${JSON.stringify(raw)} is not one of ${allowed.join(', ')}; using ${fallback}`] };
}

function checkBool(name: string, raw: unknown, fallback: boolean): Checked<boolean> {
  if (raw === true || raw === '1' || raw === 'true') return { value: true, problems: [] };
  if (raw === false || raw === '0' || raw === 'false') return { value: false, problems: [] };
  return { value: fallback, problems: [`${name}: ${JSON.stringify(raw)} is not 0 or 1; using ${fallback ? 1 : 0}`] };
}

/** Hidden layer sizes from "12,12,8" (or "" for none). */
export function checkHidden(raw: unknown): Checked<number[]> {
  const problems: string[] = [];
  const parts = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? (raw.trim() === '' ? [] : raw.split(',')) : null;
  if (parts === null) return { value: [...DEFAULTS.hidden], problems: ['hidden layers: not a list; using the default'] };
  let sizes = parts.map((p, i) => {
    const c = checkNumber(`neurons in layer ${i + 1}`, p, LIMITS.neurons[0], LIMITS.neurons[1], true, 4);
    problems.push(...c.problems);
    return c.value;
  });
  if (sizes.length > LIMITS.layers[1]) {
    problems.push(`hidden layers: ${sizes.length} is more than the ${LIMITS.layers[1]} allowed; keeping the first ${LIMITS.layers[1]}`);
    sizes = sizes.slice(0, LIMITS.layers[1]);
  }
  return { value: sizes, problems };
}

export function checkFeatures(raw: unknown): Checked<FeatureId[]> {
  const parts = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(',').filter((s) => s !== '') : [];
  const problems: string[] = [];
  const value: FeatureId[] = [];
  for (const p of parts) {
    if (!(FEATURE_IDS as readonly string[]).includes(p)) problems.push(`features: unknown feature ${JSON.stringify(p)} ignored (known: ${FEATURE_IDS.join(', ')})`);
    else if (!value.includes(p as FeatureId)) value.push(p as FeatureId);
  }
  if (value.length === 0) {
    problems.push('features: at least one input feature is needed; using x and y');
    return { value: ['x', 'y'], problems };
  }
  // Canonical order, so the same set always gives the same network.
  return { value: FEATURE_IDS.filter((f) => value.includes(f)), problems };
}

const DATASET_IDS = DATASETS.map((d) => d.id);

/** The Sequence tab's URL keys (the same names as its settings). */
export const SEQ_KEYS = ['seqWidth', 'seqLayers', 'seqHeads', 'seqLr', 'seqBatch', 'seqSeed'] as const;

/** The URL keys, in the order they are written. */
const KEYS = ['tab', 'problem', 'dataset', 'noise', 'train', 'batch', 'seed', 'init', 'features', 'hidden', 'act', 'lr',
  'opt', 'reg', 'regRate', 'backend', 'showTest', 'discretize', 'raceA', 'raceB',
  'digitsFilters', 'digitsLr', 'digitsBatch', 'digitsSeed', ...SEQ_KEYS, 'agentEnv', 'agentEnvs', 'agentSteps', 'agentLr', 'agentSeed'] as const;

/**
 * Settings from a URL hash or query string ("#dataset=xor&lr=0.01" or
 * "dataset=xor&..."). Missing keys take defaults; bad values are corrected
 * and reported. `tabs` lists the valid tab ids.
 */
export function parseSettings(hash: string, tabs: readonly string[] = ['playground']): Checked<Settings> {
  const q = new URLSearchParams(hash.replace(/^[#?]/, ''));
  const s = defaults();
  const problems: string[] = [];
  const take = <T>(c: Checked<T>): T => { problems.push(...c.problems); return c.value; };
  const has = (k: string) => q.has(k);
  const get = (k: string) => q.get(k);

  for (const k of q.keys()) if (!(KEYS as readonly string[]).includes(k)) problems.push(`unknown setting ${JSON.stringify(k)} in the URL ignored`);
  if (has('tab')) s.tab = take(checkEnum('tab', get('tab'), tabs, DEFAULTS.tab));
  if (has('problem')) s.problem = take(checkEnum('problem type', get('problem'), ['classification', 'regression'] as const, DEFAULTS.problem));
  if (has('dataset')) s.dataset = take(checkEnum('dataset', get('dataset'), DATASET_IDS, DEFAULTS.dataset));
  if (problemOf(s.dataset) !== s.problem) {
    // The dataset decides the problem type when both are given and disagree.
    if (has('problem') && has('dataset')) problems.push(`problem type: ${s.problem} does not fit the ${s.dataset} dataset; using ${problemOf(s.dataset)}`);
    if (has('dataset')) s.problem = problemOf(s.dataset);
    else s.dataset = s.problem === 'regression' ? 'reg-plane' : DEFAULTS.dataset;
  }
  if (has('noise')) s.noise = take(checkNumeric('noise', get('noise'), DEFAULTS.noise));
  if (has('train')) s.trainPct = take(checkNumeric('train', get('train'), DEFAULTS.trainPct));
  if (has('batch')) s.batch = take(checkNumeric('batch', get('batch'), DEFAULTS.batch));
  if (has('seed')) s.dataSeed = take(checkNumeric('seed', get('seed'), DEFAULTS.dataSeed));
  if (has('init')) s.initSeed = take(checkNumeric('init', get('init'), DEFAULTS.initSeed));
  if (has('features')) s.features = take(checkFeatures(get('features')));
  if (has('hidden')) s.hidden = take(checkHidden(get('hidden')));
  if (has('act')) s.activation = take(checkEnum('activation', get('act'), ACTIVATIONS, DEFAULTS.activation));
  if (has('lr')) s.lr = take(checkNumeric('lr', get('lr'), DEFAULTS.lr));
  if (has('opt')) s.optimizer = take(checkEnum('optimizer', get('opt'), OPTIMIZERS, DEFAULTS.optimizer));
  if (has('reg')) s.reg = take(checkEnum('regularisation', get('reg'), REGS, DEFAULTS.reg));
  if (has('regRate')) s.regRate = take(checkNumeric('regRate', get('regRate'), DEFAULTS.regRate));
  if (has('backend')) s.backend = take(checkEnum('backend', get('backend'), BACKENDS, DEFAULTS.backend));
  if (has('showTest')) s.showTest = take(checkBool('show test data', get('showTest'), DEFAULTS.showTest));
  if (has('discretize')) s.discretize = take(checkBool('discretise output', get('discretize'), DEFAULTS.discretize));
  if (has('raceA')) s.raceA = take(checkEnum('race backend A', get('raceA'), RACE_BACKENDS, DEFAULTS.raceA));
  if (has('raceB')) s.raceB = take(checkEnum('race backend B', get('raceB'), RACE_BACKENDS, DEFAULTS.raceB));
  for (const k of ['digitsFilters', 'digitsLr', 'digitsBatch', 'digitsSeed'] as const) if (has(k)) s[k] = take(checkNumeric(k, get(k), DEFAULTS[k]));
  for (const k of SEQ_KEYS) if (has(k)) s[k] = take(checkNumeric(k, get(k), DEFAULTS[k]));
  s.seqWidth = take(checkSeqWidth(s.seqWidth, s.seqHeads));
  if (has('agentEnv')) s.agentEnv = take(checkEnum('agent: environment', get('agentEnv'), AGENT_ENVS, DEFAULTS.agentEnv));
  // A link that names only the environment gets that environment's settings.
  if (s.agentEnv !== DEFAULTS.agentEnv) Object.assign(s, AGENT_DEFAULTS[s.agentEnv]);
  for (const k of ['agentEnvs', 'agentSteps', 'agentLr', 'agentSeed'] as const) if (has(k)) s[k] = take(checkNumeric(k, get(k), s[k]));
  return { value: s, problems };
}

/** The URL hash (without '#') that `parseSettings` turns back into `s`. */
export function serializeSettings(s: Settings): string {
  const q = new URLSearchParams();
  q.set('tab', s.tab);
  q.set('problem', s.problem);
  q.set('dataset', s.dataset);
  q.set('noise', String(s.noise));
  q.set('train', String(s.trainPct));
  q.set('batch', String(s.batch));
  q.set('seed', String(s.dataSeed));
  q.set('init', String(s.initSeed));
  q.set('features', s.features.join(','));
  q.set('hidden', s.hidden.join(','));
  q.set('act', s.activation);
  q.set('lr', String(s.lr));
  q.set('opt', s.optimizer);
  q.set('reg', s.reg);
  q.set('regRate', String(s.regRate));
  q.set('backend', s.backend);
  q.set('showTest', s.showTest ? '1' : '0');
  q.set('discretize', s.discretize ? '1' : '0');
  q.set('raceA', s.raceA);
  q.set('raceB', s.raceB);
  q.set('digitsFilters', String(s.digitsFilters));
  q.set('digitsLr', String(s.digitsLr));
  q.set('digitsBatch', String(s.digitsBatch));
  q.set('digitsSeed', String(s.digitsSeed));
  for (const k of SEQ_KEYS) q.set(k, String(s[k]));
  q.set('agentEnv', s.agentEnv);
  q.set('agentEnvs', String(s.agentEnvs));
  q.set('agentSteps', String(s.agentSteps));
  q.set('agentLr', String(s.agentLr));
  q.set('agentSeed', String(s.agentSeed));
  // Commas read better than %2C and URLSearchParams parses them back either way.
  return q.toString().replace(/%2C/g, ',');
}

/** The numeric settings by URL key: the name used in messages, the limits, whether whole. */
const NUMERIC = {
  noise: { label: 'noise', limits: LIMITS.noise, integer: true },
  train: { label: 'training share', limits: LIMITS.trainPct, integer: true },
  batch: { label: 'batch size', limits: LIMITS.batch, integer: true },
  seed: { label: 'data seed', limits: LIMITS.seed, integer: true },
  init: { label: 'weight seed', limits: LIMITS.seed, integer: true },
  lr: { label: 'learning rate', limits: LIMITS.lr, integer: false },
  regRate: { label: 'regularisation rate', limits: LIMITS.regRate, integer: false },
  digitsFilters: { label: 'digits: first-layer filters', limits: LIMITS.digitsFilters, integer: true },
  digitsLr: { label: 'digits: learning rate', limits: LIMITS.digitsLr, integer: false },
  digitsBatch: { label: 'digits: batch size', limits: LIMITS.digitsBatch, integer: true },
  digitsSeed: { label: 'digits: weight seed', limits: LIMITS.seed, integer: true },
  seqWidth: { label: 'sequence: model width', limits: LIMITS.seqWidth, integer: true },
  seqLayers: { label: 'sequence: blocks', limits: LIMITS.seqLayers, integer: true },
  seqHeads: { label: 'sequence: attention heads', limits: LIMITS.seqHeads, integer: true },
  seqLr: { label: 'sequence: learning rate', limits: LIMITS.seqLr, integer: false },
  seqBatch: { label: 'sequence: batch size', limits: LIMITS.seqBatch, integer: true },
  seqSeed: { label: 'sequence: weight seed', limits: LIMITS.seed, integer: true },
  agentEnvs: { label: 'agent: environments', limits: LIMITS.agentEnvs, integer: true },
  agentSteps: { label: 'agent: steps per environment per update', limits: LIMITS.agentSteps, integer: true },
  agentLr: { label: 'agent: learning rate', limits: LIMITS.agentLr, integer: false },
  agentSeed: { label: 'agent: seed', limits: LIMITS.seed, integer: true },
} as const;

/** The heads split the width evenly (headDim = width / heads): otherwise the nearest multiple of the heads in range. */
export function checkSeqWidth(width: number, heads: number): Checked<number> {
  if (width % heads === 0) return { value: width, problems: [] };
  const hi = Math.floor(LIMITS.seqWidth[1] / heads) * heads;
  const value = Math.min(hi, Math.max(heads * Math.ceil(LIMITS.seqWidth[0] / heads), heads * Math.round(width / heads)));
  return { value, problems: [`sequence: model width ${width} is not a multiple of the ${heads} heads; using ${value}`] };
}

function checkNumeric(key: keyof typeof NUMERIC, raw: unknown, fallback: number): Checked<number> {
  const n = NUMERIC[key];
  return checkNumber(n.label, raw, n.limits[0], n.limits[1], n.integer, fallback);
}

/** Checks one setting typed into the page, by its URL key; the same rules as the URL. */
export function checkInput(key: 'noise' | 'train' | 'batch' | 'lr' | 'regRate' | 'digitsLr' | 'digitsBatch' | 'seqLr' | 'seqBatch' | 'agentEnvs' | 'agentSteps' | 'agentLr' | 'agentSeed', raw: unknown, current: number): Checked<number> {
  return checkNumeric(key, raw, current);
}

/** Hidden neurons get thumbnails (their activations read back) only in nets this small. */
export const showsThumbnails = (hidden: readonly number[]) =>
  hidden.length > 0 && Math.max(...hidden) <= 16 && hidden.reduce((a, b) => a + b, 0) <= 96;
