/**
 * `GET /lab/critical-results`: the lab's own critical values still waiting for the doctor's
 * read-back, oldest first, so the lab knows whom it still has to reach. A lab token sees its
 * clinic(s) only; admin names a clinic or sees all.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { criticalUnacknowledged, currentResults } from '../../db/lab-order';
import { isCritical } from '../../domain/interpretation';
import { callerClinics, clinicFilterFor } from '../access';
import { requireRole } from '../auth';
import { errorResponse } from '../errors';
import { cut, MoreField } from '../paging';
import { newRouter, type ApiDeps } from '../router';
import { AUTH_ERRORS, json } from './shared';
import { LabNameFields, labNames } from './names';

const LIMIT = 200;

const LabCriticalSchema = z
  .object({
    results: z.array(
      z.object({
        orderId: z.string(),
        patientId: z.string(),
        clinicId: z.string(),
        orderingPractitionerId: z.string(),
        priority: z.string(),
        tests: z.array(z.string()),
        ...LabNameFields,
        finalAt: z.string().nullable(),
        finalAtLocal: z.string().nullable(),
        minutesWaiting: z.number(),
        critical: z.array(
          z.object({ loinc: z.string(), name: z.string(), value: z.number(), unit: z.string(), interpretation: z.string() }),
        ),
        escalations: z.array(
          z.object({
            step: z.string(),
            practitionerId: z.string().nullable(),
            practitionerName: z.string().nullable(),
            at: z.string(),
          }),
        ),
      }),
    ),
    more: MoreField,
  })
  .openapi('LabCriticalResults');

export function labCriticalRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const lab = requireRole(config, 'lab', 'admin');
  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/lab/critical-results',
      summary: "My lab's critical values waiting for the doctor's read-back, oldest first, with each escalation step",
      security: [{ bearer: [] }],
      middleware: [lab] as const,
      request: {
        query: z.object({
          clinicId: z
            .string()
            .uuid()
            .optional()
            .openapi({ description: "One of the token's clinics (a lab token: defaults to all of them); admin: any, or all when omitted" }),
        }),
      },
      responses: {
        200: json(LabCriticalSchema, 'Critical results awaiting read-back'),
        400: errorResponse('Malformed clinicId'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const caller = c.get('caller');
      const asked = c.req.valid('query').clinicId;
      // A lab without a clinicId sees every clinic on its token; one named must be its own (403 wrong_clinic).
      const clinicIds = asked ? [clinicFilterFor(caller, asked)!] : caller.role === 'lab' ? callerClinics(caller) : undefined;
      if (caller.role === 'lab' && clinicIds!.length === 0) clinicFilterFor(caller, undefined);
      const { page: rows, more } = cut(await criticalUnacknowledged(db, { clinicIds, limit: LIMIT + 1 }), LIMIT);
      const [names, results] = await Promise.all([
        labNames(db, rows, { namePatients: true, practitioners: rows.flatMap((r) => r.steps.map((s) => s.recipient_practitioner_id)) }),
        currentResults(
          db,
          rows.map((r) => r.id),
        ),
      ]);
      return c.json(
        {
          more,
          results: rows.map((r) => ({
            orderId: r.id,
            patientId: r.patient_id,
            clinicId: r.clinic_id,
            orderingPractitionerId: r.ordering_practitioner_id,
            priority: r.priority,
            tests: r.tests,
            ...names.fields(r),
            finalAt: r.final_at?.toISOString() ?? null,
            finalAtLocal: names.local(r.final_at, r),
            minutesWaiting: r.final_at ? Math.round((Date.now() - r.final_at.getTime()) / 600) / 100 : 0,
            critical: results
              .filter((x) => x.lab_order_id === r.id && isCritical(x.interpretation))
              .map((x) => ({ loinc: x.loinc, name: x.name, value: x.value, unit: x.unit, interpretation: x.interpretation })),
            escalations: r.steps.map((s) => ({
              step: s.step,
              practitionerId: s.recipient_practitioner_id,
              practitionerName: names.practitioner(s.recipient_practitioner_id),
              at: s.notified_at.toISOString(),
            })),
          })),
        },
        200,
      );
    },
  );

  return router;
}
