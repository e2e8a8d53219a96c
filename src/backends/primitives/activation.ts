// Activation codes shared by the fused matmul epilogue, the unary kernels and
// the activation-derivative (`*_bwd`) binary ops.
import { codes } from './declare.js';

/** Epilogue activation of the fused matmul, `act(A·B + bias)`. */
export const ACT = codes('ACT', { none: 0, relu: 1, gelu: 2, tanh: 3, sigmoid: 4 });
export const ACTIVATIONS = ACT.codes;
export type Activation = keyof typeof ACTIVATIONS;

export const DECLS = [ACT];
