/**
 * Bearer tokens (JWT) with one role each: the city's OpenID Connect issuer's (RS256/ES256, JWKS,
 * platform/token-verifier.ts) or the embedded default's own HS256 ones. A patient token also names its patient id and a
 * doctor token its practitioner id, so handlers can check that a caller touches only their own records.
 * Shared by the API (api/auth.ts), the workers' /metrics and `npm start`'s demo tokens.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { sign } from 'hono/jwt';
import type { Caller } from './caller';
import { createTokenVerifier, TokenRefused, type AuthSettings, type RefusalReason } from './token-verifier';

export { ROLES, type Caller, type Role } from './caller';
export { IssuerUnavailable, TokenRefused, type AuthSettings, type RefusalReason } from './token-verifier';

/** `authRefusal`: why a token was refused, for the access log only. */
export type AuthEnv = { Variables: { caller: Caller; requestId: string; authRefusal?: RefusalReason | 'issuer_unavailable' } };

/** The clinics a token names: `cid`, and `cids` as an array or a comma-separated string. */
export function clinicClaims(cid: unknown, cids: unknown): string[] {
  const list = Array.isArray(cids) ? cids : typeof cids === 'string' ? cids.split(',') : [];
  const all = [cid, ...list]
    .filter((x): x is string => typeof x === 'string')
    .map((x) => x.trim())
    .filter(Boolean);
  return [...new Set(all)];
}

/** The longest lifetime a token may be minted with (`npm run token -- --hours` is bounded by it). */
export const MAX_TOKEN_HOURS = 24 * 7;

export async function mintToken(secret: string, caller: Caller, ttlSeconds = 12 * 3600): Promise<string> {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TOKEN_HOURS * 3600) {
    throw new RangeError(`A token lifetime must be more than 0 and at most ${MAX_TOKEN_HOURS} hours.`);
  }
  const now = Math.floor(Date.now() / 1000);
  return sign(
    {
      sub: caller.id,
      role: caller.role,
      pid: caller.patientId,
      prid: caller.practitionerId,
      cid: caller.clinicId,
      ...(caller.clinicIds?.length ? { cids: caller.clinicIds } : {}),
      iat: now,
      exp: now + ttlSeconds,
    },
    secret,
    'HS256',
  );
}

/**
 * Tokens already verified, with their caller, until they expire or their key set is due to be read
 * again: an app or a desk sends the same token with every call, and verifying a signature costs more
 * than the call's own work. One cache per settings object; bounded (the oldest entries go first).
 */
const verifiers = new WeakMap<AuthSettings, (token: string) => Promise<Caller>>();
const VERIFIED_MAX = 10_000;

function verifierFor(settings: AuthSettings): (token: string) => Promise<Caller> {
  let found = verifiers.get(settings);
  if (found) return found;
  const verify = createTokenVerifier(settings);
  const verified = new Map<string, { caller: Caller; untilMs: number }>();
  found = async (token) => {
    const hit = verified.get(token);
    if (hit && hit.untilMs > Date.now()) return hit.caller;
    if (hit) verified.delete(token);
    const { caller, reuseUntilMs } = await verify(token);
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, { caller, untilMs: reuseUntilMs });
    return caller;
  };
  verifiers.set(settings, found);
  return found;
}

/** The caller an access token names (the issuer's, or a local HS256 one where allowed); throws TokenRefused or IssuerUnavailable. */
export function callerOfToken(settings: AuthSettings, token: string): Promise<Caller> {
  return verifierFor(settings)(token);
}

/** The caller of an `authorization: Bearer <token>` header; throws TokenRefused (reason `no_token` without one). */
export async function callerFromHeader(settings: AuthSettings, header: string | undefined): Promise<Caller> {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) throw new TokenRefused('no_token');
  return verifierFor(settings)(match[1]!);
}

/**
 * The peer's address when the request came over a real socket (@hono/node-server), else
 * undefined (in-process `app.request()`): callers treat undefined as not loopback.
 */
export function peerAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}
