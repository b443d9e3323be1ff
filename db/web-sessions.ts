/** Page sessions (web/session.ts): stored by the SHA-256 of the cookie's id, deleted on sign-out. */
import { sql } from 'kysely';
import type { Db } from './index';
import { oidcColumns, type OidcSessionTokens } from './web-sessions-oidc';

export interface StoredSession {
  caller: unknown;
  csrfToken: string;
  signedInBy: string;
  expiresAt: Date;
}

export async function createWebSession(
  db: Db,
  s: { idHash: string; caller: object; csrfToken: string; signedInBy: string; ttlSeconds: number; oidc?: OidcSessionTokens },
): Promise<void> {
  await db
    .insertInto('web_sessions')
    .values({
      id_hash: s.idHash,
      caller: JSON.stringify(s.caller),
      csrf_token: s.csrfToken,
      signed_in_by: s.signedInBy,
      ...oidcColumns(s.oidc),
      expires_at: sql<Date>`now() + make_interval(secs => ${s.ttlSeconds})`,
    })
    .execute();
}

/** The live session with this id hash, or undefined (unknown, signed out or expired). */
export async function readWebSession(db: Db, idHash: string): Promise<StoredSession | undefined> {
  const row = await db
    .selectFrom('web_sessions')
    .select(['caller', 'csrf_token', 'signed_in_by', 'expires_at'])
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return row && { caller: row.caller, csrfToken: row.csrf_token, signedInBy: row.signed_in_by, expiresAt: row.expires_at };
}

export async function deleteWebSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('web_sessions').where('id_hash', '=', idHash).execute();
}

/** Drops sessions that expired (called now and then by sign-in, so the table stays small). */
export async function purgeExpiredWebSessions(db: Db): Promise<number> {
  const r = await db
    .deleteFrom('web_sessions')
    .where('expires_at', '<=', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
