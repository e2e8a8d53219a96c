// The classic interleaved-spirals classification set, made in code.
import { fail } from '../errors.js';
import { finite, integer, number, options, type OptionSpec } from '../options.js';
import { Generator } from '../random.js';

export interface Dataset2D {
  /** Points, row-major [n, 2]. */
  x: Float32Array;
  /** Class id of each point. */
  y: Int32Array;
  n: number;
  classes: number;
}

export interface SpiralOptions {
  /** Arms (classes), >= 2. Default 3. */
  classes?: number;
  /** Gaussian jitter of the angle, in radians. Default 0.2. */
  noise?: number;
  /** Revolutions of each arm. Default 0.75. */
  turns?: number;
  /** Default 0. */
  seed?: number;
}

const SPEC: OptionSpec<SpiralOptions> = { classes: integer(2), noise: number(0, Infinity, '[)'), turns: finite, seed: finite };

/**
 * `classes` spiral arms of `pointsPerClass` points each. Arm k starts at the
 * origin at angle 2πk/classes and winds `turns` revolutions out to radius 1;
 * `noise` is Gaussian jitter of the angle, in radians. Seeded: the same
 * arguments give the same data.
 */
export function spiral(pointsPerClass: number, options_?: SpiralOptions): Dataset2D {
  const opts = options('data.spiral', options_, SPEC);
  const classes = opts.classes ?? 3, noise = opts.noise ?? 0.2, turns = opts.turns ?? 0.75, seed = opts.seed ?? 0;
  if (!Number.isInteger(pointsPerClass) || pointsPerClass < 1) fail('data.spiral', `argument 'pointsPerClass' must be a positive integer, got ${pointsPerClass}`);
  const g = new Generator(seed);
  const n = pointsPerClass * classes;
  const x = new Float32Array(n * 2), y = new Int32Array(n);
  for (let k = 0; k < classes; k++) {
    for (let i = 0; i < pointsPerClass; i++) {
      const r = pointsPerClass === 1 ? 1 : i / (pointsPerClass - 1);
      const t = (2 * Math.PI * k) / classes + r * 2 * Math.PI * turns + noise * g.normal();
      const j = k * pointsPerClass + i;
      x[2 * j] = r * Math.sin(t);
      x[2 * j + 1] = r * Math.cos(t);
      y[j] = k;
    }
  }
  return { x, y, n, classes };
}
