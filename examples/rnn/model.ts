// The LSTM of `npm run demo:rnn`, its training step and greedy decoding on
// the addition task of examples/addition/data.ts. Tokens go in one-hot (the
// LSTM's input weights are then the embedding), time-major [seq, batch, 12].
import { Generator, nn, noGrad, scope, tensor, argmax, narrow, reshape, type DeviceName, type Tensor } from 'lepton';
import { ANSWER_LEN, PROMPT_LEN, SEQ_LEN, VOCAB_SIZE, decodeAnswer, packSequences } from '../addition/data.js';

export interface AdditionLSTMOptions { hidden?: number; layers?: number; seed?: number; device?: DeviceName }

/** An LSTM over one-hot tokens and a linear head to next-token logits. */
export class AdditionLSTM extends nn.Module {
  readonly lstm: nn.LSTM;
  readonly head: nn.Linear;

  constructor(opts: AdditionLSTMOptions = {}) {
    super();
    const hidden = opts.hidden ?? 256, seed = opts.seed ?? 1;
    this.lstm = this.registerModule('lstm', new nn.LSTM(VOCAB_SIZE, hidden, { numLayers: opts.layers ?? 1, seed, device: opts.device }));
    this.head = this.registerModule('head', new nn.Linear(hidden, VOCAB_SIZE, { seed: seed + 1, device: opts.device }));
    // Forget gates start open (bias 1, Jozefowicz et al. 2015): the prompt's digits must survive until the answer.
    // (Fresh U(±1/√hidden) values from the seed, the forget quarter set to 1: a read of the old ones would be async on WebGPU.)
    const g = new Generator(seed + 2), k = 1 / Math.sqrt(hidden);
    for (const [name, p] of this.lstm.namedParameters()) {
      if (!name.startsWith('bias_hh')) continue;
      const v = Float32Array.from({ length: p.size }, () => (2 * g.next() - 1) * k).fill(1, hidden, 2 * hidden);
      this.lstm.loadStateDict({ [name]: v }, { strict: false });
    }
  }

  /** x: one-hot [T, B, 12]; returns the LSTM's outputs [T, B, hidden] and its state after the last step. */
  forward(x: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    return this.lstm.forward(x, hx);
  }

  /**
   * The network exportOnnx writes: one-hot [seq, batch, 12] → next-token
   * logits [seq, batch, 12] at every step (zero initial state). In an ONNX
   * graph a Sequential passes the LSTM's sequence output on to the head; in
   * lepton only this export uses it (Sequential.forward refuses tuples). It
   * shares the parameters: do not dispose it.
   */
  exportable(): nn.Sequential {
    return new nn.Sequential(this.lstm, this.head);
  }
}

/** One-hot time-major [T, B, 12] of tokens[b][t] for t in [from, from + T) (rows of `stride` tokens). */
export function oneHot(tokens: ArrayLike<number>, B: number, stride: number, from: number, T: number, device?: DeviceName): Tensor {
  const v = new Float32Array(T * B * VOCAB_SIZE);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) v[(t * B + b) * VOCAB_SIZE + tokens[b * stride + from + t]] = 1;
  return tensor(v, [T, B, VOCAB_SIZE], { device });
}

/**
 * Teacher forcing: the LSTM reads tokens 0..13 and is scored (mean
 * cross-entropy) on predicting the answer, tokens 10..14, from its outputs at
 * positions 9..13. Returns the loss, a [] tensor.
 */
export function answerLoss(model: AdditionLSTM, problems: ReadonlyArray<[number, number]>): Tensor {
  const B = problems.length, seqs = packSequences(problems);
  const labels = new Int32Array(ANSWER_LEN * B);
  for (let t = 0; t < ANSWER_LEN; t++) for (let b = 0; b < B; b++) labels[t * B + b] = seqs[b * SEQ_LEN + PROMPT_LEN + t];
  return scope(() => {
    const [out] = model.forward(oneHot(seqs, B, SEQ_LEN, 0, SEQ_LEN - 1, model.device ?? undefined));
    const answerOut = reshape(narrow(out, 0, PROMPT_LEN - 1, ANSWER_LEN), [ANSWER_LEN * B, out.shape[2]]);
    return nn.crossEntropy(model.head.forward(answerOut), labels);
  });
}

/** One training step (gradients clipped to norm 1); returns the loss, not yet read. */
export function trainStep(model: AdditionLSTM, opt: { zeroGrad(): void; step(): void }, problems: ReadonlyArray<[number, number]>): Tensor {
  return scope(() => {
    const loss = answerLoss(model, problems);
    opt.zeroGrad();
    loss.backward();
    nn.utils.clipGradNorm(model.parameters(), 1);
    opt.step();
    return loss;
  });
}

/**
 * Greedy decoding: the LSTM reads the prompt, then each predicted digit is fed
 * back as the next input. Returns the decoded sums.
 */
export async function solve(model: AdditionLSTM, problems: ReadonlyArray<[number, number]>): Promise<number[]> {
  const B = problems.length, seqs = packSequences(problems), digits = new Int32Array(B * ANSWER_LEN);
  const wasTraining = model.training;
  model.eval();
  let state: [Tensor, Tensor] | null = null;
  let input = oneHot(seqs, B, SEQ_LEN, 0, PROMPT_LEN, model.device ?? undefined);
  for (let i = 0; i < ANSWER_LEN; i++) {
    const prev: [Tensor, Tensor] | null = state;
    const [ids, next] = noGrad(() => scope(() => {
      const [out, st] = model.forward(input, prev);
      const last = reshape(narrow(out, 0, out.shape[0] - 1, 1), [B, out.shape[2]]);
      return [argmax(model.head.forward(last), 1), st] as const;
    }));
    const pred = await ids.data();
    ids.dispose();
    input.dispose();
    if (prev) { prev[0].dispose(); prev[1].dispose(); }
    state = [next[0], next[1]];
    for (let b = 0; b < B; b++) digits[b * ANSWER_LEN + i] = pred[b];
    input = oneHot(pred, B, 1, 0, 1, model.device ?? undefined);
  }
  input.dispose();
  state![0].dispose();
  state![1].dispose();
  model.train(wasTraining);
  return Array.from({ length: B }, (_, b) => decodeAnswer(digits.subarray(b * ANSWER_LEN, (b + 1) * ANSWER_LEN)));
}

/**
 * Greedy decoding scored on `problems` (in batches of `batch`): the share of
 * exact answers, and per answer position (least significant first) the
 * share of right digits.
 */
export async function evaluate(model: AdditionLSTM, problems: ReadonlyArray<[number, number]>, batch = 500): Promise<{ exact: number; digits: number[] }> {
  let right = 0;
  const digits = new Array<number>(ANSWER_LEN).fill(0);
  for (let i = 0; i < problems.length; i += batch) {
    const part = problems.slice(i, i + batch), sums = await solve(model, part);
    part.forEach(([a, b], j) => {
      if (sums[j] === a + b) right++;
      for (let k = 0; k < ANSWER_LEN; k++) if (Math.floor(sums[j] / 10 ** k) % 10 === Math.floor((a + b) / 10 ** k) % 10) digits[k]++;
    });
  }
  return { exact: right / problems.length, digits: digits.map((d) => d / problems.length) };
}
