// Live-tensor counts that earlier tests' garbage cannot move. uvu runs every
// test file in one process, so tensors other files dropped without dispose()
// are still counted until the garbage collector finds them and the
// FinalizationRegistry frees them, which may happen in the middle of a
// before/after comparison (a count that falls from 86 to 29 while the code
// under test freed everything it made). Collecting first makes `before` exact.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { memory, type DeviceName } from '../../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Live tensors on `device` once all unreachable ones are collected and freed (their finalizers run in later tasks). */
export async function settledTensors(device?: DeviceName): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await nextTask();
  }
  return memory(device).numTensors;
}
