/**
 * A command's transaction: statement and lock timeouts within its budget; a lock wait or a
 * statement cut short is a `Busy` refusal (the API answers 503, nothing committed, try again).
 */
import type { Db } from '../db';
import { inTransaction, limitsWithin, TIMEOUT_SQLSTATES } from '../db/tx';
import { pgViolation, retryLater } from '../platform/failures';
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';

/** A command's open transaction. */
export type Tx = Transaction<Database>;

export const COMMAND_BUDGET_MS = 10_000;

export async function commandTransaction<T>(
  db: Db,
  fn: (tx: Tx) => Promise<T>,
  budgetMs = COMMAND_BUDGET_MS,
  opts: { advisoryLock?: string } = {},
): Promise<T> {
  try {
    return await inTransaction(db, { ...limitsWithin(budgetMs), ...opts }, fn);
  } catch (err) {
    const code = pgViolation(err)?.code;
    if (code && (TIMEOUT_SQLSTATES as readonly string[]).includes(code)) throw retryLater('a lock wait or statement timed out', true);
    throw err;
  }
}
