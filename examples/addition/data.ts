// The multi-digit addition task shared by demo:transformer, demo:rnn and the
// playground's Sequence tab, generated in code.
//
// A problem a + b (0 ≤ a, b ≤ 9999) is the prompt "AAAA+BBBB=" with both
// operands zero-padded to four digits, and its answer is the five digits of the
// sum written least-significant first: models add carries in the order they
// arise, which is what makes the task learnable in minutes. One sequence is
// prompt + answer (15 tokens); a model reads tokens 0..13 and is scored on
// predicting tokens 10..14.
//
// About 1 problem in 10 (by a fixed hash of the pair) is held out: training
// batches never contain it, and accuracy is measured only on held-out problems.

export const DIGITS = 4;
export const PLUS = 10;
export const EQUALS = 11;
/** Token ids 0–9 are the digits; then '+' and '='. */
export const VOCAB_SIZE = 12;
export const PROMPT_LEN = 2 * DIGITS + 2;
export const ANSWER_LEN = DIGITS + 1;
export const SEQ_LEN = PROMPT_LEN + ANSWER_LEN;
export const MAX_OPERAND = 10 ** DIGITS - 1;

const TOKEN_TEXT = '0123456789+=';
export const tokenText = (id: number): string => TOKEN_TEXT[id] ?? '?';

/** A small seeded generator (mulberry32) so data is reproducible without the library. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whether the problem a + b is held out of training (about 10%, fixed). */
export function isHeldOut(a: number, b: number): boolean {
  let h = Math.imul(a + 1, 0x9e3779b1) ^ Math.imul(b + 7, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % 10 === 0;
}

function checkOperand(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > MAX_OPERAND) throw new RangeError(`addition: ${name} must be an integer in [0, ${MAX_OPERAND}], got ${v}`);
}

/** The prompt tokens of a + b: "AAAA+BBBB=". */
export function encodePrompt(a: number, b: number): number[] {
  checkOperand('a', a);
  checkOperand('b', b);
  const digits = (v: number) => String(v).padStart(DIGITS, '0').split('').map(Number);
  return [...digits(a), PLUS, ...digits(b), EQUALS];
}

/** The answer tokens of a + b: the sum's five digits, least significant first. */
export function encodeAnswer(a: number, b: number): number[] {
  const s = a + b;
  return Array.from({ length: ANSWER_LEN }, (_, i) => Math.floor(s / 10 ** i) % 10);
}

/** The number that answer tokens (least significant first) spell. */
export function decodeAnswer(tokens: ArrayLike<number>): number {
  let v = 0;
  for (let i = tokens.length - 1; i >= 0; i--) v = v * 10 + tokens[i];
  return v;
}

/**
 * Parses what a person types ("12+345", " 7 + 8 ") into operands, or null when
 * it is not two integers in range joined by '+'.
 */
export function parseProblem(text: string): [number, number] | null {
  const m = /^\s*(\d{1,4})\s*\+\s*(\d{1,4})\s*=?\s*$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * Draws a random problem. Operand lengths are uniform in 1..4 digits, so short
 * problems are as common as long ones.
 */
export function drawProblem(rand: () => number): [number, number] {
  const operand = () => {
    const len = 1 + Math.floor(rand() * DIGITS);
    return Math.floor(rand() * 10 ** len);
  };
  return [operand(), operand()];
}

export interface Batch {
  /** [batch, SEQ_LEN] token ids: prompt then answer. */
  tokens: Int32Array;
  problems: Array<[number, number]>;
}

/** A training batch: problems never held out. */
export function trainBatch(rand: () => number, batchSize: number): Batch {
  const problems: Array<[number, number]> = [];
  while (problems.length < batchSize) {
    const [a, b] = drawProblem(rand);
    if (!isHeldOut(a, b)) problems.push([a, b]);
  }
  return { tokens: packSequences(problems), problems };
}

/** `count` distinct held-out problems, drawn with their own seed. */
export function heldOutProblems(count: number, seed = 12345): Array<[number, number]> {
  const rand = rng(seed);
  const seen = new Set<number>();
  const out: Array<[number, number]> = [];
  while (out.length < count) {
    const [a, b] = drawProblem(rand);
    const key = a * (MAX_OPERAND + 1) + b;
    if (isHeldOut(a, b) && !seen.has(key)) {
      seen.add(key);
      out.push([a, b]);
    }
  }
  return out;
}

/** Full sequences (prompt + answer) of problems, row-major [n, SEQ_LEN]. */
export function packSequences(problems: ReadonlyArray<[number, number]>): Int32Array {
  const out = new Int32Array(problems.length * SEQ_LEN);
  problems.forEach(([a, b], i) => out.set([...encodePrompt(a, b), ...encodeAnswer(a, b)], i * SEQ_LEN));
  return out;
}
