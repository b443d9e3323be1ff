import { type Kysely, sql } from 'kysely';

/**
 * Page sessions signed in through the city's OpenID Connect provider keep what refresh and
 * sign-out need: the refresh token, the ID token (the logout hint), and when the next refresh is due.
 * Sign-out still deletes the row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE web_sessions
    ADD COLUMN oidc_refresh_token text,
    ADD COLUMN oidc_id_token text,
    ADD COLUMN oidc_refresh_at timestamptz`.execute(db);
}
