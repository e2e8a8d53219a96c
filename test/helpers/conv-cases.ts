// Random convolution geometries for the kernel tests: dense, grouped and
// depthwise convolutions; 1×1 kernels; kernels as large as the padded input;
// strides, dilations and uneven padding; odd and prime sizes. Each draw is
// valid (every output reads at least the padded input).
import { poolOut, type ConvGeom, type PoolGeom } from '../reference/conv.js';
import type { Rng } from './random.js';

const CHANNELS = [1, 2, 3, 4, 5, 7, 8, 9, 11, 13, 16, 17];
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13];

export type ConvKind = 'dense' | 'depthwise' | 'depthwise3' | 'grouped' | '1x1' | 'whole' | 'strided' | 'grey';
export const KINDS: ConvKind[] = ['dense', 'depthwise', 'depthwise3', 'grouped', '1x1', 'whole', 'strided', 'grey'];

/** One geometry of the given kind; `small` keeps it modest (WebGPU on a CPU adapter). */
export function randomGeom(r: Rng, kind: ConvKind, small = false): ConvGeom {
  const N = r.int(1, small ? 2 : 3);
  let groups = 1, Cg = r.pick(CHANNELS), Og = r.pick(CHANNELS);
  if (kind === 'depthwise' || kind === 'depthwise3') { groups = r.int(2, small ? 12 : 24); Cg = 1; Og = 1; }
  if (kind === 'grouped') { groups = r.pick([2, 3, 4]); Cg = r.int(1, 9); Og = r.int(1, 9); }
  let Kh = r.int(1, 5), Kw = r.int(1, 5), sh = 1, sw = 1, dh = 1, dw = 1;
  if (kind === '1x1') { Kh = 1; Kw = 1; }
  if (kind === 'strided') { sh = r.int(1, 3); sw = r.int(1, 3); dh = r.int(1, 3); dw = r.int(1, 3); }
  if (kind === 'depthwise' || kind === 'dense') { sh = r.pick([1, 1, 2]); sw = r.pick([1, 1, 2]); }
  // Depthwise, three taps across at stride 1 (the WASM forward computes four pixels of a row at once).
  if (kind === 'depthwise3') { Kw = 3; sh = r.pick([1, 2]); dh = r.int(1, 2); }
  // One input channel at stride 1 across (a first layer on grey images: the WASM forward reads input rows in place).
  if (kind === 'grey') { Cg = 1; Kh = r.int(1, 7); Kw = r.int(1, 7); sh = r.int(1, 2); dh = r.int(1, 2); dw = r.int(1, 3); }
  const eh = (Kh - 1) * dh + 1, ew = (Kw - 1) * dw + 1;
  const pads = [r.int(0, eh - 1), r.int(0, eh - 1), r.int(0, ew - 1), r.int(0, ew - 1)];
  // Grey: sometimes a padding wider than the window, so whole tiles of outputs see only padding.
  if (kind === 'grey' && r.next() < 0.5) { pads[2] = r.int(ew, ew + 8); pads[3] = r.int(0, ew + 8); }
  if (kind === '1x1' && r.next() < 0.5) pads.fill(0);
  // The input height: any size the padded window fits in; 'whole' makes the window exactly the padded input.
  const fit = (e: number, p0: number, p1: number) => {
    const least = Math.max(1, e - p0 - p1);
    if (kind === 'whole') return least;
    return Math.max(least, r.pick(SIZES.filter((s) => !small || s <= 9)));
  };
  const H = fit(eh, pads[0], pads[1]), W = fit(ew, pads[2], pads[3]);
  const Ho = Math.floor((H + pads[0] + pads[1] - eh) / sh) + 1, Wo = Math.floor((W + pads[2] + pads[3] - ew) / sw) + 1;
  return { N, H, W, C: groups * Cg, Ho, Wo, O: groups * Og, Kh, Kw, sh, sw, dh, dw, padTop: pads[0], padLeft: pads[2], groups };
}

export const describeGeom = (g: ConvGeom) =>
  `x[${g.N},${g.H},${g.W},${g.C}] w[${g.Kh},${g.Kw},${g.C / g.groups},${g.O}] → [${g.Ho},${g.Wo}] s${g.sh},${g.sw} d${g.dh},${g.dw} pad ${g.padTop},${g.padLeft} g${g.groups}`;

/** One pooling geometry (padding at most half the window, as PyTorch requires). */
export function randomPoolGeom(r: Rng, small = false, dilated = false): PoolGeom {
  const N = r.int(1, 2), C = r.pick(CHANNELS);
  const Kh = r.int(1, 4), Kw = r.int(1, 4);
  const sh = r.pick([1, 2, Kh, 3]), sw = r.pick([1, 2, Kw, 3]);
  const ph = r.int(0, Kh >> 1), pw = r.int(0, Kw >> 1);
  // Max pooling: dilation in half the cases (windows up to 10 wide).
  const [dh, dw] = dilated && r.int(0, 1) === 1 ? [r.int(1, 3), r.int(1, 3)] : [1, 1];
  const eh = (Kh - 1) * dh + 1, ew = (Kw - 1) * dw + 1;
  const H = Math.max(eh - 2 * ph, r.pick(SIZES.filter((s) => !small || s <= 9))), W = Math.max(ew - 2 * pw, r.pick(SIZES.filter((s) => !small || s <= 9)));
  // A third in ceil mode: the last windows may run past the bottom (right) padding.
  const ceil = r.int(0, 2) === 0;
  return { N, H, W, C, Kh, Kw, sh, sw, padTop: ph, padLeft: pw, ...(dilated ? { dh, dw } : {}), Ho: poolOut(H, eh, sh, ph, ceil), Wo: poolOut(W, ew, sw, pw, ceil) };
}

export const describePool = (g: PoolGeom) => {
  const dh = g.dh ?? 1, dw = g.dw ?? 1, eh = (g.Kh - 1) * dh + 1, ew = (g.Kw - 1) * dw + 1;
  return `x[${g.N},${g.H},${g.W},${g.C}] k${g.Kh}x${g.Kw} s${g.sh},${g.sw} pad ${g.padTop},${g.padLeft}${dh !== 1 || dw !== 1 ? ` dil ${dh},${dw}` : ''} → [${g.Ho},${g.Wo}]`
    + `${g.Ho !== poolOut(g.H, eh, g.sh, g.padTop) || g.Wo !== poolOut(g.W, ew, g.sw, g.padLeft) ? ' ceil' : ''}`;
};
