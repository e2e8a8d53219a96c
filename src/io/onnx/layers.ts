// How each lepton layer is exported to ONNX: one onnxLayer() entry per layer
// class (see docs/io.md, "Adding a layer"). An entry emits the layer's
// inference graph (eval mode) from its input value and returns its output.
import { fail } from '../../errors.js';
import { Linear } from '../../nn/linear.js';
import { MLP } from '../../nn/mlp.js';
import { registerImageLayers } from './conv-layers.js';
import { LayerNorm } from '../../nn/norm.js';
import { onnxLayer, OP, type OnnxValue } from './graph.js';
import { registerRecurrentLayers } from './recurrent-layers.js';
import { registerSequenceLayers } from './sequence-layers.js';

const at = (path: string, name: string) => path ? `${path}.${name}` : name;
const fmt = (s: readonly (number | string)[]) => `[${s.join(', ')}]`;

let registered = false;

/** Registers the built-in layers' exports (called by exportOnnx; an explicit call, so no bundler drops it). */
export function registerLayers(): void {
  if (registered) return;
  registered = true;

  // Linear: act(x·W + b). A 2-D input is one Gemm with the weight in PyTorch's
  // [out, in] layout (transB = 1), as torch.onnx exports it; other ranks are MatMul (+ Add).
  onnxLayer(Linear, (l, x, g, path) => {
    const last = x.shape.at(-1);
    if (x.shape.length < 1 || (typeof last === 'number' && last !== l.inFeatures)) {
      fail(OP, `layer '${path || 'the model'}' (Linear ${l.inFeatures} → ${l.outFeatures}) gets an input of shape ${fmt(x.shape)}; needs [*, ${l.inFeatures}]`);
    }
    const shape = [...x.shape.slice(0, -1), l.outFeatures];
    let y: OnnxValue;
    if (x.shape.length === 2) {
      const inputs = [x.name, g.weight(l.weight, at(path, 'weight'), [1, 0])];
      if (l.bias) inputs.push(g.weight(l.bias, at(path, 'bias')));
      y = g.node('Gemm', inputs, shape, path, { transB: 1 });
    } else {
      y = g.node('MatMul', [x.name, g.weight(l.weight, at(path, 'weight'))], shape, path);
      if (l.bias) y = g.node('Add', [y.name, g.weight(l.bias, at(path, 'bias'))], shape, path);
    }
    return g.activation(l.activation, y, path);
  });

  // MLP: its layers in order.
  onnxLayer(MLP, (m, x, g, path) => m.layers.reduce((h, l, i) => g.layer(l, h, at(path, `layers.${i}`)), x));

  // Sequential, Conv2d, the pools, BatchNorm2d, Dropout, Flatten.
  registerImageLayers();
  // LayerNorm: one LayerNormalization node (opset 17) over the trailing
  // normalized dimensions; its Scale input is required, so a layer without
  // weight exports a constant of ones.
  onnxLayer(LayerNorm, (l, x, g, path) => {
    const ns = l.normalizedShape;
    const tail = x.shape.slice(x.shape.length - ns.length);
    if (x.shape.length < ns.length || tail.some((d, i) => typeof d === 'number' && d !== ns[i])) {
      fail(OP, `layer '${path || 'the model'}' (LayerNorm ${fmt(ns)}) gets an input of shape ${fmt(x.shape)}; needs [*, ${ns.join(', ')}]`);
    }
    const size = ns.reduce((a, d) => a * d, 1);
    const scale = l.weight ? g.weight(l.weight, at(path, 'weight')) : g.constant(at(path, 'weight'), Array(size).fill(1), ns);
    const inputs = [x.name, scale, ...(l.bias ? [g.weight(l.bias, at(path, 'bias'))] : [])];
    return g.node('LayerNormalization', inputs, x.shape, path, { axis: -ns.length, epsilon: l.eps });
  });

  // Embedding, RMSNorm, MultiHeadAttention, TransformerBlock, TransformerLM; recurrent layers refuse.
  registerSequenceLayers();
  registerRecurrentLayers();
}
