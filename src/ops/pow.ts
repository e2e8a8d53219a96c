// pow(base, exponent): C's pow, as PyTorch (x^0 = 1 and 1^y = 1 even for NaN;
// NaN for a negative base and a non-integer exponent; signed zeros and
// infinities by the parity of an integer exponent), one kernel (BINARY pow).
import { record } from '../autograd.js';
import { fail } from '../errors.js';
import { scope } from '../memory.js';
import { describe } from '../options.js';
import { broadcast } from '../shape.js';
import { Tensor } from '../tensor.js';
import { binaryRaw, full, unaryRaw } from './elementwise.js';
import { sumTo } from './reduce.js';
import { arg, deviceOf } from './util.js';

/**
 * `base ** exponent`, elementwise with broadcasting; either may be a number.
 * Gradients as PyTorch's: d/dbase = exponent · base^(exponent−1), 0 where
 * the exponent is 0; d/dexponent = result · log(base), 0 where base = 0 and
 * exponent >= 0.
 */
export function pow(base: Tensor | number, exponent: Tensor | number): Tensor {
  for (const [name, v] of [['base', base], ['exponent', exponent]] as const) {
    if (!(v instanceof Tensor) && typeof v !== 'number') fail('pow', `argument '${name}' must be a Tensor or a number, got ${describe(v)}`);
  }
  if (typeof base === 'number' && typeof exponent === 'number') fail('pow', 'needs at least one Tensor operand (for two numbers use Math.pow)');
  const tensors: Record<string, Tensor> = {};
  if (base instanceof Tensor) tensors.base = arg('pow', 'base', base);
  if (exponent instanceof Tensor) tensors.exponent = arg('pow', 'exponent', exponent);
  const be = deviceOf('pow', tensors);
  if (base instanceof Tensor && exponent instanceof Tensor) broadcast('pow', base.shape, exponent.shape);
  const y = scope(() => binaryRaw('pow', typeof base === 'number' ? full(be, [], base) : base,
    typeof exponent === 'number' ? full(be, [], exponent) : exponent, 'pow'));
  const inputs = [base, exponent].filter((t): t is Tensor => t instanceof Tensor);
  const shapes = inputs.map((t) => t.shape), first = inputs.map((t) => t === base);
  const b0 = typeof base === 'number' ? base : null, e0 = typeof exponent === 'number' ? exponent : null;
  return record('pow', y, inputs, [base instanceof Tensor ? base : null, exponent instanceof Tensor ? exponent : null, y], (g, [A0, B0, Y], needs) => {
    const dev = g.backend;
    const A = A0 ?? full(dev, [], b0!), B = B0 ?? full(dev, [], e0!);
    return inputs.map((_, i) => {
      if (!needs[i]) return null;
      let gr: Tensor;
      if (first[i]) {
        // exponent · base^(exponent − 1), kept only where the exponent is non-zero.
        const d = binaryRaw('mul', B, binaryRaw('pow', A, unaryRaw('affine', B, 1, -1)));
        gr = binaryRaw('mask', binaryRaw('mul', g, d), B);
      } else {
        // result · log(base), except 0 where base = 0 and exponent >= 0.
        const zeroBase = binaryRaw('mul', binaryRaw('eq', A, full(dev, [], 0)), binaryRaw('ge', B, full(dev, [], 0)));
        gr = binaryRaw('mask', binaryRaw('mul', g, binaryRaw('mul', Y!, unaryRaw('log', A))), unaryRaw('affine', zeroBase, -1, 1));
      }
      return sumTo(gr, shapes[i]);
    });
  });
}
