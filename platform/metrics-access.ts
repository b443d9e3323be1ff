/**
 * Who may read /metrics, on the API port and on each worker's own port: METRICS_TOKEN (a
 * scraper's long-lived bearer) or an ops or admin token; `loopbackOpen` (a worker's port, bound to
 * loopback by default) also lets a token-less loopback peer through. The API port never does: a
 * reverse proxy on the same host makes every public caller look like loopback.
 */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { isLoopbackHost } from './config';
import { errorBody } from './error-body';
import { callerFromHeader, IssuerUnavailable, peerAddress, TokenRefused, type AuthEnv, type AuthSettings, type Role } from './tokens';

const METRICS_ROLES: readonly Role[] = ['ops', 'admin'];

/** Is the header `Bearer <metricsToken>`? Compared in constant time. */
function isScrapeToken(header: string | undefined, metricsToken: string | undefined): boolean {
  if (!metricsToken || !header) return false;
  const given = Buffer.from(header);
  const wanted = Buffer.from(`Bearer ${metricsToken}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Answers 401 `unauthenticated` or 403 `forbidden` itself (the API's error shape), else lets the scrape through. */
export function metricsAccess(auth: AuthSettings, opts: { metricsToken?: string; loopbackOpen: boolean }): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (isScrapeToken(header, opts.metricsToken)) return next();
    if (opts.loopbackOpen && !header && isLoopbackHost(peerAddress(c))) return next();
    let role: Role;
    try {
      ({ role } = await callerFromHeader(auth, header));
    } catch (err) {
      if (err instanceof TokenRefused) return c.json(errorBody('unauthenticated', 'The bearer token is missing, invalid or expired.'), 401);
      if (err instanceof IssuerUnavailable)
        return c.json(errorBody('unavailable', 'Sign-in cannot be checked right now; try again shortly.'), 503);
      throw err;
    }
    if (!METRICS_ROLES.includes(role)) {
      return c.json(errorBody('forbidden', `This action needs one of the roles: ${METRICS_ROLES.join(', ')}.`), 403);
    }
    return next();
  };
}
