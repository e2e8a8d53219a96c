// The ONNX protobuf encoding, loaded only when a model is exported (a dynamic
// import: its own chunk in dist/, so a bundle that never exports carries
// neither protobufjs nor the schema). protobufjs/light encodes from the
// official schema's JSON descriptor (onnx-schema.gen.ts); nothing here knows lepton.
import protobuf from 'protobufjs/light.js';
import schema from './onnx-schema.gen.js';

let modelProto: protobuf.Type | null = null;

/** Encodes a ModelProto given as a plain object (camelCase field names). Throws an Error naming the bad field. */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  modelProto ??= protobuf.Root.fromJSON(schema as unknown as protobuf.INamespace).lookupType('onnx.ModelProto');
  const problem = modelProto.verify(model);
  if (problem) throw new Error(`ModelProto: ${problem}`);
  return modelProto.encode(modelProto.fromObject(model)).finish();
}

/** Decodes ModelProto bytes into a plain object (tests read exported models back with it). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  modelProto ??= protobuf.Root.fromJSON(schema as unknown as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelProto.toObject(modelProto.decode(bytes), { enums: String, longs: Number, bytes: Array }) as Record<string, unknown>;
}
