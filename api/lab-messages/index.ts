/**
 * The unmatched-messages queue (the suspense queue of every LIS interface): a lab supervisor
 * (role lab, own clinic; or admin) lists the messages that named no order of the lab or another
 * patient, and resolves each one: attached to an order (judged again against it, filed only if
 * whole) or rejected with a reason. Resolutions are audited; ops list them by ids only.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { judgingContext, labMessageRow, messageCounts, resolveUnmatched, resolvedMessages, unmatchedMessages } from '../../db/lab-messages';
import { readOru, type IntakeProblem } from '../../domain/hl7-intake';
import { callerClinics, canActInClinic } from '../access';
import { requireRole, type Caller } from '../auth';
import { ApiError, errorResponse } from '../errors';
import { AUTH_ERRORS, IdParam, Uuid, body, json } from '../lab-order/shared';
import type { Context } from 'hono';
import { newRouter, type ApiDeps, type AppEnv } from '../router';
import { fileJudged } from './intake';

export const REJECT_REASONS = ['duplicate', 'wrong_patient', 'unknown_order', 'test_message', 'order_cancelled', 'other'] as const;

const ProblemSchema = z.object({
  code: z.string(),
  message: z.string(),
  segment: z.string().optional(),
  sequence: z.number().optional(),
  field: z.number().optional(),
});
const UnmatchedSchema = z
  .object({
    messages: z.array(
      z.object({
        id: Uuid,
        receivedAt: z.string().datetime(),
        transport: z.enum(['http', 'mllp']),
        sendingApplication: z.string(),
        sendingFacility: z.string(),
        clinicId: Uuid.nullable(),
        controlId: z.string(),
        reason: z.string().nullable(),
        problems: z.array(ProblemSchema),
        placerOrderId: z.string().nullable(),
        pid: z
          .object({ identifiers: z.array(z.string()), familyName: z.string(), givenName: z.string(), birthDate: z.string() })
          .nullable(),
        results: z.number().int(),
      }),
    ),
  })
  .openapi('LabMessagesUnmatched');
const ResolvedSchema = z
  .object({ id: Uuid, status: z.enum(['attached', 'rejected']), labOrderId: Uuid.nullable(), answer: z.string() })
  .openapi('LabMessageResolved');
const ResolutionsSchema = z
  .object({
    resolutions: z.array(
      z.object({
        id: Uuid,
        receivedAt: z.string().datetime(),
        transport: z.string(),
        sendingFacility: z.string(),
        clinicId: Uuid.nullable(),
        controlId: z.string(),
        resolution: z.string(),
        reason: z.string().nullable(),
        resolvedBy: z.string(),
        resolvedAt: z.string().datetime(),
        labOrderId: Uuid.nullable(),
      }),
    ),
    counts: z.array(z.object({ status: z.string(), ackCode: z.string().nullable(), messages: z.number().int() })),
  })
  .openapi('LabMessageResolutions');
const NOT_WHOLE = errorResponse('message_not_whole: the message does not hold against this order (details: the problems, as in the ACK)');

/** The message, if the caller may resolve it: a lab its own clinic's queue, admin any. */
async function queuedFor(deps: ApiDeps, caller: Caller, id: string) {
  const row = await labMessageRow(deps.db, id);
  if (!row) throw new ApiError(404, 'not_found', `No lab message ${id}.`);
  if (caller.role !== 'admin' && !(row.clinic_id && canActInClinic(caller, row.clinic_id))) {
    throw new ApiError(403, 'forbidden', "Labs resolve only their own clinic's messages.");
  }
  if (row.status !== 'unmatched')
    throw new ApiError(409, 'invalid_state', `The message is ${row.status}, not waiting in the unmatched queue.`);
  return row;
}

/** Rejects a queued message with a reason (audited; nothing is filed): the route and the lab's unmatched page call this. */
export async function rejectUnmatched(
  deps: ApiDeps,
  c: Context<AppEnv>,
  messageId: string,
  reason: (typeof REJECT_REASONS)[number],
): Promise<string> {
  const caller = c.get('caller');
  const row = await queuedFor(deps, caller, messageId);
  const done = await resolveUnmatched<string>(
    deps.db,
    { messageId: row.id, by: caller.id, role: caller.role, requestId: c.get('requestId') ?? null },
    async () => ({ resolve: { resolution: 'rejected' as const, reason, labOrderId: null, patientId: null }, result: reason }),
  );
  if (done.outcome !== 'resolved') throw new ApiError(409, 'invalid_state', 'The message is no longer in the queue.');
  return row.id;
}

export function labMessagesRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const supervisor = requireRole(config, 'lab', 'admin');
  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/lab-messages/unmatched',
      summary: 'Messages waiting for a lab supervisor: no order of this lab, or another patient',
      security: [{ bearer: [] }],
      middleware: [supervisor] as const,
      request: { query: z.object({ clinicId: Uuid.optional() }) },
      responses: { 200: json(UnmatchedSchema, 'Oldest first'), 400: errorResponse('Malformed request'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const caller = c.get('caller');
      const asked = c.req.valid('query').clinicId;
      if (caller.role === 'lab' && asked && !canActInClinic(caller, asked))
        throw new ApiError(403, 'forbidden', "Labs see only their own clinic's queue.");
      const clinics = caller.role === 'admin' ? (asked ? [asked] : [null]) : asked ? [asked] : callerClinics(caller);
      if (!clinics.length) throw new ApiError(403, 'forbidden', 'A lab token names its clinic.');
      const rows = (await Promise.all(clinics.map((clinic) => unmatchedMessages(db, clinic)))).flat();
      return c.json(
        {
          messages: rows.map((r) => {
            const read = readOru(r.raw.toString('utf8'), r.raw.length);
            return {
              id: r.id,
              receivedAt: r.received_at.toISOString(),
              transport: r.transport,
              sendingApplication: r.sending_application,
              sendingFacility: r.sending_facility,
              clinicId: r.clinic_id,
              controlId: r.control_id,
              reason: r.reason,
              problems: r.problems as IntakeProblem[],
              placerOrderId: r.placer_order_id,
              pid: read.ok
                ? {
                    identifiers: read.message.patientIds,
                    familyName: read.message.familyName,
                    givenName: read.message.givenName,
                    birthDate: read.message.birthDate,
                  }
                : null,
              results: read.ok ? read.message.obx.length : 0,
            };
          }),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-messages/{id}/attach',
      summary: 'Attach an unmatched message to an order: judged again against it and filed only if whole (audited)',
      security: [{ bearer: [] }],
      middleware: [supervisor] as const,
      request: { params: IdParam, ...body(z.strictObject({ orderId: Uuid })) },
      responses: {
        200: json(ResolvedSchema, 'Filed to the order'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('not_found / lab_order_not_found'),
        409: errorResponse('invalid_state: not in the queue (resolved already), or being resolved now'),
        422: NOT_WHOLE,
      },
    }),
    async (c) => {
      const caller = c.get('caller');
      const row = await queuedFor(deps, caller, c.req.valid('param').id);
      const ctx = await judgingContext(db, c.req.valid('json').orderId);
      if (!ctx) throw new ApiError(404, 'lab_order_not_found', 'No such lab order.');
      if (caller.role !== 'admin' && !canActInClinic(caller, ctx.clinicId)) {
        throw new ApiError(403, 'forbidden', "Labs attach messages only to their own clinic's orders.");
      }
      const read = readOru(row.raw.toString('utf8'), row.raw.length);
      if (!read.ok) throw new ApiError(409, 'invalid_state', 'The message cannot be read as an ORU^R01.');
      const who = { messageId: row.id, by: caller.id, role: caller.role, requestId: c.get('requestId') ?? null };
      const done = await resolveUnmatched<string | IntakeProblem[]>(db, who, async () => {
        const filing = await fileJudged(deps, row.id, read.message, ctx, caller.id);
        if (!filing.ok) return { refuse: filing.problems };
        const resolve = { resolution: 'attached' as const, reason: filing.reason, labOrderId: ctx.order.id, patientId: ctx.patient.id };
        return { resolve, result: filing.reason };
      });
      if (done.outcome === 'refused') {
        throw new ApiError(422, 'message_not_whole', 'The message does not hold against this order; nothing was filed.', done.result);
      }
      if (done.outcome !== 'resolved') {
        const why = done.outcome === 'busy' ? 'Another supervisor is resolving this message.' : 'The message is no longer in the queue.';
        throw new ApiError(409, 'invalid_state', why);
      }
      return c.json({ id: row.id, status: 'attached' as const, labOrderId: ctx.order.id, answer: done.result as string }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-messages/{id}/reject',
      summary: 'Reject an unmatched message with a reason (audited); nothing is filed',
      security: [{ bearer: [] }],
      middleware: [supervisor] as const,
      request: { params: IdParam, ...body(z.strictObject({ reason: z.enum(REJECT_REASONS) })) },
      responses: {
        200: json(ResolvedSchema, 'Rejected'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('not_found'),
        409: errorResponse('invalid_state: not in the queue (resolved already), or being resolved now'),
      },
    }),
    async (c) => {
      const reason = c.req.valid('json').reason;
      const id = await rejectUnmatched(deps, c, c.req.valid('param').id, reason);
      return c.json({ id, status: 'rejected' as const, labOrderId: null, answer: reason }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/lab-messages/resolutions',
      summary: 'For ops: resolved messages (ids, sender, outcome, who) and counts per status and ACK code; no patient data',
      security: [{ bearer: [] }],
      middleware: [requireRole(config, 'ops', 'admin')] as const,
      responses: { 200: json(ResolutionsSchema, 'Newest first'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const [rows, counts] = await Promise.all([resolvedMessages(db), messageCounts(db)]);
      return c.json(
        {
          resolutions: rows.map((r) => ({
            id: r.id,
            receivedAt: r.received_at.toISOString(),
            transport: r.transport,
            sendingFacility: r.sending_facility,
            clinicId: r.clinic_id,
            controlId: r.control_id,
            resolution: r.resolution ?? '',
            reason: r.resolution === 'rejected' ? r.resolution_reason : null,
            resolvedBy: r.resolved_by ?? '',
            resolvedAt: r.resolved_at!.toISOString(),
            labOrderId: r.lab_order_id,
          })),
          counts: counts.map((n) => ({ status: n.status, ackCode: n.ack_code, messages: Number(n.n) })),
        },
        200,
      );
    },
  );

  return router;
}
