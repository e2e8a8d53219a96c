"""Checks exported ONNX models with Debian's python3-onnx (test/io/onnx.test.ts).

    /usr/bin/python3 test/interop/onnx_check.py MODEL.onnx [MODEL.onnx ...]

Runs onnx.checker.check_model(full_check=True) on each (which includes strict
shape inference) and prints one JSON line per model: IR and opset versions and
the input and output shapes (a string is a dynamic dimension).
"""
import json
import sys

import onnx


def dims(value_info):
    return [d.dim_param if d.HasField('dim_param') else d.dim_value for d in value_info.type.tensor_type.shape.dim]


for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    print(json.dumps({
        'path': path, 'onnx': onnx.__version__, 'ir': model.ir_version,
        'opset': [o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')][0],
        'input': dims(inferred.graph.input[0]), 'output': dims(inferred.graph.output[0]),
        'nodes': [n.op_type for n in model.graph.node],
    }))
