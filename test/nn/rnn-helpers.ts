// Shared by the recurrent-net tests: a random reference net, the same
// weights loaded into a lepton module, and one forward + backward of
// <gOut, out> + <gh, h_n> + <gc, c_n> compared with test/reference/rnn.ts.
import * as assert from 'uvu/assert';
import * as lp from '../../src/index.js';
import type { DeviceName } from '../../src/backends/backend.js';
import { record, relErr } from '../helpers/error.js';
import type { Rng } from '../helpers/random.js';
import { GATES, rnnForward, rnnVjp, swap01, type Mode, type RefNet } from '../reference/rnn.js';

const { nn, tensor, scope, sum, mul, add } = lp;

export interface Config { mode: Mode; I: number; H: number; L: number; D: number; T: number; B: number; bias: boolean; batchFirst: boolean; withH0: boolean; unbatched?: boolean }

export const f32 = (r: Rng, n: number, lo = -1, hi = 1) => Float64Array.from(r.array(n, lo, hi));

export function randomNet(r: Rng, c: Config, scale = 0.6): RefNet {
  const G = GATES[c.mode] * c.H, cells = [];
  for (let l = 0; l < c.L; l++) {
    for (let d = 0; d < c.D; d++) {
      const inSize = l === 0 ? c.I : c.D * c.H;
      cells.push({
        inSize, wih: f32(r, G * inSize, -scale, scale), whh: f32(r, G * c.H, -scale, scale),
        bih: c.bias ? f32(r, G, -scale, scale) : null, bhh: c.bias ? f32(r, G, -scale, scale) : null,
      });
    }
  }
  return { mode: c.mode, H: c.H, L: c.L, D: c.D, cells };
}

/** PyTorch's state-dict names of the net's parameters. */
export function stateOf(net: RefNet): Record<string, Float64Array> {
  const sd: Record<string, Float64Array> = {};
  net.cells.forEach((p, k) => {
    const sfx = `_l${Math.floor(k / net.D)}${k % net.D ? '_reverse' : ''}`;
    sd[`weight_ih${sfx}`] = p.wih; sd[`weight_hh${sfx}`] = p.whh;
    if (p.bih) { sd[`bias_ih${sfx}`] = p.bih; sd[`bias_hh${sfx}`] = p.bhh!; }
  });
  return sd;
}

export function makeModule(c: Config, device: DeviceName) {
  const o = { numLayers: c.L, bias: c.bias, batchFirst: c.batchFirst, bidirectional: c.D === 2, device };
  if (c.mode === 'LSTM') return new nn.LSTM(c.I, c.H, o);
  if (c.mode === 'GRU') return new nn.GRU(c.I, c.H, o);
  return new nn.RNN(c.I, c.H, { ...o, nonlinearity: c.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
}

export const describeConfig = (c: Config) =>
  `${c.mode} I${c.I} H${c.H} L${c.L} D${c.D} T${c.T} B${c.B}${c.bias ? '' : ' nobias'}${c.batchFirst ? ' batchFirst' : ''}${c.withH0 ? ' h0' : ''}${c.unbatched ? ' unbatched' : ''}`;

/** Forward and backward of a layer on `device` against the float64 reference; returns the output for cross-backend checks. */
export async function checkConfig(r: Rng, c: Config, device: DeviceName, tol = 2e-5): Promise<Float32Array> {
  const net = randomNet(r, c), lstm = c.mode === 'LSTM', LD = c.L * c.D, F = c.D * c.H;
  const xT = f32(r, c.T * c.B * c.I, -1.5, 1.5); // time-major
  const h0 = c.withH0 ? f32(r, LD * c.B * c.H) : null, c0 = c.withH0 && lstm ? f32(r, LD * c.B * c.H) : null;
  const gOutT = f32(r, c.T * c.B * F), gh = f32(r, LD * c.B * c.H), gc = lstm ? f32(r, LD * c.B * c.H) : null;
  const ref = rnnForward(net, xT, c.T, c.B, h0, c0);
  const vjp = rnnVjp(net, xT, c.T, c.B, h0, c0, gOutT, gh, gc);
  // The library's layout: batch-first swaps the first two axes of input and output; unbatched drops B = 1.
  const bf = c.batchFirst && !c.unbatched;
  const lay = (a: Float64Array, Fd: number) => (bf ? swap01(a, c.T, c.B, Fd) : a);
  const xShape = c.unbatched ? [c.T, c.I] : bf ? [c.B, c.T, c.I] : [c.T, c.B, c.I];
  const outShape = c.unbatched ? [c.T, F] : bf ? [c.B, c.T, F] : [c.T, c.B, F];
  const sShape = c.unbatched ? [LD, c.H] : [LD, c.B, c.H];
  const m = makeModule(c, device);
  m.loadStateDict(Object.fromEntries(Object.entries(stateOf(net)).map(([k, v]) => [k, Float32Array.from(v)])));
  const x = tensor(lay(xT, c.I), xShape, { device, requiresGrad: true });
  const h0t = h0 && tensor(h0, sShape, { device, requiresGrad: true }), c0t = c0 && tensor(c0, sShape, { device, requiresGrad: true });
  const where = `${describeConfig(c)} on ${device}`;
  const { out, hN, cN, loss } = scope(() => {
    const [out, st] = m instanceof nn.LSTM ? m.forward(x, h0t && c0t ? [h0t, c0t] : null) : (m as lp.nn.RNN).forward(x, h0t);
    const [hN, cN] = Array.isArray(st) ? st : [st, null];
    let loss = add(sum(mul(out, tensor(lay(gOutT, F), outShape, { device }))), sum(mul(hN, tensor(gh, sShape, { device }))));
    if (cN) loss = add(loss, sum(mul(cN, tensor(gc!, sShape, { device }))));
    return { out, hN, cN, loss };
  });
  assert.equal([...out.shape], outShape, `${where}: output shape`);
  assert.equal([...hN.shape], sShape, `${where}: h_n shape`);
  loss.backward();
  const cmp = async (name: string, t: lp.Tensor | null | undefined, want: Float64Array) => {
    assert.ok(t, `${where}: ${name} missing`);
    const e = relErr(await t!.data(), want);
    record(`nn.${c.mode} ${name.startsWith('d') ? 'backward' : 'forward'} · ${device}`, e, `${describeConfig(c)} ${name}`);
    assert.ok(e < tol, `${where}: ${name} relative error ${e}`);
  };
  const outData = await out.data();
  await cmp('output', out, lay(ref.out, F));
  await cmp('h_n', hN, ref.hN);
  if (lstm) await cmp('c_n', cN, ref.cN!);
  await cmp('dx', x.grad, lay(vjp.dx, c.I));
  if (h0t) await cmp('dh0', h0t.grad, vjp.dh0);
  if (c0t) await cmp('dc0', c0t.grad, vjp.dc0!);
  const params = new Map(m.namedParameters());
  for (const [k, v] of Object.entries(stateOf({ ...net, cells: vjp.grads }))) await cmp(`d${k}`, params.get(k)?.grad, v);
  lp.dispose(out, hN, cN, loss, x, h0t, c0t, x.grad, h0t?.grad, c0t?.grad);
  m.dispose();
  return outData;
}
