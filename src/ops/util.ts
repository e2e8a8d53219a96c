// Argument checks shared by the ops: every one runs before a kernel is queued.
import type { Backend } from '../backends/backend.js';
import { fail, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';

/** Checks that `t` is a live Tensor and returns it. */
export function arg(op: string, name: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) {
    fail(op, `argument '${name}' must be a Tensor, got ${t === null ? 'null' : Array.isArray(t) ? 'an array (wrap it with tensor())' : typeof t}`);
  }
  t.live(op, name);
  return t;
}

/** The one backend all `tensors` live on; an error naming both devices otherwise. */
export function deviceOf(op: string, tensors: Record<string, Tensor>): Backend {
  let first: [string, Tensor] | null = null;
  for (const [name, t] of Object.entries(tensors)) {
    arg(op, name, t);
    if (!first) first = [name, t];
    else if (t.backend !== first[1].backend) {
      fail(op, `tensors are on different devices: '${first[0]}' ${fmtShape(first[1].shape)} is on ${first[1].device}, '${name}' ${fmtShape(t.shape)} is on ${t.device}; move one with await t.to('${first[1].device}')`);
    }
  }
  return first![1].backend;
}
