// exportOnnx: a model built from lepton's layers as an ONNX model, through the
// per-layer registry (layers.ts), encoded with protobufjs from the official
// schema, which is imported only here, on first use (proto.ts).
import { fail } from '../../errors.js';
import { Module } from '../../nn/module.js';
import { writeBytes } from '../source.js';
import { OnnxGraph, OP, type Dim, type OnnxValue } from './graph.js';
import { registerLayers } from './layers.js';
import { takesIds } from './sequence-layers.js';

export interface ExportOnnxOptions {
  /** One input's shape, batch included, e.g. [1, 2]; a string names a dynamic dimension. */
  inputShape: Dim[];
  /** ONNX opset, 17 (default) to 21. GELU is one node from opset 20, composed of primitives before. */
  opset?: number;
  /** Export the first dimension as the dynamic dimension 'batch' (default true). */
  dynamicBatch?: boolean;
  /** Node: also write the model to this file. */
  path?: string;
}

/** The IR version each opset came with (onnx 1.12 → opset 17, IR 8; 1.14 → 19, IR 9; 1.16 → 21, IR 10). */
const IR_VERSION: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };
const VERSION = '0.1.0';

/**
 * The ONNX model (bytes of a ModelProto) of `model`'s inference graph (eval
 * mode): graph input 'input' of `inputShape` (the first dimension dynamic by
 * default), output 'output', weights as float32 initializers. Runs in ONNX
 * Runtime (web, node, Python) and passes onnx.checker. Every layer must have
 * an ONNX entry (Linear, MLP, the activations, Sequential, Conv2d, the pools,
 * BatchNorm2d, Dropout, Flatten, LayerNorm, RMSNorm, Embedding,
 * MultiHeadAttention, TransformerBlock, TransformerLM, RNN, GRU, LSTM (their
 * sequence output); image layers run NCHW
 * inside, the input and output stay NHWC as lepton's; a model that starts
 * with an Embedding or is a TransformerLM takes int64 token ids); another throws a
 * LeptonError naming it. With `path` (Node) the file is written too.
 */
export async function exportOnnx(model: Module, options: ExportOnnxOptions): Promise<Uint8Array> {
  if (!(model instanceof Module)) fail(OP, `argument 'model' must be an nn.Module, got ${model === null ? 'null' : typeof model}`);
  if (!options || typeof options !== 'object') fail(OP, `argument 'options' must be { inputShape, opset?, dynamicBatch?, path? }, got ${typeof options}`);
  for (const k of Object.keys(options)) if (!['inputShape', 'opset', 'dynamicBatch', 'path'].includes(k)) fail(OP, `unknown option '${k}'; options are inputShape, opset, dynamicBatch, path`);
  const { inputShape, opset = 17, dynamicBatch = true, path } = options;
  if (!Array.isArray(inputShape) || inputShape.length === 0
    || inputShape.some((d) => typeof d === 'string' ? !/^[A-Za-z_][A-Za-z0-9_]*$/.test(d) : !Number.isInteger(d) || d < 1)) {
    fail(OP, `option 'inputShape' must be a non-empty array of positive integers or dimension names, got ${JSON.stringify(inputShape)}`);
  }
  if (!(opset in IR_VERSION)) fail(OP, `option 'opset' must be one of ${Object.keys(IR_VERSION).join(', ')}, got ${opset}`);
  if (typeof dynamicBatch !== 'boolean') fail(OP, `option 'dynamicBatch' must be a boolean, got ${typeof dynamicBatch}`);
  registerLayers();
  const g = new OnnxGraph(opset);
  const input: OnnxValue = { name: 'input', shape: inputShape.map((d, i) => i === 0 && dynamicBatch && typeof d === 'number' ? 'batch' : d) };
  // A model that starts with an Embedding (or a TransformerLM) reads int64 token ids.
  if (takesIds(model)) input.dtype = 'int64';
  g.reserve('input');
  const output = g.layer(model, input, '');
  const graph = await g.finish(input, output);
  const { encodeModel } = await import('./proto.js');
  let bytes: Uint8Array;
  try {
    bytes = encodeModel({
      irVersion: IR_VERSION[opset], producerName: 'lepton', producerVersion: VERSION,
      opsetImport: [{ domain: '', version: opset }], graph,
    });
  } catch (e) {
    return fail(OP, `encoding failed: ${(e as Error).message}`);
  }
  if (path !== undefined) await writeBytes(OP, path, bytes);
  return bytes;
}
