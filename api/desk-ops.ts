/**
 * Two lists the registrar's desk and the ops board need beside the existing routes: a clinic's appointments on one
 * local date (today's arrivals, with check-in) and the breached referrals city-wide (ops: no patient data). The pages
 * (web/pages/desk*.tsx, ops.tsx) call the same functions.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { breachedReferrals, clinicDay } from '../db/desk-ops';
import { lookupNames } from '../db/names';
import { localDateTime } from '../domain/time';
import { assertActInClinic } from './access';
import { requireRole } from './auth';
import { ApiError, errorResponse } from './errors';
import { AppointmentListSchema, LocalDate, bookingContext, type BookingContext } from './booking/shared';
import { MoreField } from './paging';
import { newRouter, type ApiDeps, type AppEnv } from './router';

const Uuid = z.string().uuid();
const BREACHED_LIMIT = 500;
const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const AUTH_ERRORS = { 401: errorResponse('No or invalid token'), 403: errorResponse('Role not allowed, or another clinic') };

const BreachedSchema = z
  .object({
    referrals: z.array(
      z.object({
        id: Uuid,
        workflowId: z.string(),
        clinicId: Uuid,
        clinicName: z.string(),
        timeZone: z.string(),
        specialty: z.string(),
        urgency: z.string(),
        status: z.string(),
        deadlineAt: z.string().datetime(),
        deadlineAtLocal: z.string(),
        breached: z.boolean(),
        escalationLevel: z.number().int().openapi({ description: '0 none, 1 top of the registrar queue, 2 head of department' }),
        appointmentId: Uuid.nullable(),
      }),
    ),
    more: MoreField,
  })
  .openapi('BreachedReferrals');

/** A clinic's appointments on one local date: a registrar of that clinic, or admin. */
export async function clinicDayList(c: Context<AppEnv>, ctx: Pick<BookingContext, 'db'>, clinicId: string, date: string) {
  const caller = c.get('caller');
  if (caller.role !== 'registrar' && caller.role !== 'admin')
    throw new ApiError(403, 'forbidden', "Registrars and admins read a clinic's day.");
  if (!(await ctx.db.selectFrom('clinics').select('id').where('id', '=', clinicId).executeTakeFirst())) {
    throw new ApiError(404, 'clinic_not_found', `Clinic ${clinicId} does not exist.`);
  }
  if (caller.role === 'registrar') assertActInClinic(caller, clinicId, 'that clinic');
  return clinicDay(ctx.db, clinicId, date);
}

/** Open referrals past their deadline (or flagged breached), most overdue first, with each one's process id; no patient data. */
export async function breachedReferralList(db: ApiDeps['db']) {
  const rows = await breachedReferrals(db, BREACHED_LIMIT + 1);
  const page = rows.slice(0, BREACHED_LIMIT);
  const names = await lookupNames(db, { clinics: page.map((r) => r.clinic_id) });
  return {
    more: rows.length > BREACHED_LIMIT,
    referrals: page.map((r) => {
      const clinic = names.clinic(r.clinic_id);
      const zone = clinic?.timeZone ?? 'UTC';
      return {
        id: r.id,
        workflowId: r.workflow_id,
        clinicId: r.clinic_id,
        clinicName: clinic?.name ?? '',
        timeZone: zone,
        specialty: r.specialty,
        urgency: r.urgency,
        status: r.status,
        deadlineAt: r.deadline_at.toISOString(),
        deadlineAtLocal: localDateTime(r.deadline_at, zone),
        breached: r.breached,
        escalationLevel: r.escalation_level,
        appointmentId: r.appointment_id,
      };
    }),
  };
}

export function deskOpsRouter(deps: ApiDeps) {
  const desk = requireRole(deps.config, 'registrar', 'admin');
  const ops = requireRole(deps.config, 'ops', 'admin');
  const ctx = bookingContext(deps);
  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/clinics/{id}/appointments',
      summary: "A clinic's appointments on one of its local dates (today's arrivals at the desk), in time order",
      security: [{ bearer: [] }],
      middleware: [desk] as const,
      request: { params: z.object({ id: Uuid }), query: z.object({ date: LocalDate }) },
      responses: {
        200: json(AppointmentListSchema, 'The day, booked, arrived, done and no-shows'),
        400: errorResponse('Malformed id or date'),
        ...AUTH_ERRORS,
        404: errorResponse('clinic_not_found'),
      },
    }),
    async (c) => {
      const rows = await clinicDayList(c, ctx, c.req.valid('param').id, c.req.valid('query').date);
      return c.json({ appointments: await ctx.presentRows(rows), more: false }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/ops/breached-referrals',
      summary: 'Open referrals past their legal deadline, most overdue first, with their process ids (no patient data)',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      responses: { 200: json(BreachedSchema, 'Breached referrals'), ...AUTH_ERRORS },
    }),
    async (c) => c.json(await breachedReferralList(deps.db), 200),
  );

  return router;
}
