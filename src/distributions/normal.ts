// Normal (torch.distributions.Normal): independent Gaussians with elementwise
// loc and scale. A diagonal Gaussian policy sums logProb and entropy over its
// action axis. rsample is reparameterised (loc + scale·ε), so gradients reach
// loc and scale through the draw.
import { noGrad } from '../autograd.js';
import { tensor } from '../creation.js';
import { fail, fmtShape } from '../errors.js';
import { add, log, mul, square, sub, div } from '../ops/elementwise.js';
import { broadcastTo } from '../ops/shape.js';
import { arg } from '../ops/util.js';
import { describe } from '../options.js';
import { getBackend } from '../backends/registry.js';
import { Tensor } from '../tensor.js';
import { broadcastShapes, hostNoise, sampleOptions, type SampleOptions } from './common.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export class Normal {
  /** The mean, broadcast to `batchShape`. */
  readonly loc: Tensor;
  /** The standard deviation (> 0), broadcast to `batchShape`. */
  readonly scale: Tensor;
  readonly batchShape: number[];

  /** `loc` and `scale` are tensors or numbers and broadcast together; a number `scale` must be > 0. */
  constructor(loc: Tensor | number, scale: Tensor | number) {
    const op = 'Normal';
    if (typeof scale === 'number' && !(scale > 0 && Number.isFinite(scale))) fail(op, `argument 'scale' must be a finite number > 0, got ${describe(scale)}`);
    if (typeof loc === 'number' && !Number.isFinite(loc)) fail(op, `argument 'loc' must be a finite number, got ${describe(loc)}`);
    if (typeof loc !== 'number') arg(op, 'loc', loc);
    if (typeof scale !== 'number') arg(op, 'scale', scale);
    if (loc instanceof Tensor && scale instanceof Tensor && loc.backend !== scale.backend) {
      fail(op, `'loc' is on ${loc.device} and 'scale' on ${scale.device}; move one with await t.to('${loc.device}')`);
    }
    const device = loc instanceof Tensor ? loc.device : scale instanceof Tensor ? scale.device : getBackend().name;
    const locT = typeof loc === 'number' ? tensor(loc, [], { device }) : loc;
    const scaleT = typeof scale === 'number' ? tensor(scale, [], { device }) : scale;
    this.batchShape = broadcastShapes(op, locT.shape, scaleT.shape, `'loc' and 'scale'`);
    this.loc = broadcastTo(locT, this.batchShape);
    this.scale = broadcastTo(scaleT, this.batchShape);
  }

  get mean(): Tensor { return this.loc; }
  get stddev(): Tensor { return this.scale; }
  get variance(): Tensor { return square(this.scale); }

  /** loc + scale·ε with ε ~ N(0, 1) from the host stream; shape `[...sampleShape, ...batchShape]`. */
  rsample(opts?: SampleOptions): Tensor {
    return this.draw('Normal.rsample', opts);
  }

  /** A draw outside the graph (no gradient), as torch's `sample`. */
  sample(opts?: SampleOptions): Tensor {
    return noGrad(() => this.draw('Normal.sample', opts));
  }

  private draw(op: string, opts: SampleOptions | undefined): Tensor {
    const { sampleShape, gen } = sampleOptions(op, opts);
    const eps = hostNoise(this.loc, [...sampleShape, ...this.batchShape], () => gen.normal());
    return add(this.loc, mul(this.scale, eps));
  }

  /** log N(value; loc, scale) = −(value − loc)² / (2 scale²) − log scale − log √(2π), elementwise. */
  logProb(value: Tensor | number): Tensor {
    const op = 'Normal.logProb';
    const v = typeof value === 'number' ? tensor(value, [], { device: this.loc.device }) : arg(op, 'value', value);
    if (v.backend !== this.loc.backend) fail(op, `'value' is on ${v.device} but the distribution on ${this.loc.device}; move it with await t.to('${this.loc.device}')`);
    broadcastShapes(op, v.shape, this.batchShape, `value ${fmtShape(v.shape)} against the batch shape`);
    const z = div(sub(v, this.loc), this.scale);
    return sub(mul(square(z), -0.5), add(log(this.scale), HALF_LOG_2PI));
  }

  /** ½ + ½ log(2π) + log scale, elementwise (shape `batchShape`). */
  entropy(): Tensor {
    return add(log(this.scale), 0.5 + HALF_LOG_2PI);
  }
}
