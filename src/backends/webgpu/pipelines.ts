// Compute pipelines cached by kernel file + entry point + override constants.
// Kernels are called synchronously, so a missing pipeline is compiled with the
// synchronous createComputePipeline on first use; warm() compiles ahead of
// time with createComputePipelineAsync.
import activationsOnly from '../../../kernels-wgsl/activations.wgsl';
import doubleFloat from '../../../kernels-wgsl/double-float.wgsl';
import elementwise from '../../../kernels-wgsl/elementwise.wgsl';
import matmulCommon from '../../../kernels-wgsl/matmul-common.wgsl';
import matmulRegister from '../../../kernels-wgsl/matmul-register.wgsl';
import matmulSubgroup from '../../../kernels-wgsl/matmul-subgroup.wgsl';
import matmulSmall from '../../../kernels-wgsl/matmul-small.wgsl';
import matmul from '../../../kernels-wgsl/matmul.wgsl';
import optim from '../../../kernels-wgsl/optim.wgsl';
import reduce from '../../../kernels-wgsl/reduce.wgsl';
import softmax from '../../../kernels-wgsl/softmax.wgsl';
import strided from '../../../kernels-wgsl/strided.wgsl';

// WGSL has no includes: the shared activation functions (with the double-float helpers they use
// for gelu) are prepended to the modules that use them,
// and the matmul bindings, epilogue and prologue to every matmul module. The subgroup matmul
// needs `enable subgroups;` first; its module is only created on devices with that feature.
const activations = doubleFloat + activationsOnly;
export const SOURCES = {
  elementwise: activations + elementwise,
  matmul: activations + matmulCommon + matmul,
  matmulSmall: activations + matmulCommon + matmulSmall,
  matmulRegister: activations + matmulCommon + matmulRegister,
  matmulSubgroup: 'enable subgroups;\n' + activations + matmulCommon + matmulSubgroup,
  optim: doubleFloat + optim,
  softmax: activations + softmax,
  reduce, strided,
} as const;
export type KernelFile = keyof typeof SOURCES;

/** Override constants; booleans are passed as 0 / 1. */
export type Constants = Record<string, number | boolean>;

export interface Kernel {
  file: KernelFile;
  entry: string;
  constants?: Constants;
}

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
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
  private readonly modules = new Map<KernelFile, GPUShaderModule>();
  private readonly cache = new Map<string, CachedPipeline>();
  private readonly pending = new Map<string, Promise<CachedPipeline>>();

  constructor(private readonly device: GPUDevice) {}

  private module(file: KernelFile): GPUShaderModule {
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
      hit = { pipeline, layout: pipeline.getBindGroupLayout(0) };
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
        const entry = this.cache.get(key) ?? { pipeline, layout: pipeline.getBindGroupLayout(0) };
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
