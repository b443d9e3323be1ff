/**
 * The API's side of bearer tokens (platform/tokens.ts): a refused token is a 401, a role that may
 * not act a 403, both in the API's error shape.
 */
import type { MiddlewareHandler } from 'hono';
import { callerFromHeader, TokenRefused, type AuthEnv, type Role, type Caller } from '../platform/tokens';
import { ApiError } from './errors';

export { ROLES, clinicClaims, MAX_TOKEN_HOURS, mintToken, peerAddress, type AuthEnv, type Caller, type Role } from '../platform/tokens';

async function readCaller(secret: string, header: string | undefined): Promise<Caller> {
  try {
    return await callerFromHeader(secret, header);
  } catch (err) {
    if (err instanceof TokenRefused) throw new ApiError(401, 'unauthenticated', err.message);
    throw err;
  }
}

/** Lets the request through only with a valid token whose role is one of `roles`. */
export function requireRole(secret: string, ...roles: Role[]): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const caller = await readCaller(secret, c.req.header('authorization'));
    if (!roles.includes(caller.role)) {
      throw new ApiError(403, 'forbidden', `This action needs one of the roles: ${roles.join(', ')}.`);
    }
    c.set('caller', caller);
    await next();
  };
}
