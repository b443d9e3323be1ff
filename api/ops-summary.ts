/** `GET /ops/summary`: every process's counts by state and what needs attention, from Postgres. */
import { createRoute, z } from '@hono/zod-openapi';
import { opsSummary } from '../db/ops';
import { requireRole } from './auth';
import { errorResponse } from './errors';
import { newRouter, type ApiDeps } from './router';

const Counts = z.record(z.string(), z.number().int());

const OpsSummarySchema = z
  .object({
    at: z.string().openapi({ format: 'date-time' }),
    appointments: Counts.openapi({ description: 'Appointments by status' }),
    referrals: Counts.openapi({ description: 'Referrals by status' }),
    labOrders: Counts.openapi({ description: 'Lab orders by status' }),
    onboarding: Counts.openapi({ description: 'Clinics by rollout stage' }),
    attention: z.object({
      overdueReferrals: z.number().int(),
      unacknowledgedCriticalResults: z.number().int(),
      labOrdersPastTurnaround: z.number().int(),
      heldSlots: z.number().int(),
    }),
  })
  .openapi('OpsSummary');

export function opsSummaryRouter(deps: ApiDeps) {
  const route = createRoute({
    method: 'get',
    path: '/summary',
    summary: 'Counts of every process by state, overdue referrals, unacknowledged critical results, late lab orders, held slots',
    security: [{ bearer: [] }],
    middleware: [requireRole(deps.config.AUTH_SECRET, 'ops', 'admin')] as const,
    responses: {
      200: { description: 'The snapshot', content: { 'application/json': { schema: OpsSummarySchema } } },
      401: errorResponse('No or invalid token'),
      403: errorResponse('Role not allowed'),
    },
  });
  return newRouter().openapi(route, async (c) => c.json(await opsSummary(deps.db), 200));
}
