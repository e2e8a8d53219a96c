// Types of tools/kernel-assets.mjs for the TypeScript tests that import it.
import type { BuildOptions, Plugin } from 'esbuild';

export function minifyWgsl(source: string): string;
export const kernelAssets: { loader: NonNullable<BuildOptions['loader']>; plugins: Plugin[] };
