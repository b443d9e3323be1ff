/**
 * The lab's side: its worklist, specimen collected / received / rejected, results as JSON or as an
 * HL7 v2 ORU^R01 message (answered with an HL7 ACK). A lab token acts only on its own clinic's orders.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { labWorklist } from '../../db/lab-order';
import { REJECTION_REASONS } from '../../domain/lab-order';
import { callerClinics } from '../access';
import { intakeLabMessage } from '../lab-messages/intake';
import { newRouter, type ApiDeps } from '../router';
import { requireRole } from '../auth';
import { ApiError, errorResponse } from '../errors';
import { cut, MoreField } from '../paging';
import { LabNameFields, labNames } from './names';
import { labOrderCommands } from './commands';
import { AUTH_ERRORS, IdParam, LabOrderSchema, body, json } from './shared';

const HL7_TYPES = ['text/plain', 'x-application/hl7-v2+er7', 'application/hl7-v2'];

const ResultsSchema = z
  .strictObject({
    results: z
      .array(
        z.strictObject({
          loinc: z.string().max(20),
          // Any JSON value: the process's validator refuses what is not a finite number (not_finite), by test.
          value: z.union([z.number(), z.string(), z.null()]).openapi({ type: 'number', example: 4.2 }),
          unit: z.string().max(30),
          status: z.enum(['preliminary', 'final', 'corrected']).optional(),
        }),
      )
      .min(1)
      .max(50),
  })
  .openapi('LabResultsPost');
const PostAnswerSchema = z
  .object({ status: z.string(), recorded: z.number().int(), duplicates: z.number().int(), results: z.array(z.unknown()) })
  .openapi('LabResultsAnswer');
const WorklistSchema = z
  .object({
    orders: z.array(
      z.object({
        id: z.string(),
        patientId: z.string(),
        priority: z.string(),
        status: z.string(),
        tests: z.array(z.string()),
        createdAt: z.string(),
        deadlineAt: z.string().nullable(),
        overdue: z.boolean(),
        barcode: z.string().nullable(),
        rejectionCount: z.number().int(),
        ...LabNameFields,
        createdAtLocal: z.string(),
        deadlineAtLocal: z.string().nullable(),
      }),
    ),
    more: MoreField,
  })
  .openapi('LabWorklist');
/** Open orders answered at most; `more` says when the worklist holds more. */
const WORKLIST_LIMIT = 500;

export function labRouter(deps: ApiDeps) {
  const { db, temporal, config } = deps;
  const lab = requireRole(config, 'lab', 'admin');
  const router = newRouter();
  const commands = labOrderCommands(deps);
  const ACTION = {
    200: json(LabOrderSchema, 'The order after the step'),
    400: errorResponse('Malformed request'),
    ...AUTH_ERRORS,
    404: errorResponse('lab_order_not_found'),
    409: errorResponse('invalid_state'),
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/lab/worklist',
      summary: "The lab's open orders, stat first, then oldest",
      security: [{ bearer: [] }],
      middleware: [lab] as const,
      request: { query: z.object({ clinicId: z.string().uuid().optional() }) },
      responses: { 200: json(WorklistSchema, 'Open orders'), 400: errorResponse('clinicId needed for admin'), ...AUTH_ERRORS },
    }),
    async (c) => {
      const caller = c.get('caller');
      const clinicId = caller.role === 'lab' ? caller.clinicId : c.req.valid('query').clinicId;
      if (!clinicId)
        throw new ApiError(
          caller.role === 'lab' ? 403 : 400,
          caller.role === 'lab' ? 'forbidden' : 'validation_failed',
          'A lab token names its clinic (cid); admin passes clinicId.',
        );
      const { page: rows, more } = cut(await labWorklist(db, clinicId, WORKLIST_LIMIT + 1), WORKLIST_LIMIT);
      const names = await labNames(db, rows, { namePatients: true });
      return c.json(
        {
          orders: rows.map((r) => ({
            id: r.id,
            patientId: r.patient_id,
            priority: r.priority,
            status: r.status,
            tests: r.tests,
            createdAt: r.created_at.toISOString(),
            deadlineAt: r.deadline_at?.toISOString() ?? null,
            overdue: r.overdue,
            barcode: r.barcode,
            rejectionCount: r.rejection_count,
            ...names.fields(r),
            createdAtLocal: names.local(r.created_at, r)!,
            deadlineAtLocal: names.local(r.deadline_at, r),
          })),
          more,
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-orders/{id}/specimen/collect',
      summary: 'Specimen collected: barcode, who and when',
      security: [{ bearer: [] }],
      middleware: [lab] as const,
      request: { params: IdParam, ...body(z.strictObject({ barcode: z.string().regex(/^[A-Za-z0-9-]{4,40}$/) })) },
      responses: ACTION,
    }),
    async (c) => {
      return c.json(await commands.collect(c, c.req.valid('param').id, c.req.valid('json').barcode), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-orders/{id}/specimen/receive',
      summary: 'Specimen received by the lab',
      security: [{ bearer: [] }],
      middleware: [lab] as const,
      request: { params: IdParam },
      responses: ACTION,
    }),
    async (c) => {
      return c.json(await commands.receive(c, c.req.valid('param').id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-orders/{id}/specimen/reject',
      summary: "Specimen rejected with its reason: back to collection, or cancelled past the policy's limit",
      security: [{ bearer: [] }],
      middleware: [lab] as const,
      request: { params: IdParam, ...body(z.strictObject({ reason: z.enum(REJECTION_REASONS) })) },
      responses: ACTION,
    }),
    async (c) => {
      return c.json(await commands.reject(c, c.req.valid('param').id, c.req.valid('json').reason), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-orders/{id}/results',
      summary: 'Post results (validated before they enter history; the same result twice is recorded once; after final: an amendment)',
      security: [{ bearer: [] }],
      middleware: [lab] as const,
      request: {
        params: IdParam,
        headers: z.object({
          'idempotency-key': z
            .string()
            .regex(/^[A-Za-z0-9_.:-]{8,128}$/)
            .optional(),
        }),
        ...body(ResultsSchema),
      },
      responses: {
        200: json(PostAnswerSchema.extend({ order: LabOrderSchema }), 'Recorded (duplicates counted, not recorded again)'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('lab_order_not_found'),
        409: errorResponse('invalid_state: the specimen is not received'),
        422: errorResponse('unknown_test / wrong_unit / not_finite / impossible_value (details: index, loinc)'),
      },
    }),
    async (c) => {
      const results = c.req.valid('json').results.map((r) => ({ ...r, value: r.value as unknown }));
      return c.json(await commands.postResults(c, c.req.valid('param').id, results, c.req.valid('header')['idempotency-key']), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-results/hl7v2',
      summary:
        'Results as an HL7 v2 ORU^R01 (OBR-2 = our order id, PID-3 = our patient id), judged whole as over MLLP; answers with an HL7 ACK (AA / AE / AR)',
      security: [{ bearer: [] }],
      middleware: [lab] as const,
      request: {
        body: { content: { 'x-application/hl7-v2+er7': { schema: z.string() }, 'text/plain': { schema: z.string() } }, required: true },
      },
      responses: {
        200: { description: 'MSA AA: accepted', content: { 'x-application/hl7-v2+er7': { schema: z.string() } } },
        400: {
          description: 'MSA AR: malformed, not an ORU^R01, too large, or a sender not trusted',
          content: { 'x-application/hl7-v2+er7': { schema: z.string() } },
        },
        422: {
          description:
            'MSA AE: unknown order or another patient (queued as unmatched), a result refused, a control id reused (codes in MSA-3 and ERR)',
          content: { 'x-application/hl7-v2+er7': { schema: z.string() } },
        },
        ...AUTH_ERRORS,
        415: errorResponse('unsupported_media_type'),
      },
    }),
    async (c) => {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!HL7_TYPES.includes(type)) throw new ApiError(415, 'unsupported_media_type', `Send the message as ${HL7_TYPES.join(' or ')}.`);
      const caller = c.get('caller');
      const raw = Buffer.from(await c.req.arrayBuffer());
      // The lab's token says whose orders it posts to; admin may post to any clinic's.
      const clinics = callerClinics(caller);
      const answer = await intakeLabMessage(
        { db, temporal },
        {
          raw,
          transport: 'http',
          caller: caller.id,
          peer: null,
          scopeFor: () => (caller.role === 'admin' ? { anyClinic: true } : clinics.length ? { clinicIds: clinics } : null),
        },
      );
      return c.body(answer.ack, answer.ackCode === 'AA' ? 200 : answer.ackCode === 'AR' ? 400 : 422, {
        'content-type': 'x-application/hl7-v2+er7',
      });
    },
  );

  return router;
}
