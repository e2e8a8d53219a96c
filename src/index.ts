// The public API of lepton, and nothing else.
// Tensors are Disposable (`using t = …`): the declarations name Symbol.dispose,
// so they bring TypeScript's lib for it into a consumer's project (preserve:
// TypeScript keeps a reference directive in declarations only when asked).
/// <reference lib="esnext.disposable" preserve="true" />
export { init, currentDevice, describeDevice, type InitOptions } from './backends/registry.js';
export type { RecoveryEvent, RecoveryOptions } from './backends/recovery.js';
export type { Activation, DeviceName } from './backends/backend.js';
export { Tensor, type NestedArray, type BackwardOptions } from './tensor.js';
export { tensor, zeros, ones, full, randn, rand, type TensorOptions, type RandomOptions, type RandnOptions, type RandOptions } from './creation.js';
export { manualSeed, Generator } from './random.js';
export {
  setBackendOptions, getDeviceProperties,
  type DeviceProperties, type WasmProperties, type WebGPUProperties, type WasmRuntimeOptions,
} from './backend-options.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { scope, keep, dispose } from './memory.js';
export { memory, resetPeakMemoryStats, emptyCache, type MemoryInfo } from './memory-stats.js';
export { LeptonError } from './errors.js';
export { add, sub, mul, div, maximum, minimum, neg, exp, log, abs, sqrt, square, relu, gelu, tanh, sigmoid } from './ops/elementwise.js';
export { sum, mean, max } from './ops/reduce.js';
export { reshape, flatten, transpose, broadcastTo } from './ops/shape.js';
export { slice, narrow, type Bound } from './ops/slice.js';
export { concat, cat, stack, split, chunk } from './ops/concat.js';
export { matmul } from './ops/matmul.js';
export { linear } from './ops/linear.js';
export { conv2d, type Conv2dOptions, type Conv2dPadding } from './ops/conv.js';
export { convTranspose2d, type ConvTranspose2dOptions } from './ops/conv-transpose.js';
export { maxPool2d, avgPool2d, globalAvgPool2d, type Pool2dOptions, type AvgPool2dOptions, type GlobalAvgPool2dOptions } from './ops/pool.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { argmax, argmin } from './ops/argmax.js';
export { where, clamp, clip } from './ops/where-clamp.js';
export { pow } from './ops/pow.js';
export { gather, indexSelect, oneHot, type OneHotOptions } from './ops/gather.js';
export { cumsum, topk, type TopkOptions } from './ops/scan.js';
export { arange, linspace, eye } from './ranges.js';
export type { IntegerData, IntegerArray } from './integers.js';
export { crossEntropy, mse, type CrossEntropyOptions } from './ops/loss.js';
export { attention, type AttentionOptions } from './ops/attention.js';
export { layerNorm, rmsNorm } from './ops/norm.js';
export { embedding, type Ids, type EmbeddingOptions } from './ops/embedding.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as distributions from './distributions/index.js';
export * as rl from './rl/index.js';
export * as data from './data/index.js';
export * as metrics from './metrics.js';
export * as testing from './testing.js';
export {
  saveSafetensors, loadSafetensors, readSafetensors, writeSafetensors, saveCheckpoint, loadCheckpoint,
  type SaveOptions, type CheckpointParts, type LoadCheckpointParts, type CheckpointInfo, type BinarySource, type UrlLike,
  type SafetensorsDtype, type SafetensorsWriteDtype, type SafetensorsTensor, type SafetensorsEntry, type SafetensorsFile,
} from './io/index.js';
export { exportOnnx, type ExportOnnxOptions } from './io/onnx/export.js';
