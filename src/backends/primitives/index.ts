// Every primitive's declarations, by the name of the file the build writes
// them to (build/gen/<name>.wgsl and build/gen/<name>.ts; tools/gen-kernels.ts).
// A new primitive adds one line here.
import type { Decl } from './declare.js';
import * as activation from './activation.js';
import * as elementwise from './elementwise.js';
import * as gather from './gather.js';
import * as jobs from './jobs.js';
import * as limits from './limits.js';
import * as matmul from './matmul.js';
import * as optim from './optim.js';
import * as reduce from './reduce.js';
import * as softmax from './softmax.js';
import * as strided from './strided.js';

export const DECLS: Record<string, readonly Decl[]> = {
  activation: activation.DECLS,
  elementwise: elementwise.DECLS,
  gather: gather.DECLS,
  jobs: jobs.DECLS,
  limits: limits.DECLS,
  matmul: matmul.DECLS,
  optim: optim.DECLS,
  reduce: reduce.DECLS,
  softmax: softmax.DECLS,
  strided: strided.DECLS,
};
