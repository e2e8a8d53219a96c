// Node-only modules (os, worker_threads, Dawn's `webgpu` addon) are imported
// under a name bundlers cannot see, so a browser bundle of lepton pulls in
// nothing from Node. Callers check that they run in Node first.
export function importNode<T>(name: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ name) as Promise<T>;
}

/** Whether this is Node (the checks the callers above make). */
export const isNode = typeof process !== 'undefined' && !!process.versions?.node;
