/**
 * Admin routes for what was policy in Postgres only: referral waiting times and escalation share,
 * lab critical-value escalation steps, critical ranges per test. Each change is a new version in
 * force from its effectiveFrom; listings keep every version and mark the one in force at `?at=`.
 * Admin role only; every change is audited (who, when, before → after). See docs/admin-api.md.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  addCriticalRangeVersion,
  addLabEscalationVersion,
  addReferralWaitVersion,
  criticalRangeContext,
  listCriticalRangeVersions,
  listLabEscalationVersions,
  listReferralWaitVersions,
  type PolicyScope,
} from '../../db/policies';
import { labOrderPolicy } from '../../db/lab-order';
import { referralPolicy } from '../../db/referral';
import { checkCriticalRange, checkEscalation, checkPositive, checkShare, checkWait } from '../../domain/admin-policy';
import { REFERRAL_KINDS, REFERRAL_URGENCIES, type ReferralKind, type ReferralUrgency } from '../../domain/referral';
import { requireRole } from '../auth';
import { ApiError, errorResponse } from '../errors';
import { newRouter, type ApiDeps } from '../router';
import {
  AtQuery,
  AUTH_ERRORS,
  atOf,
  body,
  ChangeFields,
  changeActor,
  effectiveFrom,
  json,
  oneVersionPerInstant,
  refuse,
  Uuid,
  VersionFields,
} from './shared';

const Kind = z.enum(REFERRAL_KINDS as [ReferralKind, ...ReferralKind[]]);
const Urgency = z.enum(REFERRAL_URGENCIES as [ReferralUrgency, ...ReferralUrgency[]]);
/** ISO 3166-2 subdivision part (e.g. MOW, SPE), as clinic calendars store it. */
export const Region = z.string().regex(/^[A-Z0-9]{1,3}$/, 'region is an ISO 3166-2 subdivision code such as MOW');
const WaitSchema = z
  .union([z.strictObject({ workingDays: z.number() }), z.strictObject({ hours: z.number() }), z.strictObject({ seconds: z.number() })])
  .openapi('WaitTime', {
    description: "Working days of the clinic's calendar, calendar hours, or seconds (tests)",
    example: { workingDays: 14 },
  });
const PolicyFields = {
  wait: WaitSchema,
  escalationShare: z.number(),
  acknowledgeSeconds: z.number().int(),
  noShowLimit: z.number().int(),
  validityDays: z.number().int(),
};
const ReferralWaitSchema = z
  .object({
    clinicId: Uuid.nullable(),
    region: z.string().nullable(),
    kind: Kind,
    urgency: Urgency,
    ...PolicyFields,
    ...VersionFields,
  })
  .openapi('ReferralWaitingTimeVersion');
const ReferralWaitListSchema = z
  .object({
    at: z.string().datetime(),
    versions: z.array(ReferralWaitSchema),
    effective: z
      .array(z.object({ kind: Kind, urgency: Urgency, ...PolicyFields }))
      .nullable()
      .openapi({
        description:
          'With clinicId: the policy each kind and urgency gets at `at` (clinic, then region, then city-wide, then the defaults)',
      }),
  })
  .openapi('ReferralWaitingTimes');
const NewReferralWaitSchema = z
  .strictObject({
    clinicId: Uuid.optional().openapi({ description: 'One clinic; or give region; neither: city-wide' }),
    region: Region.optional(),
    kind: Kind,
    urgency: Urgency,
    wait: WaitSchema,
    escalationShare: z
      .number()
      .optional()
      .openapi({ description: 'Fraction of the wait after which an unbooked referral is escalated, in (0, 1)', example: 0.5 }),
    acknowledgeSeconds: z.number().optional(),
    noShowLimit: z.number().optional(),
    validityDays: z.number().optional(),
    ...ChangeFields,
  })
  .openapi('NewReferralWaitingTime');

const EscalationFields = { escalateCoveringSeconds: z.number().int(), escalateHeadSeconds: z.number().int() };
const LabEscalationSchema = z.object({ clinicId: Uuid.nullable(), ...EscalationFields, ...VersionFields }).openapi('LabEscalationVersion');
const LabEscalationListSchema = z
  .object({
    at: z.string().datetime(),
    versions: z.array(LabEscalationSchema),
    effective: z
      .object(EscalationFields)
      .nullable()
      .openapi({ description: 'With clinicId: the steps a new order of that clinic gets at `at`' }),
  })
  .openapi('LabEscalationPolicies');
const NewLabEscalationSchema = z
  .strictObject({
    clinicId: Uuid.optional().openapi({ description: 'One clinic; omitted: city-wide' }),
    escalateCoveringSeconds: z
      .number()
      .openapi({ description: 'Unacknowledged critical result: the covering doctor is called this long after it', example: 900 }),
    escalateHeadSeconds: z
      .number()
      .openapi({ description: '…and the head of department this long after it (more than the covering step)', example: 2700 }),
    ...ChangeFields,
  })
  .openapi('NewLabEscalationPolicy');

const Loinc = z.string().regex(/^[0-9]{1,7}-[0-9]$/, 'a LOINC code such as 2823-3');
const Limit = z.number().nullable();
const CriticalRangeSchema = z
  .object({ loinc: z.string(), criticalLow: Limit, criticalHigh: Limit, ...VersionFields })
  .openapi('CriticalRangeVersion');
const CriticalRangeListSchema = z
  .object({
    at: z.string().datetime(),
    versions: z.array(CriticalRangeSchema),
    effective: z
      .unknown()
      .nullable()
      .openapi({ description: "With loinc: the critical limits in force at `at` (a version, or the catalogue's reference-range rows)" }),
  })
  .openapi('CriticalRanges');
const NewCriticalRangeSchema = z
  .strictObject({
    loinc: Loinc,
    criticalLow: Limit.openapi({ description: 'Below it a value is LL (critical); null: no lower limit', example: 2.5 }),
    criticalHigh: Limit.openapi({ description: 'Above it a value is HH (critical); null: no upper limit', example: 6.5 }),
    ...ChangeFields,
  })
  .openapi('NewCriticalRange');

const CHANGE_ERRORS = {
  400: errorResponse('validation_failed: malformed body or unknown field'),
  ...AUTH_ERRORS,
  409: errorResponse('version_exists: a version of this scope already starts at that instant'),
};

export function adminPoliciesRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const admin = requireRole(config, 'admin');
  const router = newRouter();

  async function clinicExists(clinicId: string | undefined) {
    if (clinicId && !(await db.selectFrom('clinics').select('id').where('id', '=', clinicId).executeTakeFirst())) {
      throw new ApiError(404, 'clinic_not_found', `Clinic ${clinicId} does not exist.`);
    }
  }

  router.openapi(
    createRoute({
      method: 'get',
      path: '/admin/policies/referral-waiting-times',
      summary: 'Referral waiting-time versions (per scope, kind and urgency), the one in force at `at` marked',
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: {
        query: AtQuery.extend({ clinicId: Uuid.optional(), region: Region.optional(), kind: Kind.optional(), urgency: Urgency.optional() }),
      },
      responses: {
        200: json(ReferralWaitListSchema, 'Every version, newest first per kind and urgency'),
        400: errorResponse('Malformed query'),
        ...AUTH_ERRORS,
        404: errorResponse('clinic_not_found'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const at = atOf(q.at);
      await clinicExists(q.clinicId);
      const versions = await listReferralWaitVersions(db, { ...q, at });
      const effective = q.clinicId
        ? await Promise.all(
            REFERRAL_KINDS.flatMap((kind) =>
              REFERRAL_URGENCIES.map(async (urgency) => ({
                kind,
                urgency,
                ...(await referralPolicy(db, q.clinicId!, kind, urgency, at)),
              })),
            ),
          )
        : null;
      return c.json({ at: at.toISOString(), versions, effective }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/admin/policies/referral-waiting-times',
      operationId: 'setReferralWaitingTime',
      summary: 'Set a referral waiting time (and escalation share) for a kind and urgency, from effectiveFrom',
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: body(NewReferralWaitSchema),
      responses: {
        201: json(ReferralWaitSchema, 'The new version; referrals created from effectiveFrom on take it'),
        ...CHANGE_ERRORS,
        404: errorResponse('clinic_not_found'),
        422: errorResponse('negative_duration / share_out_of_range / effective_from_in_past / scope_ambiguous'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      if (b.clinicId && b.region) throw new ApiError(422, 'scope_ambiguous', 'Give clinicId or region, not both.');
      refuse(
        checkWait(b.wait) ??
          checkShare(b.escalationShare) ??
          checkPositive('acknowledgeSeconds', b.acknowledgeSeconds) ??
          checkPositive('noShowLimit', b.noShowLimit, 20) ??
          checkPositive('validityDays', b.validityDays, 366),
      );
      const from = effectiveFrom(b.effectiveFrom);
      await clinicExists(b.clinicId);
      const scope: PolicyScope = b.clinicId ? { clinicId: b.clinicId } : b.region ? { region: b.region } : {};
      const version = await oneVersionPerInstant(() =>
        addReferralWaitVersion(
          db,
          {
            scope,
            kind: b.kind,
            urgency: b.urgency,
            wait: b.wait,
            effectiveFrom: from,
            escalationShare: b.escalationShare,
            acknowledgeSeconds: b.acknowledgeSeconds,
            noShowLimit: b.noShowLimit,
            validityDays: b.validityDays,
          },
          changeActor(c, b.reason),
        ),
      );
      return c.json(version, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/admin/policies/lab-escalation',
      summary: 'Critical-value escalation versions (city-wide and per clinic), the one in force at `at` marked',
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: { query: AtQuery.extend({ clinicId: Uuid.optional() }) },
      responses: {
        200: json(LabEscalationListSchema, 'Every version, newest first per scope'),
        400: errorResponse('Malformed query'),
        ...AUTH_ERRORS,
        404: errorResponse('clinic_not_found'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const at = atOf(q.at);
      await clinicExists(q.clinicId);
      const versions = await listLabEscalationVersions(db, { clinicId: q.clinicId, at });
      const p = q.clinicId ? await labOrderPolicy(db, q.clinicId, at) : null;
      const effective = p && { escalateCoveringSeconds: p.escalateCoveringSeconds, escalateHeadSeconds: p.escalateHeadSeconds };
      return c.json({ at: at.toISOString(), versions, effective }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/admin/policies/lab-escalation',
      operationId: 'setLabEscalation',
      summary: 'Set when an unacknowledged critical result goes to the covering doctor and the head of department, from effectiveFrom',
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: body(NewLabEscalationSchema),
      responses: {
        201: json(LabEscalationSchema, 'The new version; lab orders placed from effectiveFrom on take it'),
        ...CHANGE_ERRORS,
        404: errorResponse('clinic_not_found'),
        422: errorResponse('negative_duration / escalation_order / effective_from_in_past'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      refuse(checkEscalation(b.escalateCoveringSeconds, b.escalateHeadSeconds));
      const from = effectiveFrom(b.effectiveFrom);
      await clinicExists(b.clinicId);
      const version = await oneVersionPerInstant(() =>
        addLabEscalationVersion(
          db,
          {
            clinicId: b.clinicId ?? null,
            escalateCoveringSeconds: b.escalateCoveringSeconds,
            escalateHeadSeconds: b.escalateHeadSeconds,
            effectiveFrom: from,
          },
          changeActor(c, b.reason),
        ),
      );
      return c.json(version, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/admin/policies/critical-ranges',
      summary: 'Critical-range versions per test (LOINC), the one in force at `at` marked',
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: { query: AtQuery.extend({ loinc: Loinc.optional() }) },
      responses: {
        200: json(CriticalRangeListSchema, 'Every version, newest first per test'),
        400: errorResponse('Malformed query'),
        ...AUTH_ERRORS,
        404: errorResponse('unknown_loinc'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const at = atOf(q.at);
      const context = q.loinc ? await criticalRangeContext(db, q.loinc, at) : null;
      if (q.loinc && !context) throw new ApiError(404, 'unknown_loinc', `LOINC ${q.loinc} is not in the lab catalogue.`);
      const versions = await listCriticalRangeVersions(db, { loinc: q.loinc, at });
      return c.json({ at: at.toISOString(), versions, effective: context?.inForce ?? null }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/admin/policies/critical-ranges',
      operationId: 'setCriticalRange',
      summary: "Set a test's critical limits (every sex and age band), from effectiveFrom",
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: body(NewCriticalRangeSchema),
      responses: {
        201: json(CriticalRangeSchema, 'The new version; lab orders placed from effectiveFrom on take it'),
        ...CHANGE_ERRORS,
        404: errorResponse('unknown_loinc'),
        422: errorResponse('range_inverted / range_empty / effective_from_in_past'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const from = effectiveFrom(b.effectiveFrom);
      const context = await criticalRangeContext(db, b.loinc, from);
      if (!context) throw new ApiError(404, 'unknown_loinc', `LOINC ${b.loinc} is not in the lab catalogue.`);
      refuse(checkCriticalRange(b.criticalLow, b.criticalHigh, context.bands));
      const version = await oneVersionPerInstant(() =>
        addCriticalRangeVersion(
          db,
          {
            loinc: b.loinc,
            criticalLow: b.criticalLow,
            criticalHigh: b.criticalHigh,
            effectiveFrom: from,
          },
          changeActor(c, b.reason),
        ),
      );
      return c.json(version, 201);
    },
  );

  return router;
}
