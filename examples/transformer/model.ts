// The addition transformer of `npm run demo:transformer`, shared by the demo,
// its test and the bench: a decoder-only nn.TransformerLM over the addition
// task's 12 tokens (examples/addition/data.ts), trained with the loss on the
// five answer positions only, and scored by greedy generation through the
// key/value cache on held-out problems (exact answers).
import { narrow, nn, optim, reshape, scope, type DeviceName, type Tensor } from 'lepton';
import { ANSWER_LEN, PROMPT_LEN, SEQ_LEN, VOCAB_SIZE, decodeAnswer, encodePrompt, rng, trainBatch } from '../addition/data.js';

export interface AdditionConfig {
  dModel: number;
  numLayers: number;
  numHeads: number;
  ffnDim: number;
  batchSize: number;
  /** Optimizer steps of the whole run (the lr schedule spans them). */
  steps: number;
  /** Peak learning rate (AdamW), reached after `warmup` steps, then cosine decay to lr / 20. */
  lr: number;
  warmup: number;
  weightDecay: number;
  seed: number;
  device?: DeviceName;
}

/** The demo's settings (2 layers, 4 heads, width 64), tuned for wall time on the WASM backend. */
export const DEMO: AdditionConfig = {
  dModel: 64, numLayers: 2, numHeads: 4, ffnDim: 256, batchSize: 64, steps: 500, lr: 3e-3, warmup: 100, weightDecay: 0.01, seed: 1,
};

/** The model reads a sequence but its last token: SEQ_LEN − 1 positions. */
export const READ_LEN = SEQ_LEN - 1;

export function additionModel(c: AdditionConfig): nn.TransformerLM {
  return new nn.TransformerLM(VOCAB_SIZE, {
    dModel: c.dModel, numLayers: c.numLayers, numHeads: c.numHeads, ffnDim: c.ffnDim, maxSeqLen: READ_LEN, dropout: 0, seed: c.seed, device: c.device,
  });
}

/** Rows of a [n, SEQ_LEN] token array: inputs (tokens 0..13) and the answer labels (tokens 10..14), flattened. */
export function split(tokens: Int32Array, n: number): { inputs: Int32Array[]; labels: Int32Array } {
  const inputs: Int32Array[] = [], labels = new Int32Array(n * ANSWER_LEN);
  for (let b = 0; b < n; b++) {
    inputs.push(tokens.subarray(b * SEQ_LEN, b * SEQ_LEN + READ_LEN));
    labels.set(tokens.subarray(b * SEQ_LEN + PROMPT_LEN, (b + 1) * SEQ_LEN), b * ANSWER_LEN);
  }
  return { inputs, labels };
}

/** Cross-entropy of the answer positions: position PROMPT_LEN − 1 + i predicts answer digit i. */
export function answerLoss(model: nn.TransformerLM, inputs: Int32Array[], labels: Int32Array): Tensor {
  const logits = model.forward(inputs);
  const answer = narrow(logits, 1, PROMPT_LEN - 1, ANSWER_LEN);
  return nn.crossEntropy(reshape(answer, [inputs.length * ANSWER_LEN, VOCAB_SIZE]), labels);
}

/** AdamW with linear warmup then cosine decay, and the training batches of one seed. */
export class Trainer {
  readonly optimizer: optim.AdamW;
  readonly schedule: optim.lrScheduler.LambdaLR;
  private readonly rand: () => number;
  step = 0;

  constructor(readonly model: nn.TransformerLM, readonly config: AdditionConfig) {
    const { steps, warmup } = config;
    this.optimizer = new optim.AdamW(model.parameters(), { lr: config.lr, betas: [0.9, 0.98], weightDecay: config.weightDecay });
    this.schedule = new optim.lrScheduler.LambdaLR(this.optimizer, {
      lrLambda: (t) => (t < warmup ? (t + 1) / warmup : 0.05 + 0.475 * (1 + Math.cos((Math.PI * Math.min(t - warmup, steps - warmup)) / Math.max(1, steps - warmup)))),
    });
    this.rand = rng(config.seed * 7919 + 1);
  }

  /** One optimizer step on a fresh batch; returns the loss tensor (read it when needed: reading waits for the device). */
  train(): Tensor {
    const { inputs, labels } = split(trainBatch(this.rand, this.config.batchSize).tokens, this.config.batchSize);
    const loss = scope(() => {
      const l = answerLoss(this.model, inputs, labels);
      this.optimizer.zeroGrad();
      l.backward();
      this.optimizer.step();
      return l.detach();
    });
    this.schedule.step();
    this.step++;
    return loss;
  }
}

/**
 * Exact-answer accuracy by greedy generation through the KV cache: each
 * prompt runs once, then the five answer digits one at a time.
 */
export async function heldOutAccuracy(model: nn.TransformerLM, problems: ReadonlyArray<[number, number]>, batch = 500): Promise<number> {
  let right = 0;
  for (let i = 0; i < problems.length; i += batch) {
    const part = problems.slice(i, i + batch);
    const out = await model.generate(part.map(([a, b]) => encodePrompt(a, b)), { maxNewTokens: ANSWER_LEN, temperature: 0 });
    part.forEach(([a, b], k) => { if (decodeAnswer(out[k].slice(PROMPT_LEN)) === a + b) right++; });
  }
  return right / problems.length;
}
