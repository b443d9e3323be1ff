/** Liveness of the engine's dependencies, for load balancers and ops. */
import { createRoute, z } from '@hono/zod-openapi';
import { pingDb } from '../db';
import { newRouter, type ApiDeps } from './router';

const DependencySchema = z.object({ up: z.boolean(), latencyMs: z.number() });
const HealthSchema = z
  .object({ status: z.enum(['ok', 'degraded']), postgres: DependencySchema, temporal: DependencySchema.extend({ namespace: z.string() }) })
  .openapi('Health');

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  summary: 'Reports whether Postgres and Temporal answer',
  responses: {
    200: { description: 'Both dependencies are up', content: { 'application/json': { schema: HealthSchema } } },
    503: { description: 'A dependency is down', content: { 'application/json': { schema: HealthSchema } } },
  },
});

async function timed(check: () => Promise<boolean>): Promise<{ up: boolean; latencyMs: number }> {
  const started = performance.now();
  const up = await check().catch(() => false);
  return { up, latencyMs: Math.round(performance.now() - started) };
}

export function healthRouter(deps: ApiDeps) {
  return newRouter().openapi(healthRoute, async (c) => {
    const namespace = deps.config.TEMPORAL_NAMESPACE;
    const [postgres, temporal] = await Promise.all([
      timed(() => pingDb(deps.db)),
      timed(() =>
        deps.temporal.connection
          .withDeadline(Date.now() + 3000, () => deps.temporal.workflowService.describeNamespace({ namespace }))
          .then(() => true),
      ),
    ]);
    const ok = postgres.up && temporal.up;
    const body = { status: ok ? ('ok' as const) : ('degraded' as const), postgres, temporal: { ...temporal, namespace } };
    return ok ? c.json(body, 200) : c.json(body, 503);
  });
}
