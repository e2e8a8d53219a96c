// The worker threads' program. The library is one bundled file and users
// serve nothing extra, so a worker is started from source text: `workerMain`
// is turned into a string with String() and wrapped for Node
// (worker_threads, eval) or a browser (Worker from a Blob URL). It must
// therefore be self-contained: no imports, no references outside its body.

/** The one message a worker gets: everything it needs to run parts of jobs. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address and length (i32 words) of the control block (layout in threads.ts). */
  ctrl: number;
  ctrlWords: number;
  /** Word indices in the control block. */
  at: { kind: number; desc: number; parts: number; claim: number; done: number; quit: number; error: number };
  /** This worker's wake word: the calling thread stores a new job number there. */
  wakeAt: number;
  /** This worker's scratch slot (the calling thread has slot 0). */
  slot: number;
  /** How long to poll the wake word after a job before sleeping in Atomics.wait. */
  spinMs: number;
}

/**
 * Instantiates the kernels on the shared memory, reports 'ready', then loops:
 * wait for the wake word to change, then claim parts of the current job and
 * run them until none are left, counting each finished part in `done` (the
 * last one wakes the caller). It never returns to its event loop: jobs come
 * through shared memory, not messages, so a handoff costs a futex wake at most.
 *
 * `parts` and `claim` both carry the job's tag (bits 10 and up) over a
 * 10-bit count: a claim is a compare-exchange of `claim` from (tag, i) to
 * (tag, i + 1), and part i is run only if it exists in the job current after
 * the exchange. So a worker that wakes late, even jobs late, either helps
 * with the current job or finds nothing left; it never runs a stale part.
 */
function workerMain(init: WorkerInit, post: (message: unknown) => void): void {
  let runPart: (kind: number, desc: number, part: number, slot: number) => void;
  try {
    const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
    runPart = instance.exports.runPart as typeof runPart;
  } catch (e) {
    post({ error: String(e) });
    return;
  }
  const ctrl = new Int32Array(init.memory.buffer, init.ctrl, init.ctrlWords);
  const at = init.at;
  // Read before reporting ready: the first job can be issued as soon as the caller hears of it.
  let seen = Atomics.load(ctrl, init.wakeAt);
  post({ ready: true });
  for (;;) {
    // Poll a while first: a job that follows soon after the last one then
    // starts at once instead of after a sleep and a wake (tens of µs).
    let now = Atomics.load(ctrl, init.wakeAt);
    if (now === seen) {
      const until = performance.now() + init.spinMs;
      for (let i = 1; now === seen; i++) {
        now = Atomics.load(ctrl, init.wakeAt);
        if ((i & 1023) === 0 && performance.now() > until) break;
      }
    }
    while (now === seen) {
      Atomics.wait(ctrl, init.wakeAt, seen);
      now = Atomics.load(ctrl, init.wakeAt);
    }
    seen = now;
    if (Atomics.load(ctrl, at.quit) !== 0) return;
    for (;;) {
      const claim = Atomics.load(ctrl, at.claim);
      const tagged = Atomics.load(ctrl, at.parts);
      if ((tagged ^ claim) >>> 10 !== 0) continue; // a new job is being published
      const part = claim & 1023;
      if (part >= (tagged & 1023)) break; // all parts taken
      if (Atomics.compareExchange(ctrl, at.claim, claim, claim + 1) !== claim) continue;
      const parts = Atomics.load(ctrl, at.parts) & 1023;
      if (part >= parts) continue; // the job changed under us (tag wrapped): that part does not exist
      try {
        runPart(Atomics.load(ctrl, at.kind), Atomics.load(ctrl, at.desc) >>> 0, part, init.slot);
      } catch (e) {
        Atomics.store(ctrl, at.error, init.slot);
        post({ error: String(e) });
      }
      if (Atomics.add(ctrl, at.done, 1) === parts - 1) Atomics.notify(ctrl, at.done);
    }
  }
}

// Dev tools (tsx, esbuild with keepNames) may wrap nested functions in a
// `__name(fn, "name")` helper that only exists in the original module; the
// worker gets a no-op one.
const PRELUDE = 'var __name = function (f) { return f; };\n';

/** Source of a Node worker (run with `new Worker(src, { eval: true })`). */
export function nodeWorkerSource(): string {
  return `${PRELUDE}const { parentPort } = require('node:worker_threads');
parentPort.once('message', (init) => (${String(workerMain)})(init, (m) => parentPort.postMessage(m)));\n`;
}

/** Source of a browser worker (loaded from a Blob URL). */
export function browserWorkerSource(): string {
  return `${PRELUDE}self.onmessage = (e) => { self.onmessage = null; (${String(workerMain)})(e.data, (m) => self.postMessage(m)); };\n`;
}
