// Every timed configuration: which runner process runs it, its family (for
// "lepton vs best peer" ratios) and how many threads it uses.

export interface Config {
  name: string;
  lib: 'lepton' | 'tfjs' | 'jax' | 'ort';
  family: 'wasm' | 'webgpu';
  /** 1 for single-thread WASM configs; 0 = all cores; GPU configs: 1. */
  threads: number;
}

export const CONFIGS: Config[] = [
  { name: 'lepton wasm 1T', lib: 'lepton', family: 'wasm', threads: 1 },
  { name: 'lepton wasm MT', lib: 'lepton', family: 'wasm', threads: 0 },
  { name: 'lepton webgpu', lib: 'lepton', family: 'webgpu', threads: 1 },
  // tfjs-wasm and jax-js run one thread in Node (no Worker global / no threaded build there).
  { name: 'tfjs wasm', lib: 'tfjs', family: 'wasm', threads: 1 },
  { name: 'tfjs webgpu', lib: 'tfjs', family: 'webgpu', threads: 1 },
  { name: 'jax wasm', lib: 'jax', family: 'wasm', threads: 1 },
  { name: 'jax wasm jit', lib: 'jax', family: 'wasm', threads: 1 },
  { name: 'jax webgpu', lib: 'jax', family: 'webgpu', threads: 1 },
  { name: 'jax webgpu jit', lib: 'jax', family: 'webgpu', threads: 1 },
  { name: 'ort wasm 1T', lib: 'ort', family: 'wasm', threads: 1 },
  { name: 'ort wasm 2T', lib: 'ort', family: 'wasm', threads: 2 },
];

/**
 * One runner process each (lepton's single-thread WASM and ort once per thread count: a WASM
 * backend's thread pool is fixed per process).
 */
export const PROCESSES: { lib: Config['lib']; configs: string[]; env?: Record<string, string> }[] = [
  { lib: 'lepton', configs: ['lepton wasm 1T'] },
  { lib: 'lepton', configs: ['lepton wasm MT', 'lepton webgpu'] },
  // tfjs-wasm aborts the process on attention at seq 4096 (a Wasm trap after its S×S scores overrun
  // memory): its own process, so tfjs webgpu still runs.
  { lib: 'tfjs', configs: ['tfjs wasm'] },
  { lib: 'tfjs', configs: ['tfjs webgpu'] },
  { lib: 'jax', configs: ['jax wasm', 'jax wasm jit', 'jax webgpu', 'jax webgpu jit'] },
  { lib: 'ort', configs: ['ort wasm 1T'], env: { BENCH_ORT_THREADS: '1' } },
  { lib: 'ort', configs: ['ort wasm 2T'], env: { BENCH_ORT_THREADS: '2' } },
];
