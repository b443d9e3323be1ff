/**
 * Failure types that activities throw and workflows branch on (by type, never by message).
 * Business refusals are non-retryable: retrying a taken slot never frees it.
 * Messages carry ids and reasons only: they are stored in workflow history.
 */
import { ApplicationFailure } from '@temporalio/common';

import type { FailureType } from '../domain/failures';

export type { FailureType };

export function refuse(type: FailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
}

/** The database was too busy to answer in time (a lock wait or statement timed out): worth another try, unless `final`. */
export function retryLater(message: string, final = false): ApplicationFailure {
  return ApplicationFailure.create({ type: 'Busy', message, nonRetryable: final });
}

/** The Postgres error code and constraint of a failed statement, if it is one. */
export function pgViolation(err: unknown): { code: string; constraint?: string } | undefined {
  const e = err as { code?: unknown; constraint?: unknown };
  return typeof e?.code === 'string'
    ? { code: e.code, constraint: typeof e.constraint === 'string' ? e.constraint : undefined }
    : undefined;
}
