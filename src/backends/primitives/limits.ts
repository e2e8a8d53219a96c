// Limits every backend shares.
import { constant } from './declare.js';

/** Highest tensor rank the strided kernels (binary broadcast, strided copy) take. */
export const MAX_RANK = 8;

export const DECLS = [constant('MAX_RANK', 'u32', MAX_RANK)];
