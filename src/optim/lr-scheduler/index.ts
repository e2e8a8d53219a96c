// Learning-rate schedules (torch.optim.lr_scheduler), exported as optim.lrScheduler.
export { LRScheduler, type LRSchedulerStateDict } from './base.js';
export { StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, LambdaLR } from './schedules.js';
export { SequentialLR } from './sequential.js';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle.js';
