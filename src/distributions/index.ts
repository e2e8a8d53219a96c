// Probability distributions with gradients (torch.distributions' names and semantics).
export { Categorical, type CategoricalParams } from './categorical.js';
export { Normal } from './normal.js';
export type { SampleOptions } from './common.js';
