/**
 * Where the command-line tools (check:invariants, db:migrate, load:inventory) find Postgres and
 * Temporal: the same settings `npm start` uses (DATABASE_URL, else the embedded Postgres on
 * EMBEDDED_PG_PORT; TEMPORAL_ADDRESS, else the dev server on TEMPORAL_DEV_PORT), so a tool run
 * beside a started engine with the same environment finds it. A tool that cannot reach one names
 * the address it tried and the setting that moves it.
 */
import type { Client } from '@temporalio/client';
import { sql, type Kysely } from 'kysely';
import { embeddedDatabaseUrl, type Config } from './config';
import { connectClient, temporalAddress } from './temporal';

export function cliDatabaseUrl(config: Config): string {
  return config.DATABASE_URL ?? embeddedDatabaseUrl(config.EMBEDDED_PG_PORT);
}

/** host:port/database of a Postgres URL, without its credentials. */
export function databaseAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'an unreadable DATABASE_URL';
  }
}

/** Why a connection failed, in one line (Node's AggregateError of a refused connect has no message of its own). */
function reason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: { code?: unknown }[] };
  const found = typeof e?.code === 'string' ? e.code : e?.errors?.find((x) => typeof x.code === 'string')?.code;
  const code = typeof found === 'string' ? found : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (message) return code && !message.includes(code) ? `${code}: ${message}` : message;
  return code || String(err);
}

/** Answers one query, or throws an error that names the address and the setting. */
export async function reachPostgres(db: Kysely<any>, config: Config): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    const setting = config.DATABASE_URL ? 'DATABASE_URL' : "EMBEDDED_PG_PORT (npm start's embedded Postgres), or DATABASE_URL";
    throw new Error(`cannot reach Postgres at ${databaseAddress(cliDatabaseUrl(config))} (${setting}): ${reason(err)}`);
  }
}

/** A Temporal client, or an error that names the address and the setting. */
export async function reachTemporal(config: Config): Promise<Client> {
  try {
    return await connectClient(config);
  } catch (err) {
    const setting = config.TEMPORAL_ADDRESS ? 'TEMPORAL_ADDRESS' : "TEMPORAL_DEV_PORT (npm start's Temporal), or TEMPORAL_ADDRESS";
    throw new Error(`cannot reach Temporal at ${temporalAddress(config)} (${setting}): ${reason(err)}`);
  }
}
