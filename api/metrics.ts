/**
 * GET /metrics: the API's Prometheus metrics (platform/metrics.ts) plus the gauges read from
 * Postgres. Never open on the API port: a reverse proxy on the same host makes every public
 * caller look like loopback. It needs METRICS_TOKEN (a scraper's long-lived bearer) or an ops or
 * admin token (Prometheus: `authorization: { credentials_file: ... }`, docs/access.md).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { dbGauges } from '../db/metrics';
import { isLoopbackHost } from '../platform/config';
import { METRICS_CONTENT_TYPE, metricsRegistry, registerDbGauges, renderMetrics } from '../platform/metrics';
import { timingSafeEqual } from 'node:crypto';
import { peerAddress, requireRole, type AuthEnv, type AuthSettings } from './auth';
import { errorResponse } from './errors';
import { newRouter, type ApiDeps } from './router';

/** Is the header `Bearer <metricsToken>`? Compared in constant time. */
function isScrapeToken(header: string | undefined, metricsToken: string | undefined): boolean {
  if (!metricsToken || !header) return false;
  const given = Buffer.from(header);
  const wanted = Buffer.from(`Bearer ${metricsToken}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * METRICS_TOKEN, or an ops or admin token. `loopbackOpen` (a worker's own metrics port, bound to
 * loopback by default) also lets a token-less loopback peer through; the API port never does.
 */
export function metricsAccess(auth: AuthSettings, opts: { metricsToken?: string; loopbackOpen: boolean }): MiddlewareHandler<AuthEnv> {
  const withToken = requireRole(auth, 'ops', 'admin');
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (isScrapeToken(header, opts.metricsToken)) return next();
    if (opts.loopbackOpen && !header && isLoopbackHost(peerAddress(c))) return next();
    return withToken(c, next);
  };
}

const metricsRoute = (auth: AuthSettings, metricsToken: string | undefined) => createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics of the API process (METRICS_TOKEN, or an ops/admin token)',
  security: [{ bearer: [] }],
  middleware: [metricsAccess(auth, { metricsToken, loopbackOpen: false })] as const,
  responses: {
    200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
    401: errorResponse('No valid token'),
    403: errorResponse('Only ops and admins may read metrics'),
  },
});

export function metricsRouter(deps: ApiDeps) {
  registerDbGauges(metricsRegistry, dbGauges(deps.db));
  return newRouter().openapi(metricsRoute(deps.config, deps.config.METRICS_TOKEN), async (c) =>
    c.text(await renderMetrics(), 200, { 'content-type': METRICS_CONTENT_TYPE }));
}
