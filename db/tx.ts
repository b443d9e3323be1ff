/**
 * One transaction with a statement and a lock timeout, for every activity of every process.
 * An activity's transaction must end before the activity's own timeout: a statement still
 * waiting after the caller gave up would commit work that no process owns (a hold, an offer).
 */
import { sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { Db } from './index';
import type { Database } from './schema';

export interface TxLimits {
  /** Longest any one statement may run (SET LOCAL statement_timeout). */
  statementMs: number;
  /** Longest a statement may wait for a lock (SET LOCAL lock_timeout); at most statementMs. */
  lockMs: number;
  /** Aborted when the caller gives up (an activity's cancellationSignal): the transaction rolls back instead of committing. */
  signal?: AbortSignal;
  /** Epoch ms after which the work is no longer wanted: past it, the transaction rolls back instead of committing. */
  deadlineAt?: number;
  /**
   * A text key locked for the transaction (`pg_advisory_xact_lock(hashtextextended(key, 0))`, as db/booking's
   * lockPatient) in BEGIN's own round trip: one decision per key at a time, without a statement of its own.
   */
  advisoryLock?: string;
}

/** Thrown (and the transaction rolled back) when the caller gave up before the commit. */
export class TransactionAbandoned extends Error {
  constructor(why: string) {
    super(`transaction rolled back: ${why}`);
    this.name = 'TransactionAbandoned';
  }
}

/** Postgres's codes for a lock wait or a statement cut off by these timeouts. */
export const TIMEOUT_SQLSTATES = ['55P03', '57014'] as const;

/**
 * Limits for work that must finish within `budgetMs`: locks wait at most half of it and a
 * statement runs at most three quarters, so the activity always hears back in time to retry or
 * give up (at least 50 ms each).
 */
export function limitsWithin(budgetMs: number): Pick<TxLimits, 'statementMs' | 'lockMs'> {
  const statementMs = Math.max(50, Math.floor(budgetMs * 0.75));
  return { statementMs, lockMs: Math.max(50, Math.min(statementMs, Math.floor(budgetMs * 0.5))) };
}

/**
 * Runs `fn` in one transaction whose statements obey `limits`. Nothing commits once `signal`
 * is aborted or `deadlineAt` has passed: the transaction rolls back and TransactionAbandoned is thrown.
 */
export async function inTransaction<T>(db: Db, limits: TxLimits, fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
  const statementMs = Math.floor(limits.statementMs);
  const lockMs = Math.floor(limits.lockMs);
  if (!(statementMs > 0) || !(lockMs > 0) || lockMs > statementMs) throw new RangeError('inTransaction: need 0 < lockMs <= statementMs');
  const check = () => {
    if (limits.signal?.aborted) throw new TransactionAbandoned('the caller gave up');
    if (limits.deadlineAt !== undefined && Date.now() >= limits.deadlineAt) throw new TransactionAbandoned('past its deadline');
  };
  check();
  // BEGIN, both limits and the lock in one round trip (a simple query may hold several statements; the
  // limits are integers checked above and the key an escaped literal). SET LOCAL ends with the transaction.
  const lock =
    limits.advisoryLock === undefined
      ? ''
      : `; SELECT pg_advisory_xact_lock(hashtextextended(${pg.escapeLiteral(limits.advisoryLock)}, 0))`;
  return db.connection().execute(async (conn) => {
    try {
      await sql.raw(`BEGIN; SET LOCAL statement_timeout = ${statementMs}; SET LOCAL lock_timeout = ${lockMs}${lock}`).execute(conn);
      // One connection inside BEGIN … COMMIT: a transaction in all but its type.
      const result = await fn(conn as unknown as Transaction<Database>);
      check();
      const { rows } = await sql.raw<{ command?: string }>('COMMIT').execute(conn);
      // A statement error swallowed inside left the transaction aborted: COMMIT then rolls back.
      if (rows[0]?.command === 'ROLLBACK') throw new Error('transaction rolled back: an earlier statement failed');
      return result;
    } catch (err) {
      await sql
        .raw('ROLLBACK')
        .execute(conn)
        .catch(() => undefined);
      throw err;
    }
  });
}
