// The package as a user gets it: `npm pack` of this checkout (dist/ as built
// by `npm run build`), installed offline into a fresh consumer project in a
// temp dir. Made once per process (test/package*.test.ts share it) and
// removed at exit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Packed {
  /** The .tgz file. */
  tarball: string;
  /** Paths inside the tarball, relative to its package/ folder. */
  files: string[];
  /** The consumer project: package.json ("type": "module") and node_modules/lepton, nothing else. */
  consumer: string;
}

let made: Packed | null = null;

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });

export function packed(): Packed {
  if (made) return made;
  const tmp = mkdtempSync(join(tmpdir(), 'lepton-pack-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  // --ignore-scripts: prepare would rebuild dist/ (a minute); the suite builds it first.
  const [info] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root)) as
    { filename: string; files: { path: string }[] }[];
  const tarball = join(tmp, info.filename);
  const consumer = join(tmp, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // Offline: lepton has no dependencies, so nothing needs the registry.
  npm(['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], consumer);
  made = { tarball, files: info.files.map((f) => f.path).sort(), consumer };
  return made;
}
