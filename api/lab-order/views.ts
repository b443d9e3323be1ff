/**
 * Lists and records around lab orders: the doctor's inbox, the patient's own final results, vitals
 * the doctor records, and the ops views (unacknowledged critical results, turnaround percentiles).
 */
import { recordVitals } from '../../commands/records';
import { createRoute, z } from '@hono/zod-openapi';
import { criticalUnacknowledged, doctorInbox, turnaround } from '../../db/lab-order';
import { VITAL_SIGNS, vitalObservations } from '../../domain/vitals';
import { newRouter, type ApiDeps } from '../router';
import { requireRole } from '../auth';
import { auditAccess } from '../access';
import { ApiError, errorResponse } from '../errors';
import { cut, MoreField } from '../paging';
import { patientLabReports } from './patient-results';
import { AUTH_ERRORS, IdParam, IdempotencyHeader, ResultSchema, body, json } from './shared';
import { LabNameFields, labNames } from './names';

/** Rows a doctor's inbox or the ops list answers at most; `more` says when there are more. */
const LIST_LIMIT = 500;

const InboxSchema = z
  .object({
    orders: z.array(
      z.object({
        id: z.string(),
        patientId: z.string(),
        priority: z.string(),
        tests: z.array(z.string()),
        finalAt: z.string().nullable(),
        critical: z.boolean(),
        round: z.number().int(),
        ...LabNameFields,
        clinicId: z.string(),
        orderingPractitionerId: z.string(),
        finalAtLocal: z.string().nullable(),
      }),
    ),
    more: MoreField,
  })
  .openapi('LabInbox');
const PatientResultsSchema = z
  .object({
    reports: z.array(
      z.object({
        orderId: z.string(),
        status: z.enum(['final', 'amended']),
        releasedAt: z.string(),
        results: z.array(ResultSchema),
        observations: z.array(z.unknown()),
      }),
    ),
    more: MoreField,
  })
  .openapi('PatientLabResults');
const VitalsSchema = z
  .strictObject({
    weight: z.number().optional().openapi({ description: 'kg' }),
    height: z.number().optional().openapi({ description: 'cm' }),
    bmi: z.number().optional().openapi({ description: 'kg/m²; derived from weight and height when absent' }),
    systolic: z.number().optional().openapi({ description: 'mmHg' }),
    diastolic: z.number().optional().openapi({ description: 'mmHg' }),
    effectiveAt: z.string().datetime({ offset: true }).optional(),
  })
  .openapi('Vitals');
const ObservationsSchema = z.object({ observations: z.array(z.unknown()) }).openapi('VitalObservations');
const CriticalSchema = z
  .object({
    results: z.array(
      z.object({
        orderId: z.string(),
        workflowId: z.string(),
        clinicId: z.string(),
        patientId: z.string(),
        orderingPractitionerId: z.string(),
        finalAt: z.string().nullable(),
        minutesWaiting: z.number(),
        escalations: z.array(
          z.object({ step: z.string(), practitionerId: z.string().nullable(), practitionerName: z.string().nullable(), at: z.string() }),
        ),
        ...LabNameFields,
        finalAtLocal: z.string().nullable(),
      }),
    ),
    more: MoreField,
  })
  .openapi('CriticalResults');
const TurnaroundSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    rows: z.array(
      z.object({
        loinc: z.string(),
        clinicId: z.string(),
        orders: z.number().int(),
        medianSeconds: z.number().nullable(),
        p90Seconds: z.number().nullable(),
        steps: z.object({
          orderedToCollected: z.number().nullable(),
          collectedToReceived: z.number().nullable(),
          receivedToResulted: z.number().nullable(),
          finalToAcknowledged: z.number().nullable(),
        }),
      }),
    ),
  })
  .openapi('LabTurnaround');

export function labViewsRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const doctor = requireRole(config, 'doctor');
  const doctorOrAdmin = requireRole(config, 'doctor', 'admin');
  const patientReaders = requireRole(config, 'patient', 'doctor', 'admin');
  const ops = requireRole(config, 'ops', 'admin');
  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/doctors/me/lab-inbox',
      summary: 'Final results awaiting my acknowledgement (ordering or covering), critical first',
      security: [{ bearer: [] }],
      middleware: [doctor] as const,
      responses: { 200: json(InboxSchema, 'The inbox'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const me = c.get('caller').practitionerId;
      if (!me) throw new ApiError(403, 'forbidden', 'The token names no practitioner.');
      const { page: rows, more } = cut(await doctorInbox(db, me, LIST_LIMIT + 1), LIST_LIMIT);
      const names = await labNames(db, rows, { namePatients: true });
      return c.json(
        {
          more,
          orders: rows.map((r) => ({
            id: r.id,
            patientId: r.patient_id,
            priority: r.priority,
            tests: r.tests,
            finalAt: r.final_at?.toISOString() ?? null,
            critical: r.critical_pending,
            round: r.round,
            ...names.fields(r),
            clinicId: r.clinic_id,
            orderingPractitionerId: r.ordering_practitioner_id,
            finalAtLocal: names.local(r.final_at, r),
          })),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/patients/{id}/lab-results',
      summary: "A patient's final (and amended) results with flags, reference ranges and release time; never preliminary ones",
      security: [{ bearer: [] }],
      middleware: [patientReaders] as const,
      request: { params: IdParam },
      responses: { 200: json(PatientResultsSchema, 'Released reports, newest first'), ...AUTH_ERRORS },
    }),
    async (c) => {
      return c.json(await patientLabReports(c, db, c.req.valid('param').id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/patients/{id}/vitals',
      summary: 'Record vital signs (weight, height, BMI, blood pressure) as LOINC-coded observations',
      security: [{ bearer: [] }],
      middleware: [doctorOrAdmin] as const,
      request: { params: IdParam, headers: IdempotencyHeader, ...body(VitalsSchema) },
      responses: {
        201: json(ObservationsSchema, 'Recorded, as FHIR vital-signs Observations'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('patient_not_found'),
        422: errorResponse('validation_failed: out of range'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { effectiveAt, ...readings } = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      if (!(await db.selectFrom('patients').select('id').where('id', '=', id).executeTakeFirst()))
        throw new ApiError(404, 'patient_not_found', `Patient ${id} does not exist.`);
      const checked = vitalObservations(readings);
      if (!checked.ok) throw new ApiError(422, 'validation_failed', 'The vital signs are not valid: see details.', checked.problems);
      const at = effectiveAt ? new Date(effectiveAt) : new Date();
      if (at.getTime() > Date.now() + 5 * 60_000) throw new ApiError(422, 'validation_failed', 'effectiveAt is in the future.');
      const by = c.get('caller').id;
      await recordVitals(
        db,
        checked.values.map((v) => ({
          patient_id: id,
          loinc: v.loinc,
          value: v.value,
          unit: v.unit,
          effective_at: at,
          recorded_by: by,
          dedupe_key: `${by}:${key}:${v.loinc}`,
        })),
      );
      const rows = await db
        .selectFrom('patient_vitals')
        .selectAll()
        .where(
          'dedupe_key',
          'in',
          checked.values.map((v) => `${by}:${key}:${v.loinc}`),
        )
        .execute();
      await auditAccess(c, db, { patientId: id, resource: { type: 'Observation', id: `vitals:${key}` }, action: 'write' });
      const display = Object.fromEntries(Object.values(VITAL_SIGNS).map((s) => [s.loinc, s.display]));
      return c.json(
        {
          observations: rows.map((r) => ({
            resourceType: 'Observation',
            id: r.id,
            status: 'final',
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
            code: { coding: [{ system: 'http://loinc.org', code: r.loinc, display: display[r.loinc] }] },
            subject: { reference: `Patient/${id}` },
            effectiveDateTime: r.effective_at.toISOString(),
            valueQuantity: { value: r.value, unit: r.unit, system: 'http://unitsofmeasure.org', code: r.unit },
          })),
        },
        201,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/ops/critical-results',
      summary: 'Critical results not yet acknowledged, oldest first, with each escalation step and its time',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      responses: { 200: json(CriticalSchema, 'Unacknowledged critical results'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { page: rows, more } = cut(await criticalUnacknowledged(db, { limit: LIST_LIMIT + 1 }), LIST_LIMIT);
      // Ops see no patient data: no patient names here.
      const names = await labNames(db, rows, {
        namePatients: false,
        practitioners: rows.flatMap((r) => r.steps.map((s) => s.recipient_practitioner_id)),
      });
      return c.json(
        {
          more,
          results: rows.map((r) => ({
            orderId: r.id,
            workflowId: r.workflow_id,
            clinicId: r.clinic_id,
            patientId: r.patient_id,
            orderingPractitionerId: r.ordering_practitioner_id,
            finalAt: r.final_at?.toISOString() ?? null,
            minutesWaiting: r.final_at ? Math.round((Date.now() - r.final_at.getTime()) / 600) / 100 : 0,
            escalations: r.steps.map((s) => ({
              step: s.step,
              practitionerId: s.recipient_practitioner_id,
              practitionerName: names.practitioner(s.recipient_practitioner_id),
              at: s.notified_at.toISOString(),
            })),
            ...names.fields(r),
            finalAtLocal: names.local(r.final_at, r),
          })),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/ops/lab-turnaround',
      summary:
        "Median and p90 time from order to final result (and each step's median) per test and clinic, for orders finalised in [from, to)",
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { query: z.object({ from: z.string().datetime({ offset: true }), to: z.string().datetime({ offset: true }) }) },
      responses: { 200: json(TurnaroundSchema, 'Seconds, per test and clinic'), 400: errorResponse('Malformed from/to'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const { from, to } = c.req.valid('query');
      if (Date.parse(to) <= Date.parse(from)) throw new ApiError(400, 'validation_failed', '`to` must be after `from`.');
      const rows = await turnaround(db, new Date(from), new Date(to));
      return c.json(
        {
          from,
          to,
          rows: rows.map((r) => ({
            loinc: r.loinc,
            clinicId: r.clinic_id,
            orders: Number(r.orders),
            medianSeconds: r.median_seconds,
            p90Seconds: r.p90_seconds,
            steps: {
              orderedToCollected: r.median_to_collected,
              collectedToReceived: r.median_collected_to_received,
              receivedToResulted: r.median_received_to_resulted,
              finalToAcknowledged: r.median_final_to_acknowledged,
            },
          })),
        },
        200,
      );
    },
  );

  return router;
}
