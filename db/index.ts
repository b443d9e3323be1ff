/**
 * The pool and the Kysely instance. Type parsers make numbers numbers and keep calendar
 * dates as plain 'YYYY-MM-DD' strings (a Date would shift them by the server's zone).
 */
import { Kysely, Migrator, PostgresDialect, sql, type MigrationResultSet } from 'kysely';
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
  pool.on('connect', (client) => {
    client.on('error', (err: Error & { code?: string }) => poolLog().warn({ code: err.code }, 'Postgres connection lost while in use'));
    prepareNamedStatements(client);
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

const PREPARED = /^\/\* prepared:([a-z0-9-]+) \*\//;

/**
 * A statement whose SQL starts with `/* prepared:NAME *\/` (the `prepared` fragment) is prepared once per connection
 * under that name, so Postgres plans it once and reuses the plan: a statement whose planning costs more than its
 * running (the referral offers' search: 2.7 ms to plan, 0.8 ms to run) is then mostly running. Only for SQL whose
 * text never changes between calls (its values are parameters); Kysely itself cannot name a statement.
 */
function prepareNamedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, ...rest: unknown[]) => {
    const name = typeof text === 'string' ? PREPARED.exec(text)?.[1] : undefined;
    return name ? query({ name, text, values: rest[0] }, ...rest.slice(1)) : query(text, ...rest);
  }) as typeof client.query;
}

/** The leading comment that makes a statement prepared once per connection under `name` (prepareNamedStatements). */
export const prepared = (name: string) => sql.raw(`/* prepared:${name} */ `);

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
