// Device-loss recovery, the part every backend shares: the settings users
// give (`init({ recovery })`), what a recovery reports, and when a journal
// (journal.ts) is due a checkpoint. The WebGPU backend's side is
// webgpu/recovery.ts. No WebGPU types here: these are public.
import { fail } from '../errors.js';
import type { DeviceName } from './backend.js';

/** Device-loss recovery settings (`init({ recovery })`). */
export interface RecoveryOptions {
  /**
   * Take a checkpoint (read the live tensors written since the last one back
   * to the host) after a read once the journal holds this many bytes (data
   * written plus kernel outputs since the last checkpoint). 'auto' (default):
   * the bytes of all live tensors, at least 16 MiB.
   */
  checkpointBytes?: number | 'auto';
  /** Also checkpoint after a read once this many kernel calls are journaled (bounds the replay). Default 10,000. */
  checkpointCalls?: number;
  /** Called after each recovery, with where the tensors are now. */
  onRecovered?: (event: RecoveryEvent) => void;
}

/** What a device-loss recovery did (RecoveryOptions.onRecovered). */
export interface RecoveryEvent {
  /** Where the tensors live now: 'webgpu' (a new device) or 'wasm' (no GPU could be had). */
  device: DeviceName;
  /** The loss as WebGPU reported it: reason ('destroyed', 'unknown') and message. */
  reason: string;
  message: string;
  /** Kernel calls replayed from the journal, and bytes restored from the checkpoint. */
  replayedCalls: number;
  restoredBytes: number;
  /** From the loss to the end of the replay. */
  ms: number;
}

const MIN_AUTO_BYTES = 16 << 20;
const DEFAULT_CALLS = 10_000;

/** Whether a journal holds `factor` times the checkpoint budget (bytes or calls). */
export function overBudget(j: { bytes: number; calls: number; liveBytes: number }, opts: RecoveryOptions, factor: number): boolean {
  const b = opts.checkpointBytes ?? 'auto';
  const bytes = b === 'auto' ? Math.max(j.liveBytes, MIN_AUTO_BYTES) : b;
  return j.bytes >= factor * bytes || j.calls >= factor * (opts.checkpointCalls ?? DEFAULT_CALLS);
}

/** Refuses a malformed `init({ recovery })` before any backend starts. */
export function checkRecoveryOptions(v: unknown): void {
  const op = 'init';
  if (v === undefined || typeof v === 'boolean') return;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(op, `option 'recovery' must be true, false or an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  const o = v as Record<string, unknown>;
  const known = ['checkpointBytes', 'checkpointCalls', 'onRecovered'];
  for (const k of Object.keys(o)) if (!known.includes(k)) fail(op, `unknown option 'recovery.${k}'; the options are: ${known.join(', ')}`);
  const b = o.checkpointBytes;
  if (b !== undefined && b !== 'auto' && !(typeof b === 'number' && b >= 0 && Number.isFinite(b))) {
    fail(op, `option 'recovery.checkpointBytes' must be 'auto' or a non-negative number of bytes, got ${typeof b === 'number' ? b : JSON.stringify(b)}`);
  }
  const c = o.checkpointCalls;
  if (c !== undefined && !(Number.isInteger(c) && (c as number) >= 1)) fail(op, `option 'recovery.checkpointCalls' must be a positive integer, got ${typeof c === 'number' ? c : JSON.stringify(c)}`);
  if (o.onRecovered !== undefined && typeof o.onRecovered !== 'function') fail(op, `option 'recovery.onRecovered' must be a function, got ${typeof o.onRecovered}`);
}
