// Checks one nn layer on one device: its parameters loaded with given values,
// the forward against a float64 reference, and backward (through the
// module's own parameters) against the reference VJP, for x and every
// parameter that has a gradient.
import * as assert from 'uvu/assert';
import type { DeviceName } from '../../src/backends/backend.js';
import { tensor } from '../../src/creation.js';
import { scope } from '../../src/memory.js';
import type { Module } from '../../src/nn/module.js';
import type { Nd } from '../reference/ops.js';
import { record, relErr } from './error.js';
import type { Rng } from './random.js';

export interface LayerCase {
  name: string;
  device: DeviceName;
  module: Module;
  /** Values for parameters and buffers, by state-dict key. */
  state: Record<string, Nd>;
  x: Nd;
  ref: Nd;
  /** The reference VJP of a random g: 'x' and parameter keys. */
  vjp: (g: Nd) => Record<string, Nd>;
  tol?: number;
}

export async function checkLayer(c: LayerCase, r: Rng, family: string): Promise<void> {
  const tol = c.tol ?? 1e-5;
  c.module.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, Float32Array.from(v.data)])), { strict: false });
  const x = tensor(c.x.data, c.x.shape, { device: c.device, requiresGrad: true });
  const y = scope(() => c.module.forward(x));
  assert.equal([...y.shape], c.ref.shape, `${c.name} on ${c.device}: output shape`);
  const g: Nd = { data: Float64Array.from(r.array(c.ref.data.length)), shape: c.ref.shape };
  const gT = tensor(g.data, g.shape, { device: c.device });
  y.backward(gT);
  gT.dispose();
  const out = await y.data();
  y.dispose();
  const err = relErr(out, c.ref.data);
  record(`${family} forward · ${c.device}`, err, c.name);
  assert.ok(err < tol, `${c.name} on ${c.device}: forward relative error ${err}`);
  const want = c.vjp(g);
  const params = new Map(c.module.namedParameters());
  for (const [k, v] of Object.entries(want)) {
    const t = k === 'x' ? x : params.get(k);
    assert.ok(t?.grad, `${c.name} on ${c.device}: ${k} got no gradient`);
    const e = relErr(await t!.grad!.data(), v.data);
    record(`${family} backward · ${c.device}`, e, `${c.name} ${k}`);
    assert.ok(e < tol, `${c.name} on ${c.device}: gradient of ${k} relative error ${e}`);
  }
  x.grad?.dispose();
  x.dispose();
  c.module.dispose();
}
