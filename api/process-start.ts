/**
 * A process answered before it started: a command committed its row and its start (an outbox row),
 * and the clinical worker's relay starts it, normally within milliseconds of the commit. A call to
 * that process (an Update, a signal, a Query) waits for its start, a while, then answers 503.
 */
import type { Db } from '../db';
import { processStartPending } from '../db/outbox';
import { ApiError } from './errors';

export const PROCESS_START_WAIT_MS = 10_000;

/** Resolves once the workflow's start row has been drained; 503 `unavailable` after `waitMs`. */
export async function awaitProcessStart(db: Db, workflowId: string, what: string, waitMs = PROCESS_START_WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (await processStartPending(db, workflowId)) {
    if (Date.now() >= deadline) throw new ApiError(503, 'unavailable', `${what} is starting; try again in a moment.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
