// Assertions for errors at the API boundary: a LeptonError with a message
// that says what is wrong, never a raw TypeError or RangeError.
import * as assert from 'uvu/assert';
import { LeptonError } from '../../src/errors.js';

/** `f` throws a LeptonError whose message matches `re`. */
export function throwsLepton(f: () => unknown, re: RegExp, what = String(re)): void {
  try { f(); } catch (e) {
    assert.instance(e, LeptonError, `${what}: got ${String(e)}`);
    assert.match((e as Error).message, re, what);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

/** `f` rejects (or throws) with a LeptonError whose message matches `re`. */
export async function rejectsLepton(f: () => Promise<unknown>, re: RegExp, what = String(re)): Promise<void> {
  try { await f(); } catch (e) {
    assert.instance(e, LeptonError, `${what}: got ${String(e)}`);
    assert.match((e as Error).message, re, what);
    return;
  }
  assert.unreachable(`${what}: did not reject`);
}
