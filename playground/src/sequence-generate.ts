// The Sequence tab's look inside the addition transformer (no DOM): greedy
// generation of one answer a token at a time through the model's key/value
// cache, handing each token to the page (and waiting for it to be shown)
// before the next one is made, and the attention weights of every head of
// every block for the sequence the model read.
import { nn, noGrad, scope } from 'lepton';
import { ANSWER_LEN, decodeAnswer, encodePrompt, tokenText } from '../../examples/addition/data.js';
import { READ_LEN } from '../../examples/transformer/model.js';
import { argmaxRows } from './digits-model.js';

/** Token ids 0–9 are the digits (examples/addition/data.ts). */
const DIGIT_TOKENS = 10;

export interface Answer {
  /** The prompt "AAAA+BBBB=" and the five answer tokens, least-significant digit first. */
  prompt: number[];
  answer: number[];
  /** The number the answer spells (its digits reversed), and whether it is a + b. */
  value: number;
  right: boolean;
}

/**
 * Greedy answer to a + b, over the digit tokens. The prompt runs once, then each new digit alone
 * through the cache (lepton's TransformerLM.generate does the same, but
 * gives the page no chance to draw between tokens): `onToken` gets every
 * digit as soon as it is picked and the next one is made only after it
 * resolves. The model is in eval mode meanwhile and gets its own flag back.
 */
export async function answerStepByStep(model: nn.TransformerLM, a: number, b: number,
  onToken: (token: number, index: number) => Promise<void> | void = () => {}): Promise<Answer> {
  const prompt = encodePrompt(a, b), answer: number[] = [], wasTraining = model.training;
  const V = model.vocabSize, cache = model.createCache();
  model.eval();
  try {
    let feed: number[] = prompt;
    for (let i = 0; i < ANSWER_LEN; i++) {
      const ids = feed;
      const logits = noGrad(() => scope(() => model.forward([ids], { cache })));
      let row: Float32Array;
      try {
        const z = await logits.data();
        row = z.subarray(z.length - V);
      } finally {
        logits.dispose();
      }
      // Answer places hold digits only: the most likely of the ten digit tokens (a trained model puts
      // nearly all its weight there anyway; an untrained one may prefer '+' or '=').
      const t = argmaxRows(row.subarray(0, DIGIT_TOKENS), DIGIT_TOKENS)[0];
      answer.push(t);
      await onToken(t, i);
      feed = [t];
    }
  } finally {
    cache.dispose();
    model.train(wasTraining);
  }
  const value = decodeAnswer(answer);
  return { prompt, answer, value, right: value === a + b };
}

/** The positions the model reads for one problem: the prompt and the first four answer digits (the fifth is never fed back). */
export const readTokens = (ans: Answer): number[] => [...ans.prompt, ...ans.answer].slice(0, READ_LEN);

/** The tokens as the characters they stand for (the heatmaps' axis labels). */
export const tokenLabels = (tokens: readonly number[]): string[] => tokens.map(tokenText);

export interface AttentionMaps {
  layers: number;
  heads: number;
  /** Query and key positions (the tokens read). */
  seq: number;
  /** Per layer: [heads, seq, seq] row-major, each query row a distribution over keys 0..query. */
  weights: Float32Array[];
}

/** Every head's attention weights for the tokens read (lepton's TransformerLM.attentionWeights, unfused, read back). */
export async function attentionMaps(model: nn.TransformerLM, tokens: readonly number[]): Promise<AttentionMaps> {
  const ws = model.attentionWeights([tokens]);
  try {
    const weights = await Promise.all(ws.map((w) => w.data()));
    return { layers: ws.length, heads: model.numHeads, seq: tokens.length, weights };
  } finally {
    for (const w of ws) w.dispose();
  }
}
