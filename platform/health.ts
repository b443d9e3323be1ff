/**
 * Worker health files: each worker process touches its file while it can do its work (see
 * workers/health-file.ts), and the API reads their age for /health. One place for the names and
 * the age past which a worker counts as down.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

/** The workers the engine runs; their health files and /health's parts are named after them. */
export const WORKER_NAMES = ['worker-clinical', 'worker-cds'] as const;
export type WorkerName = (typeof WORKER_NAMES)[number];

/** Workers touch their file every 5 s; three missed touches mean the worker is down or stuck. */
export const WORKER_STALE_MS = 15_000;

export const workerHealthFile = (dir: string, name: WorkerName) => path.join(dir, `${name}.health`);

/** Milliseconds since the file was last touched, or null when there is no file. */
export function healthFileAgeMs(file: string, now = Date.now()): number | null {
  try {
    return Math.max(0, now - statSync(file).mtimeMs);
  } catch {
    return null;
  }
}
