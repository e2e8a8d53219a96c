// Kernel sources are imported as assets: esbuild embeds them in the bundle,
// tools/asset-hooks.mjs does the same for Node tests.
declare module '*.wgsl' {
  const code: string;
  export default code;
}
declare module '*.wasm' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
/** A gzipped Wasm module (tools/build.mjs writes one next to each asc output), as bytes. */
declare module '*.wasm.gz' {
  const gzipped: Uint8Array<ArrayBuffer>;
  export default gzipped;
}
