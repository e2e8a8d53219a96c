// The page's shared state: settings (mirrored in the URL), messages, devices.
// Tabs read settings from here and change them through update().
import type { DeviceInfo } from './devices.js';
import { Messages } from './messages.js';
import { serializeSettings, type Settings } from './state.js';

export type SettingsListener = (s: Readonly<Settings>, changed: ReadonlySet<keyof Settings>) => void;

export class App {
  private readonly listeners = new Set<SettingsListener>();
  readonly messages = new Messages();

  constructor(public settings: Settings, readonly devices: DeviceInfo) {}

  /** Applies `patch`, rewrites the URL (replaceState: no history entry per slider move) and notifies listeners. */
  update(patch: Partial<Settings>): void {
    const changed = new Set<keyof Settings>();
    for (const [k, v] of Object.entries(patch) as [keyof Settings, unknown][]) {
      const old = this.settings[k];
      const same = Array.isArray(v) && Array.isArray(old) ? v.length === old.length && v.every((x, i) => x === old[i]) : v === old;
      if (!same) changed.add(k);
    }
    if (changed.size === 0) return;
    this.settings = { ...this.settings, ...patch };
    this.writeUrl();
    for (const l of this.listeners) l(this.settings, changed);
  }

  writeUrl(): void {
    const hash = `#${serializeSettings(this.settings)}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  onChange(l: SettingsListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
