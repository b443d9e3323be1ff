/**
 * Ops' side of messages (issue 23): deliveries that failed or were handed to ops, patients no
 * channel reaches, and the on-call roster (covering doctor and head of department per clinic and
 * department, for a time window) with its audit trail. Ids only: ops see no patient data.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Db } from '../db';
import {
  addRosterEntry,
  clinicRosterAudit,
  failedDeliveries,
  listRoster,
  removeRosterEntry,
  unreachablePatients,
  type RosterEntryInput,
} from '../db/notify';
import { requireRole } from './auth';
import { ApiError, errorResponse } from './errors';
import { newRouter, type ApiDeps } from './router';

const Uuid = z.string().uuid();
const RosterEntrySchema = z
  .object({
    clinicId: Uuid,
    department: z.string().min(1).max(100).openapi({ description: "The practitioners' specialty, or * for the whole clinic" }),
    role: z.enum(['covering', 'head', 'onboarding-lead']),
    practitionerId: Uuid,
    startsAt: z.string().datetime({ offset: true }),
    endsAt: z.string().datetime({ offset: true }),
  })
  .openapi('RosterEntryInput');
const RosterSchema = z
  .object({
    entries: z.array(RosterEntrySchema.extend({ id: Uuid, practitionerName: z.string(), createdBy: z.string(), createdAt: z.string() })),
    audit: z.array(z.object({ at: z.string(), actor: z.string(), action: z.string(), entryId: z.string() })),
  })
  .openapi('Roster');

/**
 * Puts an entry on the roster after the API's rules (a well-formed entry, a window that ends after it starts, a
 * practitioner of that clinic): `POST /ops/on-call` and the ops roster page both call it, so the rules live once.
 */
export async function addCheckedRosterEntry(db: Db, input: unknown, by: string): Promise<string> {
  const parsed = RosterEntrySchema.safeParse(input);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ApiError(400, 'validation_failed', 'The request is not valid: see details.', details);
  }
  const e: RosterEntryInput = parsed.data;
  if (Date.parse(e.endsAt) <= Date.parse(e.startsAt))
    throw new ApiError(400, 'validation_failed', 'endsAt must be after startsAt.', [
      { path: 'endsAt', message: 'Must be after startsAt.' },
    ]);
  const p = await db
    .selectFrom('practitioners')
    .select('id')
    .where('id', '=', e.practitionerId)
    .where('clinic_id', '=', e.clinicId)
    .executeTakeFirst();
  if (!p) throw new ApiError(404, 'practitioner_not_found', 'No such practitioner in that clinic.');
  return addRosterEntry(db, e, by);
}

/** Takes an entry off the roster, or refuses with the API's 404 when there is no such live entry. */
export async function removeCheckedRosterEntry(db: Db, id: string, by: string): Promise<void> {
  if (!(await removeRosterEntry(db, id, by))) throw new ApiError(404, 'roster_entry_not_found', 'No such roster entry.');
}

export function notifyOpsRouter(deps: ApiDeps) {
  const { db } = deps;
  const ops = requireRole(deps.config, 'ops', 'admin');
  const router = newRouter();
  const authResponses = { 401: errorResponse('No or invalid token'), 403: errorResponse('Role not allowed') };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/ops/notifications/failures',
      summary: 'Deliveries that failed on a channel or were handed to ops, newest first, with why',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      responses: {
        200: {
          description: 'The failures',
          content: {
            'application/json': {
              schema: z.object({
                failures: z.array(
                  z.object({
                    id: Uuid,
                    messageKey: z.string(),
                    kind: z.string(),
                    recipientType: z.string(),
                    recipientId: z.string().nullable(),
                    channel: z.string(),
                    reason: z.string().nullable(),
                    attempts: z.number().int(),
                    decidedAt: z.string(),
                    failedAt: z.string().nullable(),
                    appointmentId: z.string().nullable(),
                    labOrderId: z.string().nullable(),
                  }),
                ),
              }),
            },
          },
        },
        ...authResponses,
      },
    }),
    async (c) =>
      c.json(
        {
          failures: (await failedDeliveries(db)).map((f) => ({
            id: f.id,
            messageKey: f.message_key,
            kind: f.kind,
            recipientType: f.recipient_type,
            recipientId: f.recipient_id,
            channel: f.channel,
            reason: f.reason,
            attempts: f.attempts,
            decidedAt: f.decided_at.toISOString(),
            failedAt: f.failed_at?.toISOString() ?? null,
            appointmentId: f.appointment_id,
            labOrderId: f.lab_order_id,
          })),
        },
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/ops/notifications/unreachable',
      summary: 'Patients a message could not reach on any channel (no consented channel left): the desk calls them',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      responses: {
        200: {
          description: 'The patients (ids only)',
          content: {
            'application/json': {
              schema: z.object({
                patients: z.array(
                  z.object({
                    patientId: Uuid,
                    homeClinicId: z.string().nullable(),
                    messages: z.number().int(),
                    lastAt: z.string(),
                  }),
                ),
              }),
            },
          },
        },
        ...authResponses,
      },
    }),
    async (c) =>
      c.json(
        {
          patients: (await unreachablePatients(db)).map((p) => ({
            patientId: p.patient_id!,
            homeClinicId: p.home_clinic_id,
            messages: Number(p.messages),
            lastAt: new Date(p.last_at).toISOString(),
          })),
        },
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/ops/on-call',
      summary: "A clinic's on-call roster (live entries) and its audit trail",
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { query: z.object({ clinicId: Uuid }) },
      responses: {
        200: { description: 'The roster', content: { 'application/json': { schema: RosterSchema } } },
        400: errorResponse('No clinicId'),
        ...authResponses,
      },
    }),
    async (c) => {
      const { clinicId } = c.req.valid('query');
      const [rows, audit] = await Promise.all([listRoster(db, clinicId), clinicRosterAudit(db, clinicId)]);
      return c.json(
        {
          entries: rows.map((r) => ({
            id: r.id,
            clinicId,
            department: r.department,
            role: r.role,
            practitionerId: r.practitioner_id,
            practitionerName: r.full_name,
            startsAt: r.starts_at.toISOString(),
            endsAt: r.ends_at.toISOString(),
            createdBy: r.created_by,
            createdAt: r.created_at.toISOString(),
          })),
          audit: audit.map((a) => ({ at: a.at.toISOString(), actor: a.actor, action: a.action, entryId: a.entity_id })),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/ops/on-call',
      summary: 'Put a covering doctor or head of department on call for a time window (audited)',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { body: { content: { 'application/json': { schema: RosterEntrySchema } }, required: true } },
      responses: {
        201: { description: 'On the roster', content: { 'application/json': { schema: z.object({ id: Uuid }) } } },
        400: errorResponse('Bad window'),
        404: errorResponse('No such practitioner in that clinic'),
        ...authResponses,
      },
    }),
    async (c) => c.json({ id: await addCheckedRosterEntry(db, c.req.valid('json'), c.get('caller').id) }, 201),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/ops/on-call/{id}',
      summary: 'Take an entry off the roster (kept for the audit trail)',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { params: z.object({ id: Uuid }) },
      responses: { 204: { description: 'Removed' }, 404: errorResponse('No such live entry'), ...authResponses },
    }),
    async (c) => {
      await removeCheckedRosterEntry(db, c.req.valid('param').id, c.get('caller').id);
      return c.body(null, 204);
    },
  );

  return router;
}
