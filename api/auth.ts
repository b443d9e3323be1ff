/**
 * The API's side of bearer tokens (platform/tokens.ts: the city's OpenID Connect issuer's, or the
 * embedded default's HS256 ones): a refused token is a 401 whose reason goes to the access log only,
 * a role that may not act a 403, both in the API's error shape.
 */
import type { Context, MiddlewareHandler } from 'hono';
import {
  callerFromHeader,
  IssuerUnavailable,
  TokenRefused,
  type AuthEnv,
  type AuthSettings,
  type Caller,
  type Role,
} from '../platform/tokens';
import { ApiError } from './errors';

export {
  ROLES,
  callerOfToken,
  clinicClaims,
  MAX_TOKEN_HOURS,
  mintToken,
  peerAddress,
  type AuthEnv,
  type AuthSettings,
  type Caller,
  type Role,
} from '../platform/tokens';

/** The caller of a request's bearer token; a refusal's reason goes to the context (the access log), never the answer. */
async function readCaller(c: Context<AuthEnv>, settings: AuthSettings): Promise<Caller> {
  const header = c.req.header('authorization');
  try {
    return await callerFromHeader(settings, header);
  } catch (err) {
    if (err instanceof IssuerUnavailable) {
      c.set('authRefusal', 'issuer_unavailable');
      throw new ApiError(503, 'unavailable', 'Sign-in cannot be checked right now; try again shortly.');
    }
    if (!(err instanceof TokenRefused)) throw err;
    c.set('authRefusal', err.reason);
    throw new ApiError(401, 'unauthenticated', header ? 'The bearer token is invalid or expired.' : 'A bearer token is required.');
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
