/**
 * Bearer token verification with jose, one verifier per configuration:
 * - RS256/ES256 tokens from the configured OpenID Connect issuer: discovery once, then its JWKS
 *   (createRemoteJWKSet: an unknown key id reads the set again, so a rotated-in key works at once;
 *   a retired key is trusted until the fetched set is older than OIDC_JWKS_CACHE_SECONDS), issuer
 *   and audience checked, clock skew bounded by OIDC_CLOCK_SKEW_SECONDS;
 * - local HS256 tokens signed with AUTH_SECRET (the embedded default), only where allowed;
 * - anything else (alg none, another algorithm) is refused.
 * A refusal names its reason for the log (TokenRefused); the caller gets one generic 401.
 */
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose' with { 'resolution-mode': 'import' };
import type { Config } from './config';
import { hs256Allowed } from './oidc-config';
import { ROLES, type Caller, type Role } from './caller';

/** jose ships ESM only: loaded once, on first use. */
const jose = () => import('jose');

const ROLE_NAMES: readonly string[] = ROLES;
const ISSUER_ALGORITHMS = ['RS256', 'ES256'];

/** What the log says about a refused token (never the token or its claims). */
export type RefusalReason =
  | 'no_token'
  | 'malformed'
  | 'alg_not_allowed'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'no_expiry'
  | 'bad_signature'
  | 'unknown_key'
  | 'no_subject_or_role';

export class TokenRefused extends Error {
  constructor(readonly reason: RefusalReason) {
    super(`token refused: ${reason}`);
    this.name = 'TokenRefused';
  }
}

/** The issuer's discovery or key set could not be read: not the caller's fault (503). */
export class IssuerUnavailable extends Error {
  constructor(why: string) {
    super(`the OpenID Connect issuer is unavailable: ${why}`);
    this.name = 'IssuerUnavailable';
  }
}

/** The settings token verification reads; AUTH_SECRET alone means local HS256 tokens only. */
export type AuthSettings = Pick<Config, 'AUTH_SECRET'> &
  Partial<
    Pick<
      Config,
      | 'NODE_ENV'
      | 'AUTH_ALLOW_HS256'
      | 'OIDC_ISSUER'
      | 'OIDC_AUDIENCE'
      | 'OIDC_CLAIM_ROLE'
      | 'OIDC_CLAIM_PATIENT_ID'
      | 'OIDC_CLAIM_PRACTITIONER_ID'
      | 'OIDC_CLAIM_CLINICS'
      | 'OIDC_CLOCK_SKEW_SECONDS'
      | 'OIDC_JWKS_CACHE_SECONDS'
      | 'OIDC_JWKS_COOLDOWN_SECONDS'
    >
  >;

export interface VerifiedToken {
  caller: Caller;
  /** When the token expires (epoch ms). */
  expMs: number;
  /** Until when this verification may be reused without checking again (epoch ms). */
  reuseUntilMs: number;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

/** A claim by its full name (URL-style names hold dots), else by a dotted path into nested objects. */
export function claimAt(payload: Record<string, unknown>, name: string): unknown {
  if (name in payload) return payload[name];
  return name.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), payload);
}

/** The clinics a claim names: an array, or a comma-separated string. */
export function clinicList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  return [
    ...new Set(
      list
        .filter((x): x is string => typeof x === 'string')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ];
}

/** Exactly one of our roles: a string, or an array (e.g. realm roles) holding one of ours. */
export function roleOf(value: unknown): Role | undefined {
  const ours = [
    ...new Set((Array.isArray(value) ? value : [value]).filter((r): r is string => typeof r === 'string' && ROLE_NAMES.includes(r))),
  ];
  return ours.length === 1 ? (ours[0] as Role) : undefined;
}

function refusalOf(err: unknown): RefusalReason {
  const e = err as { code?: string; claim?: string; reason?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'alg_not_allowed';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown_key';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'iss') return 'wrong_issuer';
      if (e.claim === 'aud') return 'wrong_audience';
      if (e.claim === 'exp') return 'no_expiry';
      if (e.claim === 'nbf' || e.claim === 'iat') return 'not_yet_valid';
      return 'malformed';
    default:
      return 'malformed';
  }
}

export function createTokenVerifier(s: AuthSettings): TokenVerifier {
  const skew = s.OIDC_CLOCK_SKEW_SECONDS ?? 30;
  const localAllowed = hs256Allowed({ NODE_ENV: s.NODE_ENV ?? 'development', AUTH_ALLOW_HS256: s.AUTH_ALLOW_HS256 });
  const secret = new TextEncoder().encode(s.AUTH_SECRET);
  const issuerKeys = s.OIDC_ISSUER ? lazyIssuerKeys(s.OIDC_ISSUER, s) : undefined;

  async function checked(token: string, key: Uint8Array | JWTVerifyGetKey, opts: JWTVerifyOptions): Promise<JWTPayload> {
    const { jwtVerify } = await jose();
    try {
      // Both overloads of jwtVerify, one call site.
      return (await jwtVerify(token, key as Uint8Array, { ...opts, requiredClaims: ['exp'], clockTolerance: skew })).payload;
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Not a verdict on the token (the key set could not be fetched): the issuer is unavailable.
      if (code === 'ERR_JWKS_TIMEOUT' || !code?.startsWith('ERR_J')) throw new IssuerUnavailable(code ?? 'key set unreadable');
      throw new TokenRefused(refusalOf(err));
    }
  }

  return async (token) => {
    let alg: unknown;
    try {
      alg = (await jose()).decodeProtectedHeader(token).alg;
    } catch {
      throw new TokenRefused('malformed');
    }
    if (alg === 'HS256' && localAllowed) {
      const p = await checked(token, secret, { algorithms: ['HS256'] });
      const caller = callerFrom(p, { role: 'role', patientId: 'pid', practitionerId: 'prid', clinics: undefined });
      return { caller, expMs: p.exp! * 1000, reuseUntilMs: p.exp! * 1000 };
    }
    if (typeof alg !== 'string' || !ISSUER_ALGORITHMS.includes(alg) || !issuerKeys) throw new TokenRefused('alg_not_allowed');
    const p = await checked(token, await issuerKeys(), { algorithms: ISSUER_ALGORITHMS, issuer: s.OIDC_ISSUER, audience: s.OIDC_AUDIENCE });
    const caller = callerFrom(p, {
      role: s.OIDC_CLAIM_ROLE ?? 'role',
      patientId: s.OIDC_CLAIM_PATIENT_ID ?? 'patient_id',
      practitionerId: s.OIDC_CLAIM_PRACTITIONER_ID ?? 'practitioner_id',
      clinics: s.OIDC_CLAIM_CLINICS ?? 'clinics',
    });
    // A retired key is trusted as long as the fetched key set is: no longer here either.
    return { caller, expMs: p.exp! * 1000, reuseUntilMs: Math.min(p.exp! * 1000, Date.now() + (s.OIDC_JWKS_CACHE_SECONDS ?? 600) * 1000) };
  };
}

/** The caller a verified payload names; local tokens use short claim names (cid + cids for clinics). */
function callerFrom(
  p: JWTPayload,
  names: { role: string; patientId: string; practitionerId: string; clinics: string | undefined },
): Caller {
  const role = roleOf(claimAt(p, names.role));
  if (typeof p.sub !== 'string' || !p.sub || !role) throw new TokenRefused('no_subject_or_role');
  const text = (name: string) => {
    const v = claimAt(p, name);
    return typeof v === 'string' && v ? v : undefined;
  };
  const clinics = names.clinics ? clinicList(claimAt(p, names.clinics)) : clinicList([p.cid, ...clinicList(p.cids)]);
  return Object.freeze({
    id: p.sub,
    role,
    patientId: text(names.patientId),
    practitionerId: text(names.practitionerId),
    clinicId: names.clinics ? clinics[0] : text('cid'),
    clinicIds: clinics,
  });
}

/** Discovery once (again after a failure), then the issuer's remote key set. */
function lazyIssuerKeys(issuer: string, s: AuthSettings): () => Promise<JWTVerifyGetKey> {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => {
      throw new IssuerUnavailable('discovery could not be read');
    });
    if (!res.ok) throw new IssuerUnavailable(`discovery answered ${res.status}`);
    const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
    if (doc.issuer !== issuer || !doc.jwks_uri) throw new IssuerUnavailable('discovery names another issuer or no jwks_uri');
    const { createRemoteJWKSet } = await jose();
    return createRemoteJWKSet(new URL(doc.jwks_uri), {
      cacheMaxAge: (s.OIDC_JWKS_CACHE_SECONDS ?? 600) * 1000,
      cooldownDuration: (s.OIDC_JWKS_COOLDOWN_SECONDS ?? 30) * 1000,
      timeoutDuration: 5000,
    });
  };
  return () =>
    (keys ??= discover().catch((err: unknown) => {
      keys = undefined;
      throw err;
    }));
}
