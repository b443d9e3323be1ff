import { type Kysely, sql } from 'kysely';

/**
 * Page sessions (web/): the cookie carries a random id, the table its SHA-256, so a copy of the
 * table signs nobody in. A session holds the same caller a bearer token yields (role, patient,
 * practitioner, clinics), however it was signed in (the demo page now, OpenID Connect later),
 * and its CSRF token. Sign-out deletes the row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE web_sessions (
    id_hash text PRIMARY KEY,
    caller jsonb NOT NULL,
    csrf_token text NOT NULL,
    signed_in_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at)`.execute(db);
}
