// Finding a GPU object: `navigator.gpu` in browsers (and runtimes that have
// it), Dawn's `webgpu` npm package in Node. That package (132 MB of native
// addons) is an optional peer dependency: Node users who want WebGPU install
// it themselves, and init() names the command when it is missing.

import { importNode, isNode } from '../node-import.js';

type DawnModule = { create(options: string[]): GPU; globals: object };

/** The `webgpu` release lepton is tested with (package.json's devDependencies; test/package.test.ts checks). */
export const DAWN_PACKAGE = 'webgpu@0.6.2';

// The object Dawn's create() returns must stay reachable for as long as any
// device lives: if it is garbage-collected the process crashes (see
// ENVIRONMENT.md). Keeping it on globalThis also shares it across module copies.
const holder = globalThis as { __leptonDawnGPU?: GPU };

let dawnProblem: string | null = null;

/** Why Node has no WebGPU when getGPU() found Dawn's package missing or unloadable; null otherwise. */
export function dawnUnavailable(): string | null {
  return dawnProblem;
}

export async function getGPU(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (holder.__leptonDawnGPU) return holder.__leptonDawnGPU;
  if (!isNode) return null;
  let mod: DawnModule;
  try {
    // The native addon exists only in Node.
    mod = await importNode<DawnModule>('webgpu');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    dawnProblem = code === 'ERR_MODULE_NOT_FOUND' && /'webgpu'/.test(String((e as Error).message))
      ? `in Node, WebGPU comes from Dawn's 'webgpu' package, which is not installed: npm i ${DAWN_PACKAGE}`
      : `Dawn's 'webgpu' package failed to load (${(e as Error).message})`;
    return null;
  }
  dawnProblem = null;
  Object.assign(globalThis, mod.globals); // GPUBufferUsage, GPUMapMode, ... as in browsers
  holder.__leptonDawnGPU = mod.create([]);
  return holder.__leptonDawnGPU;
}
