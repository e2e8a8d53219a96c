/** Every error lepton throws at its API boundary: `op: what is wrong (got …, needs …)`. */
export class LeptonError extends Error {
  constructor(readonly op: string, detail: string) {
    super(`${op}: ${detail}`);
    this.name = 'LeptonError';
  }
}

export function fail(op: string, detail: string): never {
  throw new LeptonError(op, detail);
}

export const fmtShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;
