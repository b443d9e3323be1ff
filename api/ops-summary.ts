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
    diagnosisSuggestions: z.object({
      windowDays: z.literal(7),
      answered: z.number().int().openapi({ description: 'Suggestions answered in the last seven days' }),
      lowConfidenceShare: z.number().openapi({ description: "Share of them below the model's confidence threshold (drift signal)" }),
      byClinic: z
        .array(
          z.object({
            clinicId: z.string(),
            clinicCode: z.string(),
            evaluated: z.number().int().openapi({ description: 'Visits completed with a code after a suggestion' }),
            hit1: z.number().int(),
            hit3: z.number().int(),
            hit3Rate: z.number(),
          }),
        )
        .openapi({ description: "Weekly Hit@1/Hit@3 of the visit's latest suggestion against the doctor's final code" }),
    }),
  })
  .openapi('OpsSummary');

export function opsSummaryRouter(deps: ApiDeps) {
  const route = createRoute({
    method: 'get',
    path: '/summary',
    summary:
      'Counts of every process by state, overdue referrals, unacknowledged critical results, late lab orders, held slots, weekly diagnosis-suggestion hits',
    security: [{ bearer: [] }],
    middleware: [requireRole(deps.config, 'ops', 'admin')] as const,
    responses: {
      200: { description: 'The snapshot', content: { 'application/json': { schema: OpsSummarySchema } } },
      401: errorResponse('No or invalid token'),
      403: errorResponse('Role not allowed'),
    },
  });
  return newRouter().openapi(route, async (c) => c.json(await opsSummary(deps.db), 200));
}
