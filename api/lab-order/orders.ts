/**
 * The doctor's side of a lab order: order (update-with-start, idempotent per Idempotency-Key),
 * read, cancel before collection, acknowledge (with read-back of critical values), and await the
 * CDS card (a Temporal Update that returns as soon as the card is stored).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { buildLabOrderInput, labOrderRow } from '../../db/lab-order';
import { nameUuid } from '../../domain/ids';
import { LAB_PRIORITIES, labOrderWorkflowId, type CdsAwaitAnswer } from '../../domain/lab-order';
import { awaitCdsUpdate, cancelLabOrderUpdate, labOrderWorkflow, registerLabOrderUpdate } from '../../workflows/lab-order';
import { clinicIdKey, patientIdKey, processStatusKey } from '../../workflows/search-attributes';
import { newRouter, type ApiDeps } from '../router';
import { auditAccess } from '../access';
import { requireRole } from '../auth';
import { ApiError, errorResponse } from '../errors';
import { labOrderCommands } from './commands';
import {
  AUTH_ERRORS,
  IdParam,
  IdempotencyHeader,
  LabOrderSchema,
  Uuid,
  body,
  json,
  labFailure,
  auditedOrder,
  presentOrder,
  sendUpdate,
} from './shared';

const CreateSchema = z
  .strictObject({
    patientId: Uuid,
    tests: z
      .array(z.string().regex(/^\d{1,7}-\d$/, 'a LOINC test or panel code'))
      .min(1)
      .max(30)
      .openapi({ example: ['24331-1', '2345-7'] }),
    priority: z.enum(LAB_PRIORITIES).default('routine'),
    note: z.string().max(2000).optional(),
  })
  .openapi('NewLabOrder');
const EventsSchema = z
  .object({ events: z.array(z.object({ at: z.string().datetime(), kind: z.string(), actor: z.string(), details: z.unknown() })) })
  .openapi('LabOrderEvents');
const CdsSchema = z
  .object({ status: z.enum(['ready', 'pending']), round: z.number().int(), cards: z.array(z.unknown()) })
  .openapi('LabOrderCds');

/** '10s', '500ms' or a number of seconds → ms, at most 60 s. */
function parseWait(wait: string | undefined): number {
  if (wait === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(wait.trim());
  if (!m) throw new ApiError(400, 'validation_failed', 'wait must look like 10s or 500ms.');
  const ms = m[2] === 'ms' ? Number(m[1]) : Number(m[1]) * 1000;
  if (ms > 60_000) throw new ApiError(400, 'validation_failed', 'wait is at most 60s.');
  return Math.round(ms);
}

export function labOrdersRouter(deps: ApiDeps) {
  const { db, temporal, config } = deps;
  const doctor = requireRole(config, 'doctor', 'admin');
  const readers = requireRole(config, 'doctor', 'lab', 'admin', 'ops');
  const router = newRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-orders',
      summary: "Order lab tests (LOINC tests or panels) for a patient; starts the order's process",
      security: [{ bearer: [] }],
      middleware: [doctor] as const,
      request: { headers: IdempotencyHeader, ...body(CreateSchema) },
      responses: {
        201: json(LabOrderSchema, 'The order, status ordered, with its turnaround deadline'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('patient_not_found / practitioner_not_found'),
        409: errorResponse('idempotency_key_reused'),
        422: errorResponse('unknown_test: a code is neither a catalogue test nor a panel'),
      },
    }),
    async (c) => {
      const req = c.req.valid('json');
      const caller = c.get('caller');
      const key = c.req.valid('header')['idempotency-key'];
      if (!caller.practitionerId) throw new ApiError(403, 'forbidden', 'Only a doctor with a practitioner id orders lab tests.');
      const orderId = nameUuid('lab-order', `${caller.id}:${key}`);
      const built = await buildLabOrderInput(db, {
        orderId,
        practitionerId: caller.practitionerId,
        patientId: req.patientId,
        tests: req.tests,
        priority: req.priority,
        note: req.note ?? null,
        orderedAt: new Date().toISOString(),
      });
      if (!built.ok) {
        if (built.missing === 'practitioner')
          throw new ApiError(404, 'practitioner_not_found', "The caller's practitioner does not exist.");
        if (built.missing === 'patient') throw new ApiError(404, 'patient_not_found', `Patient ${req.patientId} does not exist.`);
        throw new ApiError(422, 'unknown_test', `Not in the lab catalogue: ${(built.unknown ?? []).join(', ')}.`, {
          unknown: built.unknown,
        });
      }
      const { input } = built;
      try {
        await temporal.workflow.executeUpdateWithStart(registerLabOrderUpdate, {
          args: [],
          updateId: 'register',
          startWorkflowOperation: new WithStartWorkflowOperation(labOrderWorkflow, {
            workflowId: labOrderWorkflowId(orderId),
            taskQueue: config.CLINICAL_TASK_QUEUE,
            args: [input],
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            typedSearchAttributes: [
              { key: clinicIdKey, value: input.clinicId },
              { key: patientIdKey, value: input.patientId },
              { key: processStatusKey, value: 'ordered' },
            ],
          }),
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw labFailure(err) ?? err;
      }
      const row = await labOrderRow(db, orderId);
      if (
        !row ||
        row.patient_id !== input.patientId ||
        row.tests.join() !== input.tests.join() ||
        row.ordering_practitioner_id !== caller.practitionerId
      ) {
        throw new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different order; use a new key.');
      }
      await auditAccess(c, db, { patientId: row.patient_id, resource: { type: 'ServiceRequest', id: row.id }, action: 'write' });
      return c.json(await presentOrder(db, orderId), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/lab-orders/{id}',
      summary: 'The order with its current results, times and FHIR statuses',
      security: [{ bearer: [] }],
      middleware: [readers] as const,
      request: { params: IdParam },
      responses: { 200: json(LabOrderSchema, 'The order'), ...AUTH_ERRORS, 404: errorResponse('lab_order_not_found') },
    }),
    async (c) => {
      const caller = c.get('caller');
      const { id } = c.req.valid('param');
      if (caller.role !== 'ops') await auditedOrder(c, db, id, 'reader');
      else if (!(await labOrderRow(db, id))) throw new ApiError(404, 'lab_order_not_found', `Lab order ${id} does not exist.`);
      return c.json(await presentOrder(db, id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/lab-orders/{id}/events',
      summary: "The order's timeline: each step with its time and who",
      security: [{ bearer: [] }],
      middleware: [readers] as const,
      request: { params: IdParam },
      responses: { 200: json(EventsSchema, 'Events, oldest first'), ...AUTH_ERRORS, 404: errorResponse('lab_order_not_found') },
    }),
    async (c) => {
      const caller = c.get('caller');
      const { id } = c.req.valid('param');
      if (caller.role !== 'ops') await auditedOrder(c, db, id, 'reader');
      const rows = await db
        .selectFrom('lab_order_events')
        .select(['at', 'kind', 'actor', 'details'])
        .where('lab_order_id', '=', id)
        .orderBy('at')
        .execute();
      return c.json({ events: rows.map((r) => ({ at: r.at.toISOString(), kind: r.kind, actor: r.actor, details: r.details })) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-orders/{id}/cancel',
      summary: 'Cancel an order before its specimen is collected',
      security: [{ bearer: [] }],
      middleware: [doctor] as const,
      request: { params: IdParam, ...body(z.strictObject({ reason: z.string().min(1).max(500) })) },
      responses: {
        200: json(LabOrderSchema, 'Cancelled'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('lab_order_not_found'),
        409: errorResponse('invalid_state: the specimen is already collected'),
      },
    }),
    async (c) => {
      const row = await auditedOrder(c, db, c.req.valid('param').id, 'ordering-doctor');
      await sendUpdate(temporal, row, (h) =>
        h.executeUpdate(cancelLabOrderUpdate, { args: [{ by: c.get('caller').id, reason: c.req.valid('json').reason }] }),
      );
      return c.json(await presentOrder(db, row.id), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/lab-orders/{id}/acknowledge',
      summary: 'Acknowledge final results (ordering or covering doctor); critical values need a read-back of value and unit',
      security: [{ bearer: [] }],
      middleware: [doctor] as const,
      request: {
        params: IdParam,
        ...body(
          z.strictObject({
            readBack: z
              .array(z.strictObject({ loinc: z.string(), value: z.number(), unit: z.string().min(1) }))
              .max(30)
              .default([]),
          }),
        ),
      },
      responses: {
        200: json(LabOrderSchema, 'Acknowledged'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('lab_order_not_found'),
        409: errorResponse('invalid_state: not final'),
        422: errorResponse(
          'read_back_required: a critical value was not read back (details.loinc) / read_back_mismatch: the read-back does not match a critical value and unit',
        ),
      },
    }),
    async (c) => {
      return c.json(await labOrderCommands(deps).acknowledge(c, c.req.valid('param').id, c.req.valid('json').readBack), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/lab-orders/{id}/cds',
      summary: 'The CDS cards on the final results: returns as soon as they are stored, or pending when the wait (≤ 60s) runs out',
      security: [{ bearer: [] }],
      middleware: [doctor] as const,
      request: { params: IdParam, query: z.object({ wait: z.string().optional().openapi({ example: '10s' }) }) },
      responses: {
        200: json(CdsSchema, 'ready with cards, or pending'),
        400: errorResponse('Malformed wait'),
        ...AUTH_ERRORS,
        404: errorResponse('lab_order_not_found'),
      },
    }),
    async (c) => {
      const row = await auditedOrder(c, db, c.req.valid('param').id, 'reader');
      const waitMs = parseWait(c.req.valid('query').wait);
      let answer: CdsAwaitAnswer | undefined;
      try {
        answer = await temporal.workflow.getHandle(row.workflow_id).executeUpdate(awaitCdsUpdate, { args: [{ waitMs }] });
      } catch (err) {
        // A closed process answers from what it stored (one read, no polling).
        if (!(err instanceof WorkflowNotFoundError) && !labFailure(err)) throw err;
      }
      if (!answer) {
        const stored = await db
          .selectFrom('lab_cds_cards')
          .selectAll()
          .where('lab_order_id', '=', row.id)
          .orderBy('round', 'desc')
          .executeTakeFirst();
        answer = stored
          ? { status: 'ready', round: stored.round, cards: stored.cards as unknown[] }
          : { status: 'pending', round: row.round, cards: [] };
      }
      return c.json(answer, 200);
    },
  );

  return router;
}
