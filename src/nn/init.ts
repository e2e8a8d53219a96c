// Weight initialisers, filling host arrays from a seedable generator.
import { fail } from '../errors.js';
import type { Generator } from '../random.js';

export type InitName = 'he' | 'xavier' | 'zeros';

/**
 * he:     N(0, 2 / fanIn), for ReLU-like activations (He et al. 2015).
 * xavier: U(±√(6 / (fanIn + fanOut))), for tanh / sigmoid / linear (Glorot & Bengio 2010).
 */
export function initValues(kind: InitName, n: number, fanIn: number, fanOut: number, g: Generator): Float32Array {
  const v = new Float32Array(n);
  if (kind === 'zeros') return v;
  if (kind === 'he') {
    const std = Math.sqrt(2 / Math.max(fanIn, 1));
    for (let i = 0; i < n; i++) v[i] = std * g.normal();
    return v;
  }
  if (kind === 'xavier') {
    const a = Math.sqrt(6 / Math.max(fanIn + fanOut, 1));
    for (let i = 0; i < n; i++) v[i] = (2 * g.next() - 1) * a;
    return v;
  }
  return fail('init', `unknown initialiser ${JSON.stringify(kind)}; use 'he', 'xavier' or 'zeros'`);
}
