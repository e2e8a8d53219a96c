export { Optimizer, type OptimizerStateDict, type OptimizerStateDictInput, type ParamGroup, type ParamGroupInput, type ParamsInput, type Hyperparameters } from './optimizer.js';
export { SGD, type SGDOptions, type SGDHyperparameters } from './sgd.js';
export { Adam, AdamW, type AdamOptions, type AdamHyperparameters } from './adam.js';
export * as lrScheduler from './lr-scheduler/index.js';
