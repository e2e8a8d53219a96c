// Every primitive's declarations, by the name of the file the build writes
// them to (build/gen/<name>.wgsl and build/gen/<name>.ts; tools/gen-kernels.ts).
// A new primitive adds one line here.
import type { Decl } from './declare.js';
import * as activation from './activation.js';
import * as conv from './conv.js';
import * as attention from './attention.js';
import * as elementwise from './elementwise.js';
import * as embedding from './embedding.js';
import * as gather from './gather.js';
import * as jobs from './jobs.js';
import * as limits from './limits.js';
import * as matmul from './matmul.js';
import * as norm from './norm.js';
import * as optim from './optim.js';
import * as pool from './pool.js';
import * as reduce from './reduce.js';
import * as softmax from './softmax.js';
import * as strided from './strided.js';
import * as xent from './xent.js';

export const DECLS: Record<string, readonly Decl[]> = {
  activation: activation.DECLS,
  conv: conv.DECLS,
  attention: attention.DECLS,
  elementwise: elementwise.DECLS,
  embedding: embedding.DECLS,
  gather: gather.DECLS,
  jobs: jobs.DECLS,
  limits: limits.DECLS,
  matmul: matmul.DECLS,
  norm: norm.DECLS,
  optim: optim.DECLS,
  pool: pool.DECLS,
  reduce: reduce.DECLS,
  softmax: softmax.DECLS,
  strided: strided.DECLS,
  xent: xent.DECLS,
};
