/**
 * Bearer tokens (JWT) with one role each: the city's OpenID Connect issuer's (RS256/ES256, JWKS) or
 * the embedded default's own HS256 ones (api/token-verifier.ts). A patient token also names its patient id and a
 * doctor token its practitioner id, so handlers can check that a caller touches only their own records.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { sign } from 'hono/jwt';
import type { Caller, Role } from './caller';
import { ApiError } from './errors';
import { createTokenVerifier, IssuerUnavailable, TokenRefused, type AuthSettings, type RefusalReason } from './token-verifier';

export type { AuthSettings } from './token-verifier';

export { ROLES, type Caller, type Role } from './caller';

/** The clinics a token names: `cid`, and `cids` as an array or a comma-separated string. */
export function clinicClaims(cid: unknown, cids: unknown): string[] {
  const list = Array.isArray(cids) ? cids : typeof cids === 'string' ? cids.split(',') : [];
  const all = [cid, ...list].filter((x): x is string => typeof x === 'string').map((x) => x.trim()).filter(Boolean);
  return [...new Set(all)];
}

/** `authRefusal`: why a token was refused, for the access log only. */
export type AuthEnv = { Variables: { caller: Caller; requestId: string; authRefusal?: RefusalReason | 'issuer_unavailable' } };

/** The longest lifetime a token may be minted with (`npm run token -- --hours` is bounded by it). */
export const MAX_TOKEN_HOURS = 24 * 7;

export async function mintToken(secret: string, caller: Caller, ttlSeconds = 12 * 3600): Promise<string> {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TOKEN_HOURS * 3600) {
    throw new RangeError(`A token lifetime must be more than 0 and at most ${MAX_TOKEN_HOURS} hours.`);
  }
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: caller.id, role: caller.role, pid: caller.patientId, prid: caller.practitionerId, cid: caller.clinicId, ...(caller.clinicIds?.length ? { cids: caller.clinicIds } : {}), iat: now, exp: now + ttlSeconds }, secret, 'HS256');
}

/**
 * One verifier per configuration object (api/token-verifier.ts), with the tokens it has already
 * verified until they expire or their key set is due to be read again: an app or a desk sends
 * the same token with every call, and verifying a signature costs more than the call's own work.
 * Bounded (the oldest entries go first).
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

/** The caller an access token names, verified as the API verifies it (the pages' OIDC sign-in uses it); throws TokenRefused. */
export function callerOfToken(settings: AuthSettings, token: string): Promise<Caller> {
  return verifierFor(settings)(token);
}

/** The caller of a request's bearer token; a refusal's reason goes to the context (the access log), never the answer. */
async function readCaller(c: Context<AuthEnv>, settings: AuthSettings): Promise<Caller> {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
  try {
    if (!match) throw new TokenRefused('no_token');
    return await verifierFor(settings)(match[1]!);
  } catch (err) {
    if (err instanceof IssuerUnavailable) {
      c.set('authRefusal', 'issuer_unavailable');
      throw new ApiError(503, 'unavailable', 'Sign-in cannot be checked right now; try again shortly.');
    }
    if (!(err instanceof TokenRefused)) throw err;
    c.set('authRefusal', err.reason);
    throw new ApiError(401, 'unauthenticated', match ? 'The bearer token is invalid or expired.' : 'A bearer token is required.');
  }
}

/** Lets the request through only with a valid token whose role is one of `roles`. */
export function requireRole(settings: AuthSettings, ...roles: Role[]): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const caller = await readCaller(c, settings);
    if (!roles.includes(caller.role)) {
      throw new ApiError(403, 'forbidden', `This action needs one of the roles: ${roles.join(', ')}.`);
    }
    c.set('caller', caller);
    await next();
  };
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

