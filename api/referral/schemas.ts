/** The referral routes' request and response schemas (zod, and through them the OpenAPI document). */
import { z } from '@hono/zod-openapi';
import { REFERRAL_KINDS, REFERRAL_URGENCIES, type ReferralStatus } from '../../domain/referral';
import { errorResponse } from '../errors';
import { MoreField } from '../paging';
import { ReferralNameFields } from '../referral-names';

export const Uuid = z.string().uuid();
export const STATUSES = [
  'created',
  'offered',
  'booked',
  'attended',
  'reported',
  'closed',
  'cancelled',
  'expired',
] as const satisfies readonly ReferralStatus[];
export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'Idempotency-Key must be 8–128 letters, digits or _.:-')
    .openapi({ param: { name: 'idempotency-key', in: 'header' }, example: 'ref-2026-11-26-001' }),
});
export const OfferSchema = z
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
export const ReferralSchema = z
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
export const ReferralDetailSchema = ReferralSchema.extend({
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
export const ReferralListSchema = z
  .object({ referrals: z.array(ReferralSchema.extend(ReferralNameFields)), nextOffset: z.number().int().nullable(), more: MoreField })
  .openapi('ReferralList');
export const BookedSchema = z
  .object({ appointmentId: Uuid, status: z.string(), slotId: Uuid, practitionerId: Uuid, clinicId: Uuid, startsAt: z.string().datetime() })
  .openapi('ReferralBooking');

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
export const body = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
export const AUTH_ERRORS = { 401: errorResponse('No or invalid token'), 403: errorResponse('Role not allowed, or not your record') };
export const IdParam = z.object({ id: Uuid });

export const CreateSchema = z.strictObject({
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

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const ACTION_ERRORS = {
  400: errorResponse('Malformed request'),
  ...AUTH_ERRORS,
  404: errorResponse('referral_not_found'),
  409: errorResponse('invalid_state'),
};
