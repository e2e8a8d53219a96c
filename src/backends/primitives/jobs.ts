// Kinds of job the WASM worker threads run (kernels-as/index.ts runPart):
// one per primitive that splits its work across threads.
import { codes } from './declare.js';

export const JOB = codes('JOB', {
  matmul: 1, unary: 2, binary: 3, fill: 4, reduce: 5, softmax: 6, strided: 7, sgd: 8, adam: 9, conv: 10, pool: 11, attention: 12,
  norm: 13, embedding: 14, xent: 15, gather: 16, scan: 17,
});
export type JobKind = keyof typeof JOB.codes;

export const DECLS = [JOB];
