/**
 * POST /referrals: validates, checks access, and calls the one command that writes the referral,
 * its `created` event and its process's start (an outbox row) in one transaction; answers from
 * what committed. The clinical worker's outbox relay starts the process (docs/outbox.md).
 * Idempotent per caller and Idempotency-Key: the referral id is derived from both.
 */
import { createRoute } from '@hono/zod-openapi';
import { createReferral } from '../../commands/referral';
import { referralDeadline, referralPolicy } from '../../db/referral';
import type { Referral } from '../../db/schema';
import { nameUuid } from '../../domain/ids';
import { ICD10, fhirPriority, referralWorkflowId, type ReferralInput } from '../../domain/referral';
import { assertActInClinic, auditAccess } from '../access';
import { ApiError, errorResponse } from '../errors';
import type { ReferralContext, ReferralRouter } from './context';
import { AUTH_ERRORS, CreateSchema, IdempotencyHeader, ReferralSchema, body, json } from './schemas';

const keyReused = () =>
  new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for another referral; use a new key.');

export function createReferralRoutes(router: ReferralRouter, ctx: ReferralContext) {
  const { db, config } = ctx.deps;

  router.openapi(
    createRoute({
      method: 'post',
      path: '/referrals',
      summary: "Refer a patient: the referral and its process's start commit together (deadline from the clinic's calendar and policy)",
      security: [{ bearer: [] }],
      middleware: [ctx.roles.referrers] as const,
      request: { headers: IdempotencyHeader, ...body(CreateSchema) },
      responses: {
        201: json(ReferralSchema, 'The referral as committed, its deadline set; its process starts behind the answer and offers slots'),
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
        // Its process's start committed with the row: nothing to start here.
        if (caller.role === 'doctor' && caller.practitionerId !== existing.referring_practitioner_id)
          throw new ApiError(422, 'wrong_practitioner', 'A doctor refers in their own name.');
        if (caller.role === 'registrar') assertActInClinic(caller, existing.clinic_id, "the referring practitioner's clinic");
        if (existing.patient_id !== b.patientId) throw keyReused();
        await auditAccess(c, db, { patientId: existing.patient_id, resource: { type: 'ServiceRequest', id: existing.id }, action: 'read' });
        return c.json(await ctx.view(existing), 201);
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
      // The policy and calendar in force at this instant; the process starts with this very policy (in the outbox row).
      const createdAt = new Date();
      const policy = await referralPolicy(db, referrer.clinic_id, kind, urgency, createdAt);
      const deadline = await referralDeadline(db, referrer.clinic_id, createdAt, policy);
      const validUntil = b.validUntil ? new Date(b.validUntil) : new Date(createdAt.getTime() + policy.validityDays * 86_400_000);
      if (validUntil.getTime() <= createdAt.getTime()) throw new ApiError(422, 'validity_in_past', 'validUntil has already passed.');

      const workflowId = referralWorkflowId(referralId);
      const input: ReferralInput = {
        referralId,
        patientId: b.patientId,
        clinicId: referrer.clinic_id,
        referringPractitionerId: referrer.id,
        specialty,
        targetPractitionerId: b.targetPractitionerId ?? null,
        kind,
        urgency,
        createdAt: createdAt.toISOString(),
        deadlineAt: deadline.toISOString(),
        validUntil: validUntil.toISOString(),
        policy,
      };
      // One transaction: the row (lists and the queue show it at once), its created event, its process's start.
      const { row } = await createReferral(db, {
        referral: {
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
          workflow_id: workflowId,
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
        created: {
          referral_id: referralId,
          step: 'created',
          actor: caller.id,
          dedupe_key: `${workflowId}:created`,
          details: JSON.stringify({ kind, urgency, deadlineAt: input.deadlineAt, validUntil: input.validUntil }),
        },
        input,
        taskQueue: config.CLINICAL_TASK_QUEUE,
      });
      // A twin request with the same key and another patient committed first: its referral stands.
      if (row.patient_id !== b.patientId) throw keyReused();
      await auditAccess(c, db, { patientId: row.patient_id, resource: { type: 'ServiceRequest', id: row.id }, action: 'write' });
      return c.json(await ctx.view(row), 201);
    },
  );
}
