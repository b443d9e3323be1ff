/**
 * Referral routes: start a referral (idempotent per Idempotency-Key), read one with its timeline
 * and live step, list and queue them, book a slot for one, post the specialist's report,
 * acknowledge it, cancel. Registrars and doctors start referrals; patients see and cancel their own.
 */
import { createReferral } from '../commands/referral';
import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { listReferrals, referralDeadline, referralPolicy, referralStart, referralTimeline, referralView } from '../db/referral';
import { currentOffers } from '../db/referral-offers';
import type { Referral } from '../db/schema';
import { nameUuid } from '../domain/ids';
import { ICD10, REFERRAL_KINDS, REFERRAL_URGENCIES, fhirPriority, type ReferralPolicy, type ReferralStatus } from '../domain/referral';
import { cancelReferralUpdate, referralStatusQuery, referralWorkflow, referralWorkflowId } from '../workflows/referral';
import { requireRole, type Caller } from './auth';
import { assertActInClinic, auditAccess, canReadPatientRecord, clinicFilterFor } from './access';
import { ApiError, errorResponse } from './errors';
import { newRouter, type ApiDeps } from './router';
import { MoreField } from './paging';
import { ReferralNameFields } from './referral-names';
import { presentWithOffers as presentWithOffersOf, referralDesk } from './referral-desk';
import { referralReportCommands } from './referral-report';

const Uuid = z.string().uuid();
const STATUSES = [
  'created',
  'offered',
  'booked',
  'attended',
  'reported',
  'closed',
  'cancelled',
  'expired',
] as const satisfies readonly ReferralStatus[];
const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'Idempotency-Key must be 8–128 letters, digits or _.:-')
    .openapi({ param: { name: 'idempotency-key', in: 'header' }, example: 'ref-2026-11-26-001' }),
});
const OfferSchema = z
  .object({
    slotId: Uuid,
    clinicId: Uuid,
    clinicName: z.string(),
    practitionerId: Uuid,
    practitionerName: z.string(),
    startsAt: z.string().datetime(),
    endsAt: z.string().datetime(),
    localStartsAt: z
      .string()
      .openapi({ description: "The start on the clinic's wall clock, YYYY-MM-DDTHH:mm", example: '2026-12-15T10:20' }),
    timeZone: z.string().openapi({ example: 'Europe/Moscow' }),
    withinDeadline: z.boolean(),
  })
  .openapi('ReferralOffer');
const ReferralSchema = z
  .object({
    id: Uuid,
    status: z.enum(STATUSES),
    fhir: z.object({ serviceRequest: z.string(), task: z.string(), businessStatus: z.string() }),
    patientId: Uuid,
    clinicId: Uuid,
    referringPractitionerId: Uuid.nullable(),
    kind: z.string(),
    urgency: z.string(),
    priority: z.string(),
    specialty: z.string(),
    targetPractitionerId: Uuid.nullable(),
    targetTest: z.string().nullable(),
    icd10: z.string().nullable(),
    reason: z.string().nullable(),
    deadlineAt: z.string().datetime(),
    validUntil: z.string().datetime(),
    breached: z.boolean(),
    escalationLevel: z.number().int().openapi({ description: '0 none, 1 top of the registrar queue, 2 head of department' }),
    appointmentId: Uuid.nullable(),
    bookedAt: z.string().datetime().nullable(),
    offeredSlots: z.array(OfferSchema).openapi({
      description:
        'Slots the patient can book now (free, at a clinic taking bookings, clear of their own visits): the recorded offers still open, topped up; empty once booked',
    }),
    noShows: z.number().int(),
    reportReceivedAt: z.string().datetime().nullable(),
    acknowledgedAt: z.string().datetime().nullable(),
    cancelReason: z.string().nullable(),
    closedAt: z.string().datetime().nullable(),
    createdAt: z.string().datetime(),
  })
  .openapi('Referral');
const ReferralDetailSchema = ReferralSchema.extend({
  timeline: z.array(z.object({ at: z.string().datetime(), step: z.string(), actor: z.string(), details: z.unknown() })),
  process: z
    .object({
      status: z.string(),
      escalateAt: z.string(),
      escalationLevel: z.number(),
      acknowledgeLevel: z.number(),
      appointmentId: Uuid.nullable(),
    })
    .nullable(),
}).openapi('ReferralDetail');
const ReferralListSchema = z
  .object({ referrals: z.array(ReferralSchema.extend(ReferralNameFields)), nextOffset: z.number().int().nullable(), more: MoreField })
  .openapi('ReferralList');
const BookedSchema = z
  .object({ appointmentId: Uuid, status: z.string(), slotId: Uuid, practitionerId: Uuid, clinicId: Uuid, startsAt: z.string().datetime() })
  .openapi('ReferralBooking');

const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
const AUTH_ERRORS = { 401: errorResponse('No or invalid token'), 403: errorResponse('Role not allowed, or not your record') };
const IdParam = z.object({ id: Uuid });

const CreateSchema = z.strictObject({
  patientId: Uuid,
  referringPractitionerId: Uuid,
  kind: z.enum(REFERRAL_KINDS as [string, ...string[]]).default('specialist'),
  urgency: z.enum(REFERRAL_URGENCIES as [string, ...string[]]).default('routine'),
  specialty: z
    .string()
    .min(1)
    .max(80)
    .optional()
    .openapi({ description: 'Target specialty (or diagnostic service); taken from targetPractitionerId when omitted' }),
  targetPractitionerId: Uuid.optional(),
  targetTest: z.string().min(1).max(40).optional().openapi({ description: 'A test or procedure code (LOINC) for diagnostic referrals' }),
  reason: z.string().min(1).max(1000),
  icd10: z.string().max(10).openapi({ example: 'I10' }),
  validUntil: z.string().datetime({ offset: true }).optional().openapi({ description: "Defaults to the policy's validity (30 days)" }),
});

export function referralRouter(deps: ApiDeps) {
  const { db, temporal, config } = deps;
  const anyone = requireRole(config, 'patient', 'registrar', 'doctor', 'admin');
  const referrers = requireRole(config, 'registrar', 'doctor', 'admin');
  const staff = requireRole(config, 'registrar', 'doctor', 'admin');
  const bookers = requireRole(config, 'patient', 'registrar', 'admin');
  const doctors = requireRole(config, 'doctor');

  const desk = referralDesk(deps);
  const { ownReferral, update } = desk;
  const reportCommands = referralReportCommands(deps);
  /** A referral as answered: its row and the offers its patient can take now (db/referral-offers.ts). */
  const view = async (r: Referral) => ({ ...referralView(r), offeredSlots: await currentOffers(db, r) });
  /** A list's rows with names beside ids and the offers still bookable now. */
  const presentWithOffers = (caller: Caller, rows: Referral[], recordRead = false) => presentWithOffersOf(db, caller, rows, recordRead);
  const fresh = async (id: string) => view(await db.selectFrom('referrals').selectAll().where('id', '=', id).executeTakeFirstOrThrow());

  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals',
      summary: "Refer a patient: starts the referral process (deadline from the clinic's calendar and policy)",
      security: [{ bearer: [] }],
      middleware: [referrers] as const,
      request: { headers: IdempotencyHeader, ...body(CreateSchema) },
      responses: {
        201: json(ReferralSchema, 'The referral, its deadline set; the process is offering slots'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('patient_not_found / practitioner_not_found'),
        409: errorResponse('idempotency_key_reused'),
        422: errorResponse('invalid_icd10 / validity_in_past / unknown_specialty / wrong_practitioner'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const caller = c.get('caller');
      const key = c.req.valid('header')['idempotency-key'];
      const referralId = nameUuid('referral', `${caller.id}:${key}`);
      const existing = await db.selectFrom('referrals').selectAll().where('id', '=', referralId).executeTakeFirst();
      if (existing) {
        // A replay answers only a caller who may still make this referral (keys are per caller already).
        if (caller.role === 'doctor' && caller.practitionerId !== existing.referring_practitioner_id)
          throw new ApiError(422, 'wrong_practitioner', 'A doctor refers in their own name.');
        if (caller.role === 'registrar') assertActInClinic(caller, existing.clinic_id, "the referring practitioner's clinic");
        if (existing.patient_id !== b.patientId)
          throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for another referral; use a new key.');
        await auditAccess(c, db, { patientId: existing.patient_id, resource: { type: 'ServiceRequest', id: existing.id }, action: 'read' });
        await startProcess(existing);
        return c.json(await view(existing), 201);
      }
      // Every refusal before anything is written.
      if (!ICD10.test(b.icd10)) throw new ApiError(422, 'invalid_icd10', 'icd10 must be an ICD-10 code such as I10 or E11.65.');
      if (caller.role === 'doctor' && caller.practitionerId !== b.referringPractitionerId)
        throw new ApiError(422, 'wrong_practitioner', 'A doctor refers in their own name.');
      const referrer = await db
        .selectFrom('practitioners')
        .select(['id', 'clinic_id'])
        .where('id', '=', b.referringPractitionerId)
        .executeTakeFirst();
      if (!referrer) throw new ApiError(404, 'practitioner_not_found', `Practitioner ${b.referringPractitionerId} does not exist.`);
      if (caller.role === 'registrar') assertActInClinic(caller, referrer.clinic_id, "the referring practitioner's clinic");
      if (!(await db.selectFrom('patients').select('id').where('id', '=', b.patientId).executeTakeFirst()))
        throw new ApiError(404, 'patient_not_found', `Patient ${b.patientId} does not exist.`);
      let specialty = b.specialty;
      if (b.targetPractitionerId) {
        const target = await db
          .selectFrom('practitioners')
          .select(['id', 'specialty'])
          .where('id', '=', b.targetPractitionerId)
          .executeTakeFirst();
        if (!target) throw new ApiError(422, 'wrong_practitioner', `Practitioner ${b.targetPractitionerId} does not exist.`);
        if (specialty && target.specialty !== specialty)
          throw new ApiError(422, 'wrong_practitioner', 'The named practitioner does not practise that specialty.');
        specialty = target.specialty;
      }
      if (!specialty) throw new ApiError(400, 'validation_failed', 'Name a specialty or a target practitioner.');
      if (!(await db.selectFrom('practitioners').select('id').where('specialty', '=', specialty).limit(1).executeTakeFirst())) {
        throw new ApiError(422, 'unknown_specialty', 'No practitioner in the city practises that specialty.');
      }
      const kind = b.kind as Referral['kind'];
      const urgency = b.urgency as Referral['urgency'];
      // The policy and calendar in force at this instant; the process gets the same (referralStart reads at created_at).
      const createdAt = new Date();
      const policy = await referralPolicy(db, referrer.clinic_id, kind, urgency, createdAt);
      const deadline = await referralDeadline(db, referrer.clinic_id, createdAt, policy);
      const validUntil = b.validUntil ? new Date(b.validUntil) : new Date(createdAt.getTime() + policy.validityDays * 86_400_000);
      if (validUntil.getTime() <= createdAt.getTime()) throw new ApiError(422, 'validity_in_past', 'validUntil has already passed.');

      // The row is written before the process starts, so lists and the queue show the referral at
      // once; every later step is written by the process's activities.
      const insertedHere = await createReferral(
        db,
        {
          id: referralId,
          patient_id: b.patientId,
          clinic_id: referrer.clinic_id,
          referring_practitioner_id: referrer.id,
          specialty,
          priority: fhirPriority(urgency),
          status: 'created',
          deadline_at: deadline,
          appointment_id: null,
          report_received_at: null,
          workflow_id: referralWorkflowId(referralId),
          created_by: caller.id,
          created_at: createdAt,
          kind,
          urgency,
          icd10: b.icd10,
          reason: b.reason,
          target_practitioner_id: b.targetPractitionerId ?? null,
          target_test: b.targetTest ?? null,
          valid_until: validUntil,
          booked_at: null,
          acknowledged_at: null,
          acknowledged_by: null,
          cancel_reason: null,
          closed_at: null,
        },
        {
          referral_id: referralId,
          step: 'created',
          actor: caller.id,
          dedupe_key: `${referralWorkflowId(referralId)}:created`,
          details: JSON.stringify({ kind, urgency, deadlineAt: deadline.toISOString(), validUntil: validUntil.toISOString() }),
        },
      );
      const row = await db.selectFrom('referrals').selectAll().where('id', '=', referralId).executeTakeFirstOrThrow();
      if (row.patient_id !== b.patientId)
        throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for another referral; use a new key.');
      await startProcess(row, insertedHere ? policy : undefined);
      await auditAccess(c, db, { patientId: row.patient_id, resource: { type: 'ServiceRequest', id: row.id }, action: 'write' });
      return c.json(await view(row), 201);
    },
  );

  /**
   * Starts the referral's process once; a retry (or a process already ended) leaves it be. A new
   * referral's process gets the very policy its deadline was computed with (not a second read).
   */
  async function startProcess(row: Referral, policy?: ReferralPolicy) {
    const input = await referralStart(db, row);
    try {
      await temporal.workflow.start(referralWorkflow, {
        workflowId: row.workflow_id,
        taskQueue: config.CLINICAL_TASK_QUEUE,
        args: [policy ? { ...input, policy } : input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  const ListQuery = z.object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).default(0),
  });

  router.openapi(
    createRoute({
      method: 'get',
      path: '/referrals/queue',
      summary: "The registrar's work queue: referrals awaiting booking, escalated first, then nearest deadline",
      security: [{ bearer: [] }],
      middleware: [staff] as const,
      request: {
        query: ListQuery.extend({
          clinicId: Uuid.optional().openapi({
            description: "Defaults to the clinic a registrar's token names; doctors and admin name one",
          }),
        }),
      },
      responses: {
        200: json(ReferralListSchema, 'The queue, in working order; nextOffset fetches the next page'),
        400: errorResponse('Malformed query, or no clinic named'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => c.json(await desk.queue(c, c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/referrals',
      summary: 'Referrals by clinic, status and breach, newest first, paged',
      security: [{ bearer: [] }],
      middleware: [staff] as const,
      request: {
        query: ListQuery.extend({
          clinicId: Uuid.optional(),
          status: z.enum(STATUSES).optional(),
          breached: z.enum(['true', 'false']).optional(),
        }),
      },
      responses: {
        200: json(ReferralListSchema, 'A page of referrals; nextOffset fetches the next'),
        400: errorResponse('Malformed query'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listReferrals(db, {
        clinicId: clinicFilterFor(c.get('caller'), q.clinicId),
        status: q.status,
        breached: q.breached === undefined ? undefined : q.breached === 'true',
        limit: q.limit + 1,
        offset: q.offset,
      });
      const more = rows.length > q.limit;
      return c.json(
        { referrals: await presentWithOffers(c.get('caller'), rows.slice(0, q.limit)), nextOffset: more ? q.offset + q.limit : null, more },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/referrals/{id}',
      summary: "One referral with its timeline (Postgres) and live step (the process's query)",
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      request: { params: IdParam },
      responses: {
        200: json(ReferralDetailSchema, 'The referral'),
        400: errorResponse('Malformed id'),
        ...AUTH_ERRORS,
        404: errorResponse('referral_not_found'),
      },
    }),
    async (c) => {
      const row = await ownReferral(c, c.req.valid('param').id, 'read');
      const [timeline, live] = await Promise.all([
        referralTimeline(db, row.id),
        temporal.workflow
          .getHandle(row.workflow_id)
          .query(referralStatusQuery)
          .catch(() => null),
      ]);
      return c.json(
        {
          ...(await view(row)),
          timeline: timeline.map((e) => ({ at: e.at.toISOString(), step: e.step, actor: e.actor, details: e.details })),
          process: live
            ? {
                status: live.status,
                escalateAt: live.escalateAt,
                escalationLevel: live.escalationLevel,
                acknowledgeLevel: live.acknowledgeLevel,
                appointmentId: live.appointmentId,
              }
            : null,
        },
        200,
      );
    },
  );

  const ACTION_ERRORS = {
    400: errorResponse('Malformed request'),
    ...AUTH_ERRORS,
    404: errorResponse('referral_not_found'),
    409: errorResponse('invalid_state'),
  };

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals/{id}/book',
      summary: 'Book a slot for the referral: held and confirmed at once, run by its own booking process',
      security: [{ bearer: [] }],
      middleware: [bookers] as const,
      request: { params: IdParam, ...body(z.strictObject({ slotId: Uuid })) },
      responses: {
        201: json(BookedSchema, 'Booked'),
        ...ACTION_ERRORS,
        404: errorResponse('referral_not_found / slot_not_found'),
        409: errorResponse('invalid_state / slot_taken / patient_busy / slot_unavailable'),
        422: errorResponse('slot_in_past / beyond_booking_horizon / too_many_bookings'),
      },
    }),
    async (c) => c.json(await desk.book(c, c.req.valid('param').id, c.req.valid('json').slotId), 201),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals/{id}/report',
      summary: 'The specialist who saw the patient posts the consultation report (once; a repeat is answered the same)',
      security: [{ bearer: [] }],
      middleware: [doctors] as const,
      request: {
        params: IdParam,
        ...body(
          z.strictObject({
            patientId: Uuid,
            conclusion: z.string().min(1).max(5000),
            icd10: z.array(z.string().max(10)).min(1).max(20),
            recommendations: z.string().max(5000),
          }),
        ),
      },
      responses: {
        200: json(ReferralSchema, 'Report recorded'),
        ...ACTION_ERRORS,
        403: errorResponse('wrong_practitioner / wrong_patient'),
        422: errorResponse('invalid_icd10'),
      },
    }),
    async (c) => {
      const row = await reportCommands.report(c, c.req.valid('param').id, c.req.valid('json'));
      return c.json(await fresh(row.id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals/{id}/acknowledge',
      summary: "The referring doctor acknowledges the specialist's report; the referral closes",
      security: [{ bearer: [] }],
      middleware: [doctors] as const,
      request: { params: IdParam },
      responses: { 200: json(ReferralSchema, 'Acknowledged and closed'), ...ACTION_ERRORS, 403: errorResponse('wrong_practitioner') },
    }),
    async (c) => {
      const { row, already } = await reportCommands.acknowledge(c, c.req.valid('param').id);
      return c.json(already ? await view(row) : await fresh(row.id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals/{id}/cancel',
      summary: 'Cancel the referral (referring doctor, patient or registrar; reason required); its booking is released',
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      request: { params: IdParam, ...body(z.strictObject({ reason: z.string().min(1).max(500) })) },
      responses: { 200: json(ReferralSchema, 'Cancelled'), ...ACTION_ERRORS, 403: errorResponse('forbidden / wrong_practitioner') },
    }),
    async (c) => {
      const row = await ownReferral(c, c.req.valid('param').id);
      const caller = c.get('caller');
      if (caller.role === 'doctor' && caller.practitionerId !== row.referring_practitioner_id)
        throw new ApiError(403, 'wrong_practitioner', 'Only the referring practitioner cancels a referral.');
      if (row.status === 'cancelled') return c.json(await view(row), 200);
      await update(row, (h) =>
        h.executeUpdate(cancelReferralUpdate, { args: [{ by: caller.id, reason: c.req.valid('json').reason }], updateId: 'cancel' }),
      );
      return c.json(await fresh(row.id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/patients/{id}/referrals',
      summary: "A patient's referrals, newest first",
      security: [{ bearer: [] }],
      middleware: [anyone] as const,
      request: { params: IdParam, query: ListQuery },
      responses: { 200: json(ReferralListSchema, 'Referrals'), 400: errorResponse('Malformed id'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await canReadPatientRecord(c, db, id, { type: 'ServiceRequestList', id });
      const q = c.req.valid('query');
      const rows = await listReferrals(db, { patientId: id, limit: q.limit + 1, offset: q.offset });
      const more = rows.length > q.limit;
      return c.json(
        {
          referrals: await presentWithOffers(c.get('caller'), rows.slice(0, q.limit), true),
          nextOffset: more ? q.offset + q.limit : null,
          more,
        },
        200,
      );
    },
  );

  return router;
}
