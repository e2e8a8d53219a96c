// What the playground's end-to-end tests share: the paths, the chromium rule
// (under CI a missing chromium is a failure), a per-promise timeout (uvu has
// none), and serving the built page with tools/serve.mjs to a headless Chromium
// with WebGPU (SwiftShader) enabled.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const OUT = join(ROOT, 'test-output/playground');
export const CI = !!process.env.CI; // as test/helpers/backends.ts: any non-empty CI
export const CHROMIUM = process.env.LEPTON_CHROMIUM ?? '/usr/bin/chromium';

/** Rejects with `what` if `p` takes longer than `ms`. */
export function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms); })])
    .finally(() => clearTimeout(timer));
}

export interface Served { base: string; browser: Browser; close(): Promise<void> }

/** Builds and serves the page into test-output/playground/<site>, then launches Chromium; close() stops both. */
export async function servePlayground(site: string): Promise<Served> {
  mkdirSync(OUT, { recursive: true });
  const server: ChildProcess = spawn(process.execPath, ['tools/serve.mjs', '--port', '0', '--outdir', join(OUT, site)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = () => { if (server.exitCode === null) server.kill(); };
  process.on('exit', stop);
  let log = '';
  const base = await within(120_000, new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (d) => { log += d; const m = log.match(/http:\/\/127\.0\.0\.1:\d+\//); if (m) resolve(m[0]); });
    server.stderr!.on('data', (d) => { log += d; });
    server.on('exit', (code) => reject(new Error(`serve.mjs exited with ${code}:\n${log}`)));
  }), 'the playground server to start').catch((e) => { stop(); throw e; });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu'] });
  return { base, browser, close: async () => { await browser.close(); stop(); } };
}
