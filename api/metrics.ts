/**
 * GET /metrics: the API's Prometheus metrics (platform/metrics.ts) plus the gauges read from
 * Postgres. Never open on the API port: a reverse proxy on the same host makes every public
 * caller look like loopback. It needs METRICS_TOKEN (a scraper's long-lived bearer) or an ops or
 * admin token (Prometheus: `authorization: { credentials_file: ... }`, docs/access.md).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { dbGauges } from '../db/metrics';
import { METRICS_CONTENT_TYPE, metricsRegistry, registerDbGauges, renderMetrics } from '../platform/metrics';
import { metricsAccess } from '../platform/metrics-access';
import type { AuthSettings } from '../platform/tokens';
import { errorResponse } from './errors';
import { newRouter, type ApiDeps } from './router';

const metricsRoute = (auth: AuthSettings, metricsToken: string | undefined) =>
  createRoute({
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
    c.text(await renderMetrics(), 200, { 'content-type': METRICS_CONTENT_TYPE }),
  );
}
