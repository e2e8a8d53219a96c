// Types of tools/pack-digits.mjs for the TypeScript tests that import it.
export const DIGITS_ASSET: string;
export function packDigits(): Uint8Array;
export function ensureDigitsAsset(out?: string): string;
