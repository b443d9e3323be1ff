/** Page sessions (web/): see the migration 2026_12_07_0600_web_sessions. */
import type { CreatedAt, Json, Timestamp } from './columns';

export interface WebSessionsTable {
  /** SHA-256 (hex) of the cookie's random id: the id itself is never stored. */
  id_hash: string;
  /** The caller the session acts as (the same shape a bearer token yields). */
  caller: Json;
  csrf_token: string;
  /** How the session was signed in: 'demo' now, 'oidc' later. */
  signed_in_by: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  /** Sessions signed in through OpenID Connect (2026_12_08_0300_web_sessions_oidc): refresh token, ID token, next refresh. */
  oidc_refresh_token: string | null;
  oidc_id_token: string | null;
  oidc_refresh_at: Timestamp | null;
}
