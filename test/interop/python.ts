// Debian's Python with the packages an interop test needs (python3-torch,
// python3-onnx: .ci/run installs them). Missing: the test is skipped loudly
// here and fails under CI=true, as the WebGPU tests do.
import { spawnSync } from 'node:child_process';

/** Debian's interpreter: the `python3` first on PATH may be another one without Debian's packages. */
export const PYTHON = process.env.LEPTON_PYTHON ?? '/usr/bin/python3';

/** Whether PYTHON imports every module in `modules`; logs a loud skip (or throws under CI) when not. */
export function havePython(modules: string[], what: string): boolean {
  const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.status === 0) return true;
  const why = r.error ? String(r.error.message) : r.stderr.trim().split('\n').pop();
  const fix = `apt-get install python3-${modules.filter((m) => m !== 'numpy').join(' python3-')}`;
  if (process.env.CI) throw new Error(`CI: ${what} needs ${PYTHON} with ${modules.join(', ')} (${why}); ${fix}`);
  console.warn('\n' + '!'.repeat(78) + `\n!! ${what} SKIPPED: ${PYTHON} cannot import ${modules.join(', ')} (${why}).\n`
    + `!! Enable it with: ${fix}. Under CI=true this is a failure.\n` + '!'.repeat(78) + '\n');
  return false;
}

/** Runs a Python script; throws with its stderr when it fails. */
export function runPython(args: string[], timeout = 120_000): string {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}
