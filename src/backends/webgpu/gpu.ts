// Finding a GPU object: `navigator.gpu` in browsers (and runtimes that have
// it), Dawn's `webgpu` npm package in Node.

import { importNode, isNode } from '../node-import.js';

type DawnModule = { create(options: string[]): GPU; globals: object };

// The object Dawn's create() returns must stay reachable for as long as any
// device lives: if it is garbage-collected the process crashes (see
// ENVIRONMENT.md). Keeping it on globalThis also shares it across module copies.
const holder = globalThis as { __leptonDawnGPU?: GPU };

export async function getGPU(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (holder.__leptonDawnGPU) return holder.__leptonDawnGPU;
  if (!isNode) return null;
  let mod: DawnModule;
  try {
    // The native addon exists only in Node.
    mod = await importNode<DawnModule>('webgpu');
  } catch {
    return null; // optional dependency not installed
  }
  Object.assign(globalThis, mod.globals); // GPUBufferUsage, GPUMapMode, ... as in browsers
  holder.__leptonDawnGPU = mod.create([]);
  return holder.__leptonDawnGPU;
}
