// Compute pipelines cached by shader module + entry point + override constants.
// Kernels are called synchronously, so a missing pipeline is compiled with the
// synchronous createComputePipeline on first use; warm() compiles ahead of
// time with createComputePipelineAsync.
import { writtenBuffers } from './reflect.js';
import { SOURCES, type ShaderModule } from './shaders.js';

/** Override constants; booleans are passed as 0 / 1. */
export type Constants = Record<string, number | boolean>;

export interface Kernel {
  file: ShaderModule;
  entry: string;
  constants?: Constants;
}

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** Indices of the dispatch's buffers the entry point may write (reflect.ts). */
  writes: readonly number[];
}

function keyOf(k: Kernel): string {
  const c = k.constants ?? {};
  const parts = Object.keys(c).sort().map((n) => `${n}=${+c[n]}`);
  return `${k.file}:${k.entry}:${parts.join(',')}`;
}

function toRecord(c: Constants = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [n, v] of Object.entries(c)) out[n] = +v;
  return out;
}

export class PipelineCache {
  private readonly modules = new Map<ShaderModule, GPUShaderModule>();
  private readonly cache = new Map<string, CachedPipeline>();
  private readonly pending = new Map<string, Promise<CachedPipeline>>();

  constructor(private readonly device: GPUDevice) {}

  private module(file: ShaderModule): GPUShaderModule {
    let m = this.modules.get(file);
    if (!m) {
      m = this.device.createShaderModule({ code: SOURCES[file], label: `${file}.wgsl` });
      this.modules.set(file, m);
    }
    return m;
  }

  private descriptor(k: Kernel): GPUComputePipelineDescriptor {
    return {
      label: keyOf(k),
      layout: 'auto',
      compute: { module: this.module(k.file), entryPoint: k.entry, constants: toRecord(k.constants) },
    };
  }

  get(k: Kernel): CachedPipeline {
    const key = keyOf(k);
    let hit = this.cache.get(key);
    if (!hit) {
      const pipeline = this.device.createComputePipeline(this.descriptor(k));
      hit = { pipeline, layout: pipeline.getBindGroupLayout(0), writes: writtenBuffers(SOURCES[k.file], k.entry) };
      this.cache.set(key, hit);
    }
    return hit;
  }

  /** Compiles `k` in the background; later get() calls find it cached. */
  warm(k: Kernel): Promise<CachedPipeline> {
    const key = keyOf(k);
    const hit = this.cache.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.pending.get(key);
    if (!p) {
      p = this.device.createComputePipelineAsync(this.descriptor(k)).then((pipeline) => {
        const entry = this.cache.get(key) ?? { pipeline, layout: pipeline.getBindGroupLayout(0), writes: writtenBuffers(SOURCES[k.file], k.entry) };
        this.cache.set(key, entry);
        return entry;
      }).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.cache.size;
  }
}
