/**
 * GET /metrics: the API's Prometheus metrics (platform/metrics.ts) plus the gauges read from
 * Postgres. Open to a scraper on the loopback address; from anywhere else it needs an ops or
 * admin bearer token (Prometheus: `authorization: { credentials: <token> }`).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { dbGauges } from '../db/metrics';
import { isLoopbackHost } from '../platform/config';
import { METRICS_CONTENT_TYPE, metricsRegistry, registerDbGauges, renderMetrics } from '../platform/metrics';
import { peerAddress, requireRole, type AuthEnv } from './auth';
import { errorResponse } from './errors';
import { newRouter, type ApiDeps } from './router';

/** Token-less from a loopback peer (a local scraper), else an ops or admin token. */
export function metricsAccess(secret: string): MiddlewareHandler<AuthEnv> {
  const withToken = requireRole(secret, 'ops', 'admin');
  return async (c, next) => (isLoopbackHost(peerAddress(c)) && !c.req.header('authorization') ? next() : withToken(c, next));
}

const metricsRoute = (secret: string) => createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics of the API process (loopback, or ops/admin token)',
  security: [{ bearer: [] }, {}],
  middleware: [metricsAccess(secret)] as const,
  responses: {
    200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
    401: errorResponse('Not on loopback and no valid token'),
    403: errorResponse('Only ops and admins may read metrics'),
  },
});

export function metricsRouter(deps: ApiDeps) {
  registerDbGauges(metricsRegistry, dbGauges(deps.db));
  return newRouter().openapi(metricsRoute(deps.config.AUTH_SECRET), async (c) =>
    c.text(await renderMetrics(), 200, { 'content-type': METRICS_CONTENT_TYPE }));
}
