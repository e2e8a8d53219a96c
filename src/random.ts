// Seedable random numbers for initialisers and randn/rand. A Generator is a
// small splitmix32 stream; Box–Muller turns pairs of uniforms into normals.

export class Generator {
  private s: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }

  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u)), t = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }

  /** A new independent seed drawn from this stream (for seeding sub-generators). */
  fork(): Generator {
    return new Generator(Math.floor(this.next() * 4294967296));
  }
}

let global = new Generator(Math.floor(Math.random() * 4294967296));

/** Seeds the generator used when no `seed` option is given. */
export function manualSeed(seed: number): void {
  global = new Generator(seed);
}

export function generatorFor(seed: number | undefined): Generator {
  return seed === undefined ? global : new Generator(seed);
}
