// A one-node ONNX model (C = MatMul(A, B)) written as protobuf bytes by hand,
// so onnxruntime-web can be timed without shipping a model file.

function varint(value: number): number[] {
  const out: number[] = [];
  let n = BigInt(value);
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, v: number) => [...key(field, 0), ...varint(v)];
const msg = (field: number, body: number[]) => [...key(field, 2), ...varint(body.length), ...body];
const str = (field: number, s: string) => msg(field, [...new TextEncoder().encode(s)]);

/** ValueInfoProto: name, TypeProto.tensor_type { elem_type FLOAT, shape { dim { dim_value } } }. */
const valueInfo = (name: string, dims: number[]) =>
  [...str(1, name), ...msg(2, msg(1, [...int(1, 1), ...msg(2, dims.flatMap((d) => msg(1, int(1, d))))]))];

export function matmulModel(M: number, K: number, N: number): Uint8Array {
  const node = [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'C'), ...str(4, 'MatMul')];
  const graph = [...msg(1, node), ...str(2, 'matmul'),
    ...msg(11, valueInfo('A', [M, K])), ...msg(11, valueInfo('B', [K, N])), ...msg(12, valueInfo('C', [M, N]))];
  // ModelProto: ir_version 8, opset_import { domain "", version 13 }, graph.
  return new Uint8Array([...int(1, 8), ...msg(8, [...str(1, ''), ...int(2, 13)]), ...msg(7, graph)]);
}

/** AttributeProto: name, then an INT (type 2, field i), INTS (type 7, repeated field ints) or STRING (type 3, field s). */
const attrInt = (name: string, v: number) => [...str(1, name), ...int(3, v), ...int(20, 2)];
const attrInts = (name: string, vs: number[]) => [...str(1, name), ...vs.flatMap((v) => int(8, v)), ...int(20, 7)];
const attrStr = (name: string, v: string) => [...str(1, name), ...str(4, v), ...int(20, 3)];

/** Y = Conv(X [N, C, H, W], Wt [O, C / group, K, K]) with auto_pad SAME_UPPER, stride 1 (opset 13). */
export function convModel(N: number, C: number, H: number, W: number, O: number, K: number, group: number): Uint8Array {
  const node = [...str(1, 'X'), ...str(1, 'Wt'), ...str(2, 'Y'), ...str(4, 'Conv'),
    ...msg(5, attrStr('auto_pad', 'SAME_UPPER')), ...msg(5, attrInt('group', group)),
    ...msg(5, attrInts('kernel_shape', [K, K])), ...msg(5, attrInts('strides', [1, 1]))];
  const graph = [...msg(1, node), ...str(2, 'conv'),
    ...msg(11, valueInfo('X', [N, C, H, W])), ...msg(11, valueInfo('Wt', [O, C / group, K, K])), ...msg(12, valueInfo('Y', [N, O, H, W]))];
  return new Uint8Array([...int(1, 8), ...msg(8, [...str(1, ''), ...int(2, 13)]), ...msg(7, graph)]);
}
