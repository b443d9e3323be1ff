/**
 * The transaction of an activity: its statement and lock timeouts come from the time this
 * attempt has left (start-to-close, or schedule-to-close if that comes first), and it never
 * commits once the attempt is cancelled or past its deadline. So a caller that gave up (a
 * local activity's deadline, a workflow that moved on) never finds the work done later.
 */
import { Context } from '@temporalio/activity';
import type { Transaction } from 'kysely';
import type { Db } from '../db';
import type { Database } from '../db/schema';
import { inTransaction, limitsWithin, TIMEOUT_SQLSTATES, TransactionAbandoned, type TxLimits } from '../db/tx';
import { pgViolation, retryLater } from './errors';

/** Outside an activity (a script, a test calling the function itself): this budget. */
const DEFAULT_BUDGET_MS = 10_000;

/** The limits for this activity attempt, from its own timeouts; `giveUpAt`: when the activity as a whole is past its deadline. */
export function activityLimits(fallbackMs = DEFAULT_BUDGET_MS): TxLimits & { giveUpAt: number } {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  const now = Date.now();
  if (!ctx) return { ...limitsWithin(fallbackMs), deadlineAt: now + fallbackMs, giveUpAt: Infinity };
  const { info } = ctx;
  // Start-to-close counts from this attempt's start (now); schedule-to-close from the first schedule.
  const attemptEnd = info.startToCloseTimeoutMs > 0 ? now + info.startToCloseTimeoutMs : now + fallbackMs;
  const giveUpAt = info.scheduleToCloseTimeoutMs > 0 ? info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs : Infinity;
  const deadlineAt = Math.min(attemptEnd, giveUpAt);
  // A little short of the deadline, so a rollback and the answer still reach the caller in time.
  const budgetMs = Math.max(100, deadlineAt - now - 200);
  return { ...limitsWithin(budgetMs), signal: ctx.cancellationSignal, deadlineAt: deadlineAt - 100, giveUpAt: giveUpAt - 300 };
}

/**
 * One transaction for an activity, bounded by the activity's own timeouts. A lock wait or
 * statement cut short, or a caller that gave up, is a retryable `Busy` failure.
 */
export async function activityTransaction<T>(db: Db, fn: (tx: Transaction<Database>) => Promise<T>, fallbackMs?: number): Promise<T> {
  const limits = activityLimits(fallbackMs);
  try {
    return await inTransaction(db, limits, fn);
  } catch (err) {
    const code = pgViolation(err)?.code;
    if (err instanceof TransactionAbandoned || (code && (TIMEOUT_SQLSTATES as readonly string[]).includes(code))) {
      const why = err instanceof TransactionAbandoned ? err.message : 'a lock wait or statement timed out';
      // Past the activity's own deadline no retry may start (a local activity's retries are not
      // always stopped at schedule-to-close): the caller gets a final answer instead.
      throw retryLater(why, Date.now() >= limits.giveUpAt);
    }
    throw err;
  }
}
