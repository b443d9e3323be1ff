/**
 * What a page session signed in through OpenID Connect keeps (web/oidc-sign-in.ts): its refresh
 * token, its ID token for the logout hint, and when the next refresh is due. One caller at a
 * time claims a due refresh (a refresh token may be spent once).
 */
import { sql } from 'kysely';
import type { Db } from './index';

export interface OidcSessionTokens {
  refreshToken: string | null;
  idToken: string | null;
  refreshInSeconds: number;
}

export const oidcColumns = (t: OidcSessionTokens | undefined) =>
  t
    ? {
        oidc_refresh_token: t.refreshToken,
        oidc_id_token: t.idToken,
        oidc_refresh_at: sql<Date>`now() + make_interval(secs => ${t.refreshInSeconds})`,
      }
    : {};

/** The session's ID token (for the logout hint) and refresh token, if it was signed in through the provider. */
export async function readOidcTokens(db: Db, idHash: string): Promise<{ idToken: string | null; refreshToken: string | null } | undefined> {
  const row = await db
    .selectFrom('web_sessions')
    .select(['oidc_id_token', 'oidc_refresh_token'])
    .where('id_hash', '=', idHash)
    .where('signed_in_by', '=', 'oidc')
    .executeTakeFirst();
  return row && { idToken: row.oidc_id_token, refreshToken: row.oidc_refresh_token };
}

/**
 * Claims the session's refresh if it is due: the refresh token to spend, or undefined (not due,
 * not an OIDC session, or another request took it; it moves the due time a minute on meanwhile).
 */
export async function claimDueRefresh(db: Db, idHash: string): Promise<{ refreshToken: string | null } | undefined> {
  const row = await db
    .updateTable('web_sessions')
    .set({ oidc_refresh_at: sql<Date>`now() + interval '1 minute'` })
    .where('id_hash', '=', idHash)
    .where('signed_in_by', '=', 'oidc')
    .where('oidc_refresh_at', '<=', sql<Date>`now()`)
    .returning(['oidc_refresh_token'])
    .executeTakeFirst();
  return row && { refreshToken: row.oidc_refresh_token };
}

/** Stores a refresh's result: the caller as the new access token names it, and the new tokens. */
export async function storeRefresh(db: Db, idHash: string, caller: object, tokens: OidcSessionTokens): Promise<void> {
  await db
    .updateTable('web_sessions')
    .set({
      caller: JSON.stringify(caller),
      oidc_refresh_token: tokens.refreshToken,
      oidc_refresh_at: sql<Date>`now() + make_interval(secs => ${tokens.refreshInSeconds})`,
      ...(tokens.idToken ? { oidc_id_token: tokens.idToken } : {}),
    })
    .where('id_hash', '=', idHash)
    .execute();
}
