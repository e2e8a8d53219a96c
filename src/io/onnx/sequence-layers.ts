// ONNX exports of the sequence layers: Embedding (Gather on int64 token ids),
// RMSNorm (composed: opset 17 has no RMSNormalization), MultiHeadAttention
// (unfused: MatMul, Softmax with a constant causal mask), TransformerBlock and
// TransformerLM. Inference graphs only (eval, no key/value cache). The
// sequence length must be a fixed number where a causal mask or positional
// rows depend on it; the batch stays dynamic (Reshape's 0 copies it).
import { fail } from '../../errors.js';
import { MultiHeadAttention } from '../../nn/attention.js';
import { Embedding } from '../../nn/embedding.js';
import type { Module } from '../../nn/module.js';
import { RMSNorm } from '../../nn/norm.js';
import { Sequential } from '../../nn/sequential.js';
import { TransformerBlock } from '../../nn/transformer.js';
import { TransformerLM } from '../../nn/transformer-lm.js';
import { RMS_EPS } from '../../ops/norm.js';
import { onnxLayer, OP, type OnnxGraph, type OnnxValue } from './graph.js';

const at = (path: string, name: string) => path ? `${path}.${name}` : name;
const where = (path: string, what: string) => `layer '${path || 'the model'}' (${what})`;
const fmt = (s: readonly (number | string)[]) => `[${s.join(', ')}]`;

/** Whether `m` reads token ids (its graph input is int64): an Embedding or a TransformerLM first. */
export function takesIds(m: Module): boolean {
  if (m instanceof Embedding || m instanceof TransformerLM) return true;
  if (m instanceof Sequential) {
    const first = [...m][0];
    return first !== undefined && takesIds(first);
  }
  return false;
}

/** An Embedding's lookup: Gather of the weight's rows by the int64 ids. */
function gather(l: Embedding, ids: OnnxValue, g: OnnxGraph, path: string): OnnxValue {
  if (ids.dtype !== 'int64') {
    fail(OP, `${where(path, `Embedding ${l.numEmbeddings} × ${l.embeddingDim}`)} needs token ids; an Embedding must be the model's first layer (the graph input is then int64 ids)`);
  }
  return g.node('Gather', [g.weight(l.weight, at(path, 'weight')), ids.name], [...ids.shape, l.embeddingDim], path, { axis: 0 });
}

/** mean(x²) over the trailing `n` axes; ReduceMean takes axes as an attribute up to opset 17, as an input from 18. */
function meanSquare(x: OnnxValue, n: number, g: OnnxGraph, path: string): OnnxValue {
  const axes = Array.from({ length: n }, (_, i) => i - n);
  const shape = [...x.shape.slice(0, -n), ...axes.map(() => 1)];
  const sq = g.node('Mul', [x.name, x.name], x.shape, path);
  return g.opset >= 18 ? g.node('ReduceMean', [sq.name, g.ints(at(path, 'axes'), axes)], shape, path, { keepdims: 1 })
    : g.node('ReduceMean', [sq.name], shape, path, { axes, keepdims: 1 });
}

/** Self-attention over x [batch, seq, embedDim]: the unfused composition of MultiHeadAttention's forward. */
function attention(l: MultiHeadAttention, x: OnnxValue, g: OnnxGraph, path: string): OnnxValue {
  const E = l.embedDim, H = l.numHeads, Hkv = l.numKVHeads, D = l.headDim, G = H / Hkv;
  const what = `MultiHeadAttention ${E}, ${H} heads`;
  const [B, S] = x.shape;
  if (x.shape.length !== 3 || x.shape[2] !== E) fail(OP, `${where(path, what)} gets an input of shape ${fmt(x.shape)}; needs [batch, seq, ${E}]`);
  if (typeof S !== 'number') fail(OP, `${where(path, what)} needs a fixed sequence length (the reshapes and the causal mask depend on it), got ${fmt(x.shape)}`);
  const n = E + 2 * Hkv * D;
  let qkv = g.node('MatMul', [x.name, g.weight(l.in_proj_weight, at(path, 'in_proj_weight'))], [B, S, n], path);
  if (l.in_proj_bias) qkv = g.node('Add', [qkv.name, g.weight(l.in_proj_bias, at(path, 'in_proj_bias'))], [B, S, n], path);
  // Heads of the fused projection: columns [start·D, (start + count)·D) as [batch, count, seq, D].
  const heads = (start: number, count: number, name: string) => {
    const p = at(path, name);
    const cols = g.node('Slice', [qkv.name, g.ints(`${p}.starts`, [start * D]), g.ints(`${p}.ends`, [(start + count) * D]), g.ints(`${p}.axes`, [2])], [B, S, count * D], p);
    const r = g.node('Reshape', [cols.name, g.ints(`${p}.shape`, [0, S, count, D])], [B, S, count, D], p);
    return g.node('Transpose', [r.name], [B, count, S, D], p, { perm: [0, 2, 1, 3] });
  };
  const q = heads(0, H, 'q'), k = heads(H, Hkv, 'k'), v = heads(H + Hkv, Hkv, 'v');
  // Query heads kv·G … kv·G + G − 1 share key head kv: one taller query block per key head, as lepton's weights().
  const qg = g.node('Reshape', [q.name, g.ints(at(path, 'q.grouped'), [0, Hkv, G * S, D])], [B, Hkv, G * S, D], path);
  const kt = g.node('Transpose', [k.name], [B, Hkv, D, S], path, { perm: [0, 1, 3, 2] });
  const s0 = g.node('MatMul', [qg.name, kt.name], [B, Hkv, G * S, S], path);
  let s = g.node('Mul', [s0.name, g.constant(at(path, 'scale'), [1 / Math.sqrt(D)])], [B, Hkv, G * S, S], path);
  if (l.causal) {
    // Additive mask: -inf above the diagonal. [G·S, S] broadcasts over batch and key heads (row r is query r mod S).
    const m: number[] = [];
    for (let r = 0; r < G * S; r++) for (let j = 0; j < S; j++) m.push(j > r % S ? -Infinity : 0);
    s = g.node('Add', [s.name, g.constant(at(path, 'causal_mask'), m, [G * S, S])], s.shape, path);
  }
  const p = g.node('Softmax', [s.name], s.shape, path, { axis: -1 });
  const o = g.node('MatMul', [p.name, v.name], [B, Hkv, G * S, D], path);
  const oh = g.node('Reshape', [o.name, g.ints(at(path, 'o.heads'), [0, H, S, D])], [B, H, S, D], path);
  const ot = g.node('Transpose', [oh.name], [B, S, H, D], path, { perm: [0, 2, 1, 3] });
  const merged = g.node('Reshape', [ot.name, g.ints(at(path, 'o.shape'), [0, S, E])], [B, S, E], path);
  return g.layer(l.out_proj, merged, at(path, 'out_proj'));
}

let registered = false;

export function registerSequenceLayers(): void {
  if (registered) return;
  registered = true;

  onnxLayer(Embedding, (l, x, g, path) => gather(l, x, g, path));

  // RMSNorm: x / sqrt(mean(x²) + eps) · weight, eps None → float32's epsilon as lepton's rmsNorm.
  onnxLayer(RMSNorm, (l, x, g, path) => {
    const ns = l.normalizedShape;
    const tail = x.shape.slice(x.shape.length - ns.length);
    if (x.shape.length < ns.length || tail.some((d, i) => typeof d === 'number' && d !== ns[i])) {
      fail(OP, `${where(path, `RMSNorm ${fmt(ns)}`)} gets an input of shape ${fmt(x.shape)}; needs [*, ${ns.join(', ')}]`);
    }
    const ms = meanSquare(x, ns.length, g, path);
    const rms = g.node('Sqrt', [g.node('Add', [ms.name, g.constant(at(path, 'eps'), [l.eps ?? RMS_EPS])], ms.shape, path).name], ms.shape, path);
    const y = g.node('Div', [x.name, rms.name], x.shape, path);
    return l.weight ? g.node('Mul', [y.name, g.weight(l.weight, at(path, 'weight'))], x.shape, path) : y;
  });

  onnxLayer(MultiHeadAttention, attention);

  // TransformerBlock (pre-norm; dropouts are the identity in eval): x + attn(norm1(x)), then + linear2(gelu(linear1(norm2(·)))).
  onnxLayer(TransformerBlock, (l, x, g, path) => {
    const a = g.layer(l.self_attn, g.layer(l.norm1, x, at(path, 'norm1')), at(path, 'self_attn'));
    const x1 = g.node('Add', [x.name, a.name], x.shape, path);
    const h = g.layer(l.linear1, g.layer(l.norm2, x1, at(path, 'norm2')), at(path, 'linear1'));
    const m = g.layer(l.linear2, h, at(path, 'linear2'));
    return g.node('Add', [x1.name, m.name], x.shape, path);
  });

  // TransformerLM: token rows + positional rows 0..seq−1 (a constant Gather), the blocks, the final norm, lm_head.
  onnxLayer(TransformerLM, (l, ids, g, path) => {
    const [B, S] = ids.shape;
    const what = `TransformerLM, maxSeqLen ${l.maxSeqLen}`;
    if (ids.shape.length !== 2) fail(OP, `${where(path, what)} needs token ids [batch, seq], got ${fmt(ids.shape)}`);
    if (typeof S !== 'number' || S > l.maxSeqLen) fail(OP, `${where(path, what)} needs a fixed sequence length of at most ${l.maxSeqLen}, got ${String(S)}`);
    const tok = gather(l.token_embedding, ids, g, at(path, 'token_embedding'));
    const pp = at(path, 'position_embedding');
    const pos = g.node('Gather', [g.weight(l.position_embedding.weight, at(pp, 'weight')), g.ints(at(pp, 'positions'), Array.from({ length: S }, (_, i) => i))], [S, l.dModel], pp, { axis: 0 });
    let x = g.node('Add', [tok.name, pos.name], [B, S, l.dModel], path);
    l.layers.forEach((b, i) => { x = g.layer(b, x, at(path, `layers.${i}`)); });
    return g.layer(l.lm_head, g.layer(l.norm, x, at(path, 'norm')), at(path, 'lm_head'));
  });
}
