// Checks one op on every device three ways: forward against the float64
// reference, backward (through the library's autograd) against the
// reference VJP, and the reference VJP against central finite differences of
// the reference forward in float64. Backward runs after the forward's scope
// has freed every intermediate and the inputs are disposed (the graph must
// own what it reads), and must leave no storage behind.
import * as assert from 'uvu/assert';
import type { DeviceName } from '../../src/backends/backend.js';
import { tensor } from '../../src/creation.js';
import { scope } from '../../src/memory.js';
import { Storage, type Tensor } from '../../src/tensor.js';
import type { Nd } from '../reference/ops.js';
import { devices } from './backends.js';
import { record, relErr } from './error.js';
import type { Rng } from './random.js';

export interface OpCase {
  name: string;
  /** Inputs as float32-representable values (the reference sees the same numbers). */
  inputs: Nd[];
  /** Which inputs get a gradient; default all. */
  grads?: boolean[];
  lib: (xs: Tensor[]) => Tensor;
  ref: (xs: Nd[]) => Nd;
  vjp: (xs: Nd[], g: Nd) => Nd[];
  /** Skip finite differences (kinks, ties, discrete inputs). */
  noFd?: boolean;
  tol?: number;
  /** Gradient tolerance, when the derivative is computed from a float32 output (see unary tests). */
  gradTol?: number;
  /** What the output is accurate relative to, where its terms can cancel (see relErr); default |ref|. */
  scale?: (xs: Nd[]) => Nd;
  /** The same for each gradient; default |vjp|. */
  gradScale?: (xs: Nd[], g: Nd) => Nd[];
}

/** A random float32-representable Nd. */
export function rnd(r: Rng, shape: number[], lo = -1, hi = 1): Nd {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float64Array.from(r.array(n, lo, hi)), shape };
}

/**
 * Central differences of <g, ref(x)>. Where x lies within h of a kink (relu at
 * 0, a max tie, |x| at 0) the difference straddles it and means nothing: the
 * second difference gives it away (~h there, ~h² on smooth ground), and that
 * element takes `vjp`'s value instead.
 */
function finiteDifference(c: OpCase, g: Nd, vjp: Nd[]): Nd[] {
  const h = 1e-6;
  const f0 = c.ref(c.inputs).data;
  return c.inputs.map((x, k) => {
    const d = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const orig = x.data[i];
      x.data[i] = orig + h;
      const up = c.ref(c.inputs).data;
      x.data[i] = orig - h;
      const down = c.ref(c.inputs).data;
      x.data[i] = orig;
      let s = 0, curve = 0, size = 0;
      for (let j = 0; j < g.data.length; j++) {
        s += g.data[j] * (up[j] - down[j]);
        curve += g.data[j] * (up[j] - 2 * f0[j] + down[j]);
        size += Math.abs(g.data[j]) * (Math.abs(up[j]) + 1);
      }
      d[i] = Math.abs(curve) > 1e-9 * size ? vjp[k].data[i] : s / (2 * h);
    }
    return { data: d, shape: x.shape };
  });
}

export async function checkOp(c: OpCase, r: Rng, family: string): Promise<void> {
  const expect = c.ref(c.inputs);
  const g: Nd = { data: Float64Array.from(r.array(expect.data.length)), shape: expect.shape };
  const vjp = c.vjp(c.inputs, g);
  const need = c.grads ?? c.inputs.map(() => true);
  const scale = c.scale?.(c.inputs).data ?? expect.data;
  const gradScale = (c.gradScale?.(c.inputs, g) ?? vjp).map((v) => v.data);
  const tol = c.tol ?? 1e-5;

  if (!c.noFd && c.inputs.every((x) => x.data.length <= 400)) {
    const fd = finiteDifference(c, g, vjp);
    fd.forEach((d, i) => {
      if (!need[i]) return;
      const err = relErr(d.data, vjp[i].data, gradScale[i]);
      record(`${family} · reference VJP vs finite differences`, err, `${c.name} input ${i}`);
      assert.ok(err < 1e-6, `${c.name}: reference VJP of input ${i} disagrees with finite differences (${err})`);
    });
  }

  for (const device of devices as DeviceName[]) {
    // No await until the storage count is taken: no finalizer can run in between.
    const before = Storage.live;
    const { y, xs } = scope(() => {
      const xs = c.inputs.map((x, i) => tensor(x.data, x.shape, { device, requiresGrad: need[i] }));
      return { y: c.lib(xs), xs };
    });
    assert.equal([...y.shape], expect.shape, `${c.name} on ${device}: output shape`);
    // The graph owns what backward reads: the scope has freed every intermediate, and the inputs go too.
    for (const x of xs) x.dispose();
    const gT = tensor(g.data, g.shape, { device });
    y.backward(gT);
    gT.dispose();
    // Left: y and the gradients. The graph and every temporary of a gradient formula are freed.
    const held = new Set([y, ...xs.map((x) => x.grad)].filter((t) => t !== null).map((t) => t.live('test', 'held')));
    assert.is(Storage.live - before, held.size, `${c.name} on ${device}: storage left after backward`);
    const out = await y.data();
    const grads = await Promise.all(xs.map((x) => (x.grad ? x.grad.data() : Promise.resolve(null))));
    for (const x of xs) x.grad?.dispose();
    y.dispose();
    const err = relErr(out, expect.data, scale);
    record(`${family} forward · ${device}`, err, c.name);
    assert.ok(err < tol, `${c.name} on ${device}: forward relative error ${err}`);
    grads.forEach((gr, i) => {
      if (!need[i]) { assert.is(gr, null, `${c.name} on ${device}: input ${i} must get no gradient`); return; }
      assert.ok(gr, `${c.name} on ${device}: input ${i} got no gradient`);
      assert.equal(gr!.length, vjp[i].data.length, `${c.name} on ${device}: gradient ${i} size`);
      const e = relErr(gr!, vjp[i].data, gradScale[i]);
      record(`${family} backward · ${device}`, e, `${c.name} input ${i}`);
      assert.ok(e < (c.gradTol ?? tol), `${c.name} on ${device}: gradient of input ${i} relative error ${e}`);
    });
  }
}
