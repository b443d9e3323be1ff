/**
 * A worker's health file (container health checks, and /health through WORKER_HEALTH_DIR): touched
 * every few seconds only while the worker can do its work.
 *
 * Why not only worker.getState(): while the Temporal server is unreachable the SDK's core retries
 * its polls quietly and the worker stays RUNNING with its pollers 'POLLING' (PollerState turns
 * 'FAILED' only on a fatal poll error, which also fails the worker). So each beat also asks the
 * server something cheap (getSystemInfo) on the worker's own connection, with a short deadline: a
 * beat is written when the worker runs, its pollers have not failed, and the connection its polls
 * use answers. A stopped poll loop, a dead server or a cut connection stop the touches.
 */
import { writeFileSync } from 'node:fs';
import type { NativeConnection, Worker } from '@temporalio/worker';

export interface HealthBeat {
  stop(): void;
}

export function startHealthBeat(opts: {
  file: string;
  worker: Worker;
  connection: NativeConnection;
  intervalMs?: number;
  deadlineMs?: number;
}): HealthBeat {
  const intervalMs = opts.intervalMs ?? 5000;
  const deadlineMs = opts.deadlineMs ?? Math.min(3000, intervalMs);
  let stopped = false;
  let inFlight = false;
  const beat = async () => {
    if (stopped || inFlight) return;
    inFlight = true;
    try {
      if ((await canWork(opts.worker, opts.connection, deadlineMs)) && !stopped) writeFileSync(opts.file, new Date().toISOString());
    } catch {
      // A full or read-only disk: the file goes stale and /health says so; the worker keeps working.
    } finally {
      inFlight = false;
    }
  };
  // The first beat once the worker has had a moment to start running, then every interval.
  const first = setTimeout(() => void beat(), Math.min(1000, intervalMs));
  const timer = setInterval(() => void beat(), intervalMs);
  first.unref();
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}

async function canWork(worker: Worker, connection: NativeConnection, deadlineMs: number): Promise<boolean> {
  if (worker.getState() !== 'RUNNING') return false;
  const status = worker.getStatus();
  if (status.workflowPollerState === 'FAILED' || status.activityPollerState === 'FAILED') return false;
  try {
    await connection.withDeadline(Date.now() + deadlineMs, () => connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}
