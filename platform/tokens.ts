/**
 * Bearer tokens (HS256 JWT) with one role each. A patient token also names its patient id and a
 * doctor token its practitioner id, so handlers can check that a caller touches only their own records.
 * Shared by the API (api/auth.ts), the workers' /metrics and `npm start`'s demo tokens.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { sign, verify } from 'hono/jwt';

export const ROLES = ['patient', 'registrar', 'doctor', 'lab', 'ops', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  /** Subject: a user id, never a name. */
  id: string;
  role: Role;
  patientId?: string;
  practitionerId?: string;
  /** The clinic a lab (or clinic-bound staff) token acts for. */
  clinicId?: string;
  /** Every clinic the token acts for (`cid` plus `cids`); registrars and labs are scoped to them (api/access.ts). */
  clinicIds?: string[];
}

export type AuthEnv = { Variables: { caller: Caller; requestId: string } };

/** The clinics a token names: `cid`, and `cids` as an array or a comma-separated string. */
export function clinicClaims(cid: unknown, cids: unknown): string[] {
  const list = Array.isArray(cids) ? cids : typeof cids === 'string' ? cids.split(',') : [];
  const all = [cid, ...list].filter((x): x is string => typeof x === 'string').map((x) => x.trim()).filter(Boolean);
  return [...new Set(all)];
}

/** The longest lifetime a token may be minted with (`npm run token -- --hours` is bounded by it). */
export const MAX_TOKEN_HOURS = 24 * 7;

export async function mintToken(secret: string, caller: Caller, ttlSeconds = 12 * 3600): Promise<string> {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TOKEN_HOURS * 3600) {
    throw new RangeError(`A token lifetime must be more than 0 and at most ${MAX_TOKEN_HOURS} hours.`);
  }
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: caller.id, role: caller.role, pid: caller.patientId, prid: caller.practitionerId, cid: caller.clinicId, ...(caller.clinicIds?.length ? { cids: caller.clinicIds } : {}), iat: now, exp: now + ttlSeconds }, secret, 'HS256');
}

/** A header without a valid token; the message says why, for a 401 (never the token itself). */
export class TokenRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenRefused';
  }
}

/**
 * Tokens already verified, with their caller, until they expire: an app or a desk sends the same
 * token with every call, and verifying an HMAC through WebCrypto costs more than the call's own
 * work. Keyed by secret and token; bounded (the oldest entries go first).
 */
const verified = new Map<string, { caller: Caller; expMs: number }>();
const VERIFIED_MAX = 10_000;

/** The caller of an `authorization: Bearer <token>` header; throws TokenRefused. */
export async function callerFromHeader(secret: string, header: string | undefined): Promise<Caller> {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) throw new TokenRefused('A bearer token is required.');
  const key = `${secret}\u0000${match[1]}`;
  const hit = verified.get(key);
  if (hit && hit.expMs > Date.now()) return hit.caller;
  if (hit) verified.delete(key);
  const caller = await verifyCaller(secret, match[1]!);
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
  verified.set(key, { caller, expMs: callerExpiry.get(caller)! });
  return caller;
}

/** When each verified caller's token expires (epoch ms). */
const callerExpiry = new WeakMap<Caller, number>();

async function verifyCaller(secret: string, token: string): Promise<Caller> {
  let payload: Record<string, unknown>;
  try {
    payload = (await verify(token, secret, 'HS256')) as Record<string, unknown>;
  } catch {
    throw new TokenRefused('The bearer token is invalid or expired.');
  }
  // hono/jwt checks `exp` only when the token has one: a token without it would never expire.
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) {
    throw new TokenRefused('The bearer token has no expiry.');
  }
  const role = payload.role as Role;
  if (typeof payload.sub !== 'string' || !payload.sub || !ROLES.includes(role)) {
    throw new TokenRefused('The bearer token has no valid subject or role.');
  }
  const caller: Caller = Object.freeze({
    id: payload.sub,
    role,
    patientId: typeof payload.pid === 'string' ? payload.pid : undefined,
    practitionerId: typeof payload.prid === 'string' ? payload.prid : undefined,
    clinicId: typeof payload.cid === 'string' ? payload.cid : undefined,
    clinicIds: clinicClaims(payload.cid, payload.cids),
  });
  callerExpiry.set(caller, payload.exp * 1000);
  return caller;
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
