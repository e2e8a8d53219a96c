// Saving and loading: safetensors files (PyTorch's names and layouts) and checkpoints.
export { saveSafetensors, loadSafetensors, readSafetensors, writeSafetensors, type SaveOptions } from './weights.js';
export { saveCheckpoint, loadCheckpoint, type CheckpointParts, type LoadCheckpointParts, type CheckpointInfo } from './checkpoint.js';
export type { BinarySource } from './source.js';
export type { Dtype, WriteDtype, SafetensorsTensor, SafetensorsEntry, SafetensorsFile } from './safetensors.js';
