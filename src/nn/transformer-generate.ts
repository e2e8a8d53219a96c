// TransformerLM.generate: autoregressive decoding with a key/value cache.
// The prompt runs once (filling every block's cache); each later step feeds
// only the newest token, whose keys and values are appended, so the prefix is
// never recomputed. Logits of the last position come back to the host (one
// row of vocabSize per sequence) where the token is picked: argmax for
// temperature 0, else a draw from softmax(logits / temperature), optionally
// over the top-k logits only, from a seedable Generator.
import { noGrad } from '../autograd.js';
import { fail } from '../errors.js';
import { accepts, either, finite, instanceOf, integer, number, options, type OptionSpec } from '../options.js';
import { Generator, generatorFor } from '../random.js';
import { checkIds, type TransformerLM } from './transformer-lm.js';

const OP = 'nn.TransformerLM.generate';

export interface GenerateOptions {
  /** New tokens to make per sequence (at most; fewer where stopToken comes first). Required. */
  maxNewTokens: number;
  /** 0: greedy (the most likely token; the first on ties). Above 0: sample from softmax(logits / temperature). Default 1. */
  temperature?: number;
  /** Sample among the k most likely tokens only (those tied with the k-th stay in). Default: all. */
  topK?: number | null;
  /** Draws the samples (reproducible with a seeded Generator). Default: the global generator (manualSeed). */
  generator?: Generator;
  /** Draws the samples from a fresh Generator(seed) instead. */
  seed?: number;
  /** A sequence ends after making this token (it is included). Default: none. */
  stopToken?: number | null;
  /** Called after each step with the token picked for every sequence (-1 for one already stopped). */
  onToken?: ((tokens: number[], step: number) => void) | null;
}

const nullable = <T>(a: { what: string; test(v: unknown): v is T }) => either(a, accepts<null>('null', (v) => v === null));
const SPEC: OptionSpec<GenerateOptions> = {
  maxNewTokens: integer(0), temperature: number(0, Infinity, '[)'), topK: nullable(integer(1)), generator: instanceOf(Generator, 'Generator'), seed: finite,
  stopToken: nullable(integer(0)), onToken: nullable(accepts<(t: number[], s: number) => void>('a function', (v) => typeof v === 'function')),
};
const ALIASES = { max_new_tokens: 'maxNewTokens', top_k: 'topK', eos_token_id: 'stopToken' };

/** The index of the largest value (the first of ties); NaN never wins. */
export function argmaxRow(z: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < z.length; i++) if (z[i] > z[best] || Number.isNaN(z[best])) best = i;
  return best;
}

/** A draw from softmax(z / temperature) over the topK largest entries (all when topK is null), in float64. */
export function sampleRow(z: ArrayLike<number>, temperature: number, topK: number | null, g: Generator): number {
  const n = z.length;
  let floor = -Infinity;
  if (topK !== null && topK < n) floor = Float64Array.from(z).sort()[n - topK];
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (z[i] >= floor && z[i] > m) m = z[i];
  const p = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) if (z[i] >= floor) total += p[i] = Math.exp((z[i] - m) / temperature);
  let u = g.next() * total;
  for (let i = 0; i < n; i++) {
    if (p[i] === 0) continue;
    u -= p[i];
    if (u < 0) return i;
  }
  // Rounding left u a hair above zero: the last token that had any probability.
  for (let i = n - 1; i >= 0; i--) if (p[i] > 0) return i;
  return argmaxRow(z);
}

export async function generate(model: TransformerLM, prompt: ArrayLike<number> | ReadonlyArray<ArrayLike<number>>, options_: GenerateOptions): Promise<number[] | number[][]> {
  if (options_ === undefined || options_ === null) fail(OP, `needs options with 'maxNewTokens', e.g. generate(prompt, { maxNewTokens: 20 })`);
  const o = options(OP, options_, SPEC, ALIASES);
  if (o.maxNewTokens === undefined) fail(OP, `option 'maxNewTokens' is required (the number of tokens to make)`);
  const V = model.vocabSize;
  if (o.stopToken != null && o.stopToken >= V) fail(OP, `option 'stopToken' is ${o.stopToken}; needs an integer in [0, ${V - 1}] (vocabSize ${V})`);
  const single = prompt !== null && typeof prompt === 'object' && prompt.length > 0 && typeof prompt[0] === 'number';
  const rows = (single ? [prompt] : prompt) as ReadonlyArray<ArrayLike<number>>;
  const P = rows?.[0]?.length ?? 0;
  if (!Array.isArray(rows) || rows.length === 0 || P === 0) {
    fail(OP, `argument 'prompt' must be a non-empty array of token ids, or an array of such rows (a batch), got ${Array.isArray(prompt) ? `an empty or invalid array` : typeof prompt}`);
  }
  // The last new token is never fed back, so the model reads P + maxNewTokens − 1 positions.
  const reads = P + Math.max(o.maxNewTokens, 1) - 1;
  if (reads > model.maxSeqLen) {
    fail(OP, `a prompt of ${P} tokens + maxNewTokens ${o.maxNewTokens} needs ${reads} positions; the model has maxSeqLen ${model.maxSeqLen}`);
  }
  const temperature = o.temperature ?? 1, topK = o.topK ?? null, stop = o.stopToken ?? null;
  if (o.seed !== undefined && o.generator) fail(OP, `give 'seed' or 'generator', not both`);
  const g = o.generator ?? generatorFor(o.seed);
  // Checked here (ids, raggedness) so a bad prompt fails before any kernel runs, even with maxNewTokens 0.
  checkIds(OP, rows, V);
  const out: number[][] = rows.map((r) => Array.from(r as ArrayLike<number>));
  if (o.maxNewTokens === 0) return single ? out[0] : out;
  const done = new Array<boolean>(out.length).fill(false);
  const cache = model.createCache();
  try {
    let logits = model.inEval(() => noGrad(() => model.lastLogits(out, cache)));
    for (let step = 0; step < o.maxNewTokens; step++) {
      const z = await logits.data();
      logits.dispose();
      const picked = out.map((row, b) => {
        if (done[b]) return -1;
        const zb = z.subarray(b * V, (b + 1) * V);
        const t = temperature === 0 ? argmaxRow(zb) : sampleRow(zb, temperature, topK, g);
        row.push(t);
        if (t === stop) done[b] = true;
        return t;
      });
      o.onToken?.(picked, step);
      if (step === o.maxNewTokens - 1 || done.every(Boolean)) break;
      // Rows already stopped still run (the batch stays rectangular); their tokens are dropped.
      logits = model.inEval(() => noGrad(() => model.lastLogits(picked.map((t) => [Math.max(t, 0)]), cache)));
    }
  } finally {
    cache.dispose();
  }
  return single ? out[0] : out;
}
