/**
 * Sign-in settings (docs/sign-in.md): the city's OpenID Connect issuer whose tokens the API
 * accepts, the web app's client, the claim names that carry role and scope, and the HS256 policy.
 */
import { z } from 'zod';

const seconds = (max: number, fallback: number) => z.coerce.number().int().min(0).max(max).default(fallback);
const claimPath = (fallback: string) =>
  z
    .string()
    .regex(/^[\w:/.-]+$/, 'a claim name, dots for nesting')
    .default(fallback);

export const OIDC_SETTINGS = {
  /** The issuer URL (discovery at /.well-known/openid-configuration); unset: only local HS256 tokens. */
  OIDC_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  /** The `aud` the API requires in access tokens (the resource the issuer issues them for). */
  OIDC_AUDIENCE: z.string().min(1).optional(),
  /** The web app's client at the issuer (authorization code + PKCE); unset: pages do not sign in through the issuer. */
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Scopes the web app asks for (space-separated); offline_access brings a refresh token. */
  OIDC_SCOPES: z.string().default('openid offline_access'),
  /** Public URL of the pages (callback `<url>/auth/callback`); unset: taken from the request. */
  WEB_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Claim names (dots for nesting, e.g. realm_access.roles): role, patient id, practitioner id, clinics. */
  OIDC_CLAIM_ROLE: claimPath('role'),
  OIDC_CLAIM_PATIENT_ID: claimPath('patient_id'),
  OIDC_CLAIM_PRACTITIONER_ID: claimPath('practitioner_id'),
  OIDC_CLAIM_CLINICS: claimPath('clinics'),
  /** Clock skew tolerated on exp/nbf/iat, bounded to 5 minutes. */
  OIDC_CLOCK_SKEW_SECONDS: seconds(300, 30),
  /** How long fetched signing keys are trusted before the JWKS is read again (a retired key dies with it). */
  OIDC_JWKS_CACHE_SECONDS: seconds(86_400, 600),
  /** The least time between two JWKS reads caused by an unknown key id. */
  OIDC_JWKS_COOLDOWN_SECONDS: seconds(3600, 30),
  /** Local HS256 tokens (AUTH_SECRET): allowed by default except in production, where only 'true' allows them. */
  AUTH_ALLOW_HS256: z.enum(['true', 'false']).optional(),
};

type OidcSettings = z.infer<z.ZodObject<typeof OIDC_SETTINGS>>;

/** True when this installation accepts local HS256 tokens. */
export function hs256Allowed(c: { NODE_ENV: string; AUTH_ALLOW_HS256?: 'true' | 'false' }): boolean {
  return c.AUTH_ALLOW_HS256 ? c.AUTH_ALLOW_HS256 === 'true' : c.NODE_ENV !== 'production';
}

/** Settings that make no sense together fail the start (never half a sign-in). */
export function checkOidcSettings(c: OidcSettings & { NODE_ENV: string; WEB_DEMO_SIGN_IN: 'on' | 'off' }): void {
  const fail = (why: string) => {
    throw new Error(`Invalid configuration: ${why}`);
  };
  if (c.OIDC_ISSUER && !c.OIDC_AUDIENCE) fail('OIDC_AUDIENCE is required with OIDC_ISSUER');
  if (c.OIDC_CLIENT_ID && !c.OIDC_ISSUER) fail('OIDC_CLIENT_ID needs OIDC_ISSUER');
  if (c.NODE_ENV === 'production') {
    if (c.WEB_DEMO_SIGN_IN === 'on') fail('WEB_DEMO_SIGN_IN is for the embedded start only, never in production');
    if (!c.OIDC_ISSUER && !hs256Allowed(c)) fail('production needs OIDC_ISSUER (or AUTH_ALLOW_HS256=true for local tokens)');
    if (c.OIDC_ISSUER?.startsWith('http:')) fail('OIDC_ISSUER must be https in production');
  }
}
