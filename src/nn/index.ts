export { Module } from './module.js';
export { Linear, type LinearOptions } from './linear.js';
export { MLP, type MLPOptions } from './mlp.js';
export type { InitName } from './init.js';
export { crossEntropy, mse, type Reduction, type LossOptions } from '../ops/loss.js';
export type { StateValue, StateDictInput, LoadStateDictOptions, LoadStateDictResult } from './state-dict.js';
export * as utils from './utils.js';
