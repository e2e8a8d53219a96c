// Building an ONNX graph from lepton's layers: values with shapes tracked
// symbolically (a string is a dynamic dimension, e.g. 'batch'), nodes,
// initializers (the module's tensors, read from the device at the end) and
// the per-layer registry that says how each layer class is exported.
import type { Activation } from '../../backends/backend.js';
import { fail } from '../../errors.js';
import type { Module } from '../../nn/module.js';
import type { Tensor } from '../../tensor.js';
import { permute } from '../layouts.js';

export type Dim = number | string;

/** A value in the graph: its name and its shape (strings are dynamic dimensions). */
export interface OnnxValue {
  name: string;
  shape: Dim[];
  /**
   * 'nchw': a 4-D image value in ONNX's channels-first order, as Conv and
   * the pools take it; `shape` is then [N, C, H, W]. Absent: lepton's own
   * layout (NHWC for images).
   */
  layout?: 'nchw';
  /** 'int64': integer token ids (the input of an Embedding); absent: float32. */
  dtype?: 'int64';
}

export type AttrValue = number | string | number[] | { floats: number[] } | { strings: string[] };

/** How one layer class becomes ONNX nodes: from the layer's input value to its output value. */
export type OnnxLayerExport<M extends Module> = (layer: M, x: OnnxValue, g: OnnxGraph, path: string) => OnnxValue;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LayerClass<M> = abstract new (...args: any[]) => M;
const registry = new Map<LayerClass<Module>, OnnxLayerExport<Module>>();

/** Registers the export of a layer class (subclasses inherit it). One entry per layer: see docs/io.md. */
export function onnxLayer<M extends Module>(cls: LayerClass<M>, fn: OnnxLayerExport<M>, opts: { nchw?: boolean; refuses?: boolean } = {}): void {
  registry.set(cls as LayerClass<Module>, fn as OnnxLayerExport<Module>);
  if (opts.nchw) takesNchw.add(cls as LayerClass<Module>);
  if (opts.refuses) refusers.add(cls as LayerClass<Module>);
}
/** Layers whose entry only throws a specific error (recurrent layers): left out of the list of what exports. */
const refusers = new Set<LayerClass<Module>>();
/** Layers whose export takes an NCHW value as it is (convolutions, pools, containers); every other one gets NHWC back. */
const takesNchw = new Set<LayerClass<Module>>();

function exporterFor(m: Module): { fn: OnnxLayerExport<Module>; nchw: boolean } | undefined {
  for (let p = Object.getPrototypeOf(m); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const cls = p.constructor as LayerClass<Module>, fn = registry.get(cls);
    if (fn) return { fn, nchw: takesNchw.has(cls) };
  }
  return undefined;
}

export const OP = 'exportOnnx';
const ELEM_FLOAT = 1; // TensorProto.DataType.FLOAT
const ELEM_INT64 = 7; // TensorProto.DataType.INT64
/** AttributeProto.AttributeType. */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** Host values computed from several module tensors when the graph is finished (e.g. recurrent weights with rows reordered and directions stacked). */
export type Derive = (values: Float32Array[]) => Float32Array;
interface Init { name: string; dims: number[]; tensor?: Tensor; perm?: readonly number[]; values?: Float32Array; ints?: BigInt64Array; from?: { tensors: Tensor[]; fn: Derive } }

export class OnnxGraph {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly inits: Init[] = [];
  private readonly names = new Set<string>();

  constructor(readonly opset: number) {}

  /** A fresh value name based on `base`. */
  private fresh(base: string): string {
    let name = base, i = 1;
    while (this.names.has(name)) name = `${base}_${i++}`;
    this.names.add(name);
    return name;
  }

  reserve(name: string): void {
    this.names.add(name);
  }

  /** Adds a node with one output of `shape`; attributes are ints, floats, strings or int lists. */
  node(opType: string, inputs: string[], shape: Dim[], path: string, attrs: Record<string, AttrValue> = {}): OnnxValue {
    const name = this.fresh(`${path || 'model'}/${opType}`);
    const attribute = Object.entries(attrs).map(([k, v]) => typeof v === 'string' ? { name: k, type: ATTR.STRING, s: new TextEncoder().encode(v) }
      : Array.isArray(v) ? { name: k, type: ATTR.INTS, ints: v }
        : typeof v === 'object' ? ('strings' in v ? { name: k, type: ATTR.STRINGS, strings: v.strings.map((t) => new TextEncoder().encode(t)) } : { name: k, type: ATTR.FLOATS, floats: v.floats })
          : Number.isInteger(v) ? { name: k, type: ATTR.INT, i: v } : { name: k, type: ATTR.FLOAT, f: v });
    this.nodes.push({ opType, input: inputs, output: [name], name, attribute });
    return { name, shape };
  }

  /** A module tensor as an initializer (read from its device when the graph is finished), reordered by `perm`. */
  weight(t: Tensor, name: string, perm?: readonly number[]): string {
    const n = this.fresh(name);
    this.inits.push({ name: n, dims: perm ? perm.map((a) => t.shape[a]) : [...t.shape], tensor: t, perm });
    return n;
  }

  /** An initializer of `dims` computed by `fn` from the values of `tensors` (read from their devices when the graph is finished). */
  derived(name: string, dims: number[], tensors: Tensor[], fn: Derive): string {
    const n = this.fresh(name);
    this.inits.push({ name: n, dims, from: { tensors, fn } });
    return n;
  }

  /** A constant initializer from host values. */
  constant(name: string, values: number[], dims: number[] = []): string {
    const n = this.fresh(name);
    this.inits.push({ name: n, dims, values: Float32Array.from(values) });
    return n;
  }

  /** An int64 constant initializer (Reshape shapes, Slice bounds, Gather indices). */
  ints(name: string, values: number[], dims: number[] = [values.length]): string {
    const n = this.fresh(name);
    this.inits.push({ name: n, dims, ints: BigInt64Array.from(values.map(BigInt)) });
    return n;
  }

  /** Exports a sub-module through the registry. */
  layer(m: Module, x: OnnxValue, path: string): OnnxValue {
    const e = exporterFor(m);
    if (!e) {
      fail(OP, `no ONNX export for ${path ? `layer '${path}'` : 'the model'} (class ${m.constructor.name}); lepton exports `
        + `${[...registry.keys()].filter((c) => !refusers.has(c)).map((c) => c.name).join(', ')}. A new layer adds an onnxLayer() entry (src/io/onnx/layers.ts; see docs/io.md)`);
    }
    return e.fn(m, e.nchw ? x : this.nhwc(x, path), this, path);
  }

  /** `x` in ONNX's NCHW order (a Transpose from lepton's NHWC unless it is already). */
  nchw(x: OnnxValue, path: string): OnnxValue {
    if (x.layout === 'nchw') return x;
    if (x.shape.length !== 4) fail(OP, `layer '${path || 'the model'}' needs a 4-D image input [N, H, W, C] (channels last), got [${x.shape.join(', ')}]`);
    const [n, h, w, c] = x.shape;
    return { ...this.node('Transpose', [x.name], [n, c, h, w], `${path || 'model'}.to_nchw`, { perm: [0, 3, 1, 2] }), layout: 'nchw' };
  }

  /** `x` back in lepton's NHWC order, where a layer (Flatten, Linear) or the graph's output needs it. */
  nhwc(x: OnnxValue, path: string): OnnxValue {
    if (x.layout !== 'nchw') return x;
    const [n, c, h, w] = x.shape;
    return this.node('Transpose', [x.name], [n, h, w, c], `${path || 'model'}.to_nhwc`, { perm: [0, 2, 3, 1] });
  }

  /** A fused activation of lepton's ('none' adds nothing). GELU is the tanh form: one node from opset 20, composed before. */
  activation(act: Activation, x: OnnxValue, path: string): OnnxValue {
    const p = path ? `${path}.${act}` : act;
    switch (act) {
      case 'none': return x;
      case 'relu': return this.node('Relu', [x.name], x.shape, p);
      case 'tanh': return this.node('Tanh', [x.name], x.shape, p);
      case 'sigmoid': return this.node('Sigmoid', [x.name], x.shape, p);
      case 'gelu': {
        if (this.opset >= 20) return this.node('Gelu', [x.name], x.shape, p, { approximate: 'tanh' });
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        const c = (v: number) => this.constant(`${p}.c`, [v]);
        const mul = (a: string, b: string) => this.node('Mul', [a, b], x.shape, p).name;
        const add = (a: string, b: string) => this.node('Add', [a, b], x.shape, p).name;
        const x3 = mul(mul(x.name, x.name), x.name);
        const inner = mul(add(x.name, mul(x3, c(0.044715))), c(Math.sqrt(2 / Math.PI)));
        const t = this.node('Tanh', [inner], x.shape, p).name;
        return { name: mul(mul(x.name, add(t, c(1))), c(0.5)), shape: x.shape };
      }
    }
    return fail(OP, `activation '${act}' has no ONNX export`);
  }

  /** The GraphProto: reads every module tensor from its device. */
  async finish(input: OnnxValue, output: OnnxValue): Promise<Record<string, unknown>> {
    // The graph gives lepton's layout back, as the model's forward does.
    output = this.nhwc(output, 'output');
    if (output.name === input.name) output = this.node('Identity', [input.name], input.shape, 'output');
    // The graph's output is called 'output' (session.run(...).output), whatever node made it.
    if (!this.names.has('output') && this.inits.every((i) => i.name !== output.name)) {
      for (const n of this.nodes as { input: string[]; output: string[] }[]) {
        n.input = n.input.map((s) => s === output.name ? 'output' : s);
        n.output = n.output.map((s) => s === output.name ? 'output' : s);
      }
      output = { name: 'output', shape: output.shape };
    }
    const initializer = await Promise.all(this.inits.map(async (i) => {
      if (i.ints) return { name: i.name, dims: i.dims, dataType: ELEM_INT64, rawData: new Uint8Array(i.ints.buffer) };
      let v = i.values ?? (i.from ? i.from.fn(await Promise.all(i.from.tensors.map((t) => t.data()))) : await i.tensor!.data());
      if (i.perm) v = permute(v, i.tensor!.shape, i.perm);
      return { name: i.name, dims: i.dims, dataType: ELEM_FLOAT, rawData: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) };
    }));
    return { name: 'lepton', node: this.nodes, initializer, input: [valueInfo(input)], output: [valueInfo(output)] };
  }
}

function valueInfo(v: OnnxValue) {
  const dim = v.shape.map((d) => typeof d === 'string' ? { dimParam: d } : { dimValue: d });
  return { name: v.name, type: { tensorType: { elemType: v.dtype === 'int64' ? ELEM_INT64 : ELEM_FLOAT, shape: { dim } } } };
}
