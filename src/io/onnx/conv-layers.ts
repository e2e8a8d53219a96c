// ONNX exports of the image layers. ONNX's Conv and pools are NCHW; lepton's
// graph input and layers are NHWC, so the first image layer transposes its
// input to NCHW, image layers pass NCHW values along (OnnxValue.layout), and
// the graph transposes back before any other layer (Flatten, Linear) or the
// output (OnnxGraph.layer / finish): a flatten then sees lepton's H, W, C
// order and the following Linear's weights stay as they are.
import { fail } from '../../errors.js';
import { BatchNorm2d } from '../../nn/batchnorm.js';
import { both, Conv2d } from '../../nn/conv.js';
import { ConvTranspose2d } from '../../nn/conv-transpose.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from '../../nn/pool.js';
import { Dropout } from '../../nn/dropout.js';
import { Flatten, Sequential } from '../../nn/sequential.js';
import { convGeometry, convTransposeGeometry, poolGeometry } from '../../ops/conv-geometry.js';
import { onnxLayer, OP, type OnnxGraph, type OnnxValue } from './graph.js';

const at = (path: string, name: string) => path ? `${path}.${name}` : name;
const where = (path: string, what: string) => `layer '${path || 'the model'}' (${what})`;

/** Spatial sizes must be known numbers: the pads and the output shape depend on them. */
function spatial(x: OnnxValue, path: string, what: string): [number, number] {
  const [, , h, w] = x.shape;
  if (typeof h !== 'number' || typeof w !== 'number') fail(OP, `${where(path, what)} needs fixed image sizes; got [${x.shape.join(', ')}] (only the batch may be dynamic)`);
  return [h, w];
}

/** A stand-in NHWC shape with numeric N and C for the geometry checks (the batch may be a dimension name). */
const nhwcOf = (x: OnnxValue, h: number, w: number) => [1, h, w, typeof x.shape[1] === 'number' ? x.shape[1] : 1];

let registered = false;

export function registerImageLayers(): void {
  if (registered) return;
  registered = true;

  // Conv2d: Conv on NCHW with the weight in OIHW (PyTorch's layout), explicit pads [top, left, bottom, right].
  onnxLayer(Conv2d, (l, x0, g, path) => {
    const what = `Conv2d ${l.inChannels} → ${l.outChannels}`;
    const x = g.nchw(x0, path);
    if (x.shape[1] !== l.inChannels) fail(OP, `${where(path, what)} gets ${x.shape[1]} channels; needs ${l.inChannels}`);
    const [h, w] = spatial(x, path, what);
    const geo = convGeometry(OP, nhwcOf(x, h, w), l.weight.shape, { stride: l.stride, padding: l.padding, dilation: l.dilation, groups: l.groups });
    const inputs = [x.name, g.weight(l.weight, at(path, 'weight'), [3, 2, 0, 1])];
    if (l.bias) inputs.push(g.weight(l.bias, at(path, 'bias')));
    const [p0, p1, p2, p3] = geo.pads;
    const y = g.node('Conv', inputs, [x.shape[0], l.outChannels, geo.Ho, geo.Wo], path, {
      kernel_shape: [geo.Kh, geo.Kw], strides: [geo.sh, geo.sw], dilations: [geo.dh, geo.dw], pads: [p0, p2, p1, p3], group: l.groups,
    });
    return { ...g.activation(l.activation, y, path), layout: 'nchw' };
  }, { nchw: true });

  // ConvTranspose2d: ConvTranspose with the weight [in, out / groups, kh, kw] (ONNX's and PyTorch's layout).
  onnxLayer(ConvTranspose2d, (l, x0, g, path) => {
    const what = `ConvTranspose2d ${l.inChannels} → ${l.outChannels}`;
    const x = g.nchw(x0, path);
    if (x.shape[1] !== l.inChannels) fail(OP, `${where(path, what)} gets ${x.shape[1]} channels; needs ${l.inChannels}`);
    const [h, w] = spatial(x, path, what);
    const o = { stride: l.stride, padding: l.padding, outputPadding: l.outputPadding, dilation: l.dilation, groups: l.groups };
    const geo = convTransposeGeometry(nhwcOf(x, h, w), l.weight.shape, o, OP);
    const inputs = [x.name, g.weight(l.weight, at(path, 'weight'), [3, 2, 0, 1])];
    if (l.bias) inputs.push(g.weight(l.bias, at(path, 'bias')));
    const [ph, pw] = both(l.padding), [oph, opw] = both(l.outputPadding);
    if (oph >= geo.sh || opw >= geo.sw) {
      fail(OP, `${where(path, what)} has outputPadding [${oph}, ${opw}] not below its stride [${geo.sh}, ${geo.sw}] (allowed by its dilation); ONNX Runtime refuses that ConvTranspose`);
    }
    // geo is the convolution this transposes: its input is this layer's output.
    const y = g.node('ConvTranspose', inputs, [x.shape[0], l.outChannels, geo.H, geo.W], path, {
      kernel_shape: [geo.Kh, geo.Kw], strides: [geo.sh, geo.sw], dilations: [geo.dh, geo.dw], pads: [ph, pw, ph, pw],
      output_padding: [oph, opw], group: l.groups,
    });
    return { ...g.activation(l.activation, y, path), layout: 'nchw' };
  }, { nchw: true });

  const pool = (op: 'MaxPool' | 'AveragePool', l: MaxPool2d | AvgPool2d, x0: OnnxValue, g: OnnxGraph, path: string): OnnxValue => {
    const x = g.nchw(x0, path);
    const [h, w] = spatial(x, path, op);
    const dilation = l instanceof MaxPool2d ? l.dilation : 1;
    const geo = poolGeometry(OP, nhwcOf(x, h, w), { kernelSize: l.kernelSize, stride: l.stride, padding: l.padding, ceilMode: l.ceilMode, dilation });
    const [ph, pw] = both(l.padding);
    const attrs: Record<string, number | number[]> = { kernel_shape: [geo.Kh, geo.Kw], strides: [geo.sh, geo.sw], pads: [ph, pw, ph, pw] };
    const dh = geo.dh ?? 1, dw = geo.dw ?? 1, eh = (geo.Kh - 1) * dh + 1, ew = (geo.Kw - 1) * dw + 1;
    if (dh !== 1 || dw !== 1) attrs.dilations = [dh, dw];
    if (l.ceilMode) {
      // ONNX's ceil mode (opset 17) keeps a last window that would start in the bottom (right)
      // padding, where PyTorch (and lepton) drop it. Where the sizes differ, the same windows are
      // written in floor mode with the end padding trimmed to what the last window reaches; no
      // kept window then hangs past the padding, so maxima and averages are the same.
      const ceilOut = (n: number, K: number, st: number, p: number) => Math.ceil((n + 2 * p - K) / st) + 1;
      if (ceilOut(h, eh, geo.sh, ph) === geo.Ho && ceilOut(w, ew, geo.sw, pw) === geo.Wo) attrs.ceil_mode = 1;
      else {
        const end = [Math.max(0, (geo.Ho - 1) * geo.sh + eh - h - ph), Math.max(0, (geo.Wo - 1) * geo.sw + ew - w - pw)];
        if (l instanceof AvgPool2d && l.countIncludePad && (end[0] > ph || end[1] > pw)) {
          fail(OP, `${where(path, 'AvgPool2d')} (ceil mode, padding counted) has windows past the padding on one side and a dropped last window on `
            + `the other for a ${h}×${w} input; ONNX's AveragePool cannot express both (use countIncludePad false, or an input size where the modes agree)`);
        }
        attrs.pads = [ph, pw, ...end];
      }
    }
    if (l instanceof AvgPool2d) attrs.count_include_pad = l.countIncludePad ? 1 : 0;
    return { ...g.node(op, [x.name], [x.shape[0], x.shape[1], geo.Ho, geo.Wo], path, attrs), layout: 'nchw' };
  };
  onnxLayer(MaxPool2d, (l, x, g, path) => pool('MaxPool', l, x, g, path), { nchw: true });
  onnxLayer(AvgPool2d, (l, x, g, path) => pool('AveragePool', l, x, g, path), { nchw: true });

  // GlobalAvgPool2d: GlobalAveragePool ([N, C, 1, 1]) then Flatten to lepton's [N, C].
  onnxLayer(GlobalAvgPool2d, (_l, x0, g, path) => {
    const x = g.nchw(x0, path);
    const y = g.node('GlobalAveragePool', [x.name], [x.shape[0], x.shape[1], 1, 1], path);
    return g.node('Flatten', [y.name], [x.shape[0], x.shape[1]], path, { axis: 1 });
  }, { nchw: true });

  // BatchNorm2d in eval: BatchNormalization with the running statistics (scale 1 and bias 0 without affine).
  onnxLayer(BatchNorm2d, (l, x0, g, path) => {
    const what = `BatchNorm2d ${l.numFeatures}`;
    if (!l.trackRunningStats) fail(OP, `${where(path, what)} has no running statistics (trackRunningStats false): its eval normalises by each batch, which ONNX's BatchNormalization cannot express`);
    const x = g.nchw(x0, path);
    if (x.shape[1] !== l.numFeatures) fail(OP, `${where(path, what)} gets ${x.shape[1]} channels; needs ${l.numFeatures}`);
    const C = l.numFeatures;
    const scale = l.weight ? g.weight(l.weight, at(path, 'weight')) : g.constant(at(path, 'weight'), new Array<number>(C).fill(1), [C]);
    const bias = l.bias ? g.weight(l.bias, at(path, 'bias')) : g.constant(at(path, 'bias'), new Array<number>(C).fill(0), [C]);
    const inputs = [x.name, scale, bias, g.weight(l.runningMean!, at(path, 'running_mean')), g.weight(l.runningVar!, at(path, 'running_var'))];
    return { ...g.node('BatchNormalization', inputs, x.shape, path, { epsilon: l.eps }), layout: 'nchw' };
  }, { nchw: true });

  // Dropout is the identity in eval (inference graphs are eval).
  onnxLayer(Dropout, (_l, x) => x, { nchw: true });

  // Flatten (1, -1): ONNX Flatten at axis 1, on lepton's NHWC order (the graph transposes back first).
  onnxLayer(Flatten, (l, x, g, path) => {
    const rank = x.shape.length, s = l.startDim < 0 ? l.startDim + rank : l.startDim, e = l.endDim < 0 ? l.endDim + rank : l.endDim;
    if (s !== 1 || e !== rank - 1) fail(OP, `${where(path, `Flatten(${l.startDim}, ${l.endDim})`)}: ONNX export covers Flatten(1, -1) (all but the batch) only`);
    const rest = x.shape.slice(1);
    const size = rest.every((d) => typeof d === 'number') ? (rest as number[]).reduce((a, b) => a * b, 1) : `${x.name.replace(/\W/g, '_')}_flat`;
    return g.node('Flatten', [x.name], [x.shape[0], size], path, { axis: 1 });
  });

  // Sequential: its modules in order; values keep their layout between image layers.
  onnxLayer(Sequential, (m, x, g, path) => [...m].reduce((h, l, i) => g.layer(l, h, at(path, String(i))), x), { nchw: true });
}
