// Saving and loading: safetensors files (PyTorch's names and layouts) and checkpoints.
// Exported at the top level of the package (not as a namespace), so a bundle that loads no file leaves them out.
export { saveSafetensors, loadSafetensors, readSafetensors, writeSafetensors, type SaveOptions } from './weights.js';
export { saveCheckpoint, loadCheckpoint, type CheckpointParts, type LoadCheckpointParts, type CheckpointInfo } from './checkpoint.js';
export type { BinarySource, UrlLike } from './source.js';
export type { Dtype as SafetensorsDtype, WriteDtype as SafetensorsWriteDtype, SafetensorsTensor, SafetensorsEntry, SafetensorsFile } from './safetensors.js';
