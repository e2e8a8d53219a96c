// A promise that settles in a later task of the event loop, not in the
// current run of microtasks. WASM reads resolve through it: the garbage
// collector's FinalizationRegistry callbacks (which free forgotten tensors)
// run only between tasks, so a loop whose only await is a read that resolved
// as a microtask would never let them run (tensor.ts).

type Resume = () => void;

function scheduler(): (resume: Resume) => void {
  // Node: setImmediate runs after pending I/O and timers' turn, in microseconds.
  const g = globalThis as { setImmediate?: (f: Resume) => unknown };
  if (typeof g.setImmediate === 'function') return (f) => g.setImmediate!(f);
  // Browsers and workers: a message to ourselves is a task without setTimeout's 4 ms clamp.
  if (typeof MessageChannel === 'function') {
    const waiting: Resume[] = [];
    const channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
    return (f) => {
      waiting.push(f);
      channel.port2.postMessage(0);
    };
  }
  return (f) => setTimeout(f, 0);
}

const schedule = scheduler();

/** Resolves to `value` in a later task. */
export function inNextTask<T>(value: T): Promise<T> {
  return new Promise((resolve) => schedule(() => resolve(value)));
}
