// Loaded with `node --import` by tests, bench and demo: lets Node import the
// kernel sources (.wgsl as text, .wasm as bytes) exactly as the esbuild bundle
// embeds them, and points Dawn at SwiftShader when no Vulkan driver is named.
import { register } from 'node:module';
import { existsSync } from 'node:fs';

const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(swiftshader)) {
  process.env.VK_ICD_FILENAMES = swiftshader;
}
process.env.XDG_RUNTIME_DIR ??= '/tmp';
register('./asset-hooks.mjs', import.meta.url);
