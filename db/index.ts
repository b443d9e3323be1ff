/**
 * The pool and the Kysely instance. Type parsers make numbers numbers and keep calendar
 * dates as plain 'YYYY-MM-DD' strings (a Date would shift them by the server's zone).
 */
import { Kysely, Migrator, PostgresDialect, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import { createLogger, type Logger } from '../platform/logger';
import { migrations } from './migrations';
import type { Database } from './schema';

pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
pg.types.setTypeParser(pg.types.builtins.TIME, (v) => v);

export type Db = Kysely<Database>;

/** How long a query waits for a connection (a new one, or a free one from the pool). */
export const CONNECT_TIMEOUT_MS = 5000;

let log: Logger | undefined;
const poolLog = () => (log ??= createLogger('db'));

export function createDb(connectionString: string, max = 10): Db {
  // A Postgres that is down or unreachable fails a query within the connect timeout (the API answers
  // 503 unavailable, activities retry) instead of leaving it waiting for a connection forever.
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: 'clinical-engine',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle connection that Postgres closes (restart, shutdown) is dropped by the pool and the next
  // query opens a new one; without a listener the 'error' event would crash the process instead.
  pool.on('error', (err: Error & { code?: string }) => poolLog().warn({ code: err.code }, 'idle Postgres connection lost'));
  // The pool listens only while a connection is idle in it. One taken for a transaction and between
  // two queries when Postgres stops would emit an unheard 'error' and crash the process: listen always.
  pool.on('connect', (client) =>
    client.on('error', (err: Error & { code?: string }) => poolLog().warn({ code: err.code }, 'Postgres connection lost while in use')),
  );
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${String(result.error)}`);
  }
  return result;
}

/** True when the database answers a trivial query. */
export async function pingDb(db: Db): Promise<boolean> {
  try {
    await db.selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
    return true;
  } catch {
    return false;
  }
}
