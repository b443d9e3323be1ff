/**
 * A clinic's onboarding: start it, read its progress and timeline, complete tasks, report and
 * resolve blockers and pilot incidents, record equipment steps and staff training, decide go / no-go.
 * Each write is an Update to the clinic's onboarding process, which validates it first.
 */
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { clinicInventory, clinicsByStage, onboardingTimeline } from '../../db/onboarding';
import { EQUIPMENT_STEPS, fhirTask, type Progress } from '../../domain/onboarding';
import { onboardingPolicyWith } from '../../domain/rollout';
import {
  completeTaskUpdate,
  decisionUpdate,
  equipmentStepUpdate,
  onboardingProgressQuery,
  onboardingStateQuery,
  onboardingWorkflow,
  onboardingWorkflowId,
  recordTrainingUpdate,
  reportBlockerUpdate,
  reportIncidentUpdate,
  resolveBlockerUpdate,
  resolveIncidentUpdate,
} from '../../workflows/onboarding';
import { clinicIdKey, onboardingStageKey, processStatusKey } from '../../workflows/search-attributes';
import type { Db } from '../../db';
import { requireRole, type Caller } from '../auth';
import { callerClinics } from '../access';
import { ApiError, errorResponse, fromProcessFailure } from '../errors';
import { newRouter, type ApiDeps } from '../router';
import { AUTH_ERRORS, body, json, OnboardingPolicySchema, ProgressSchema, StageSchema, Uuid } from './shared';

const ClinicParam = z.object({ clinicId: Uuid });
const WRITE_RESPONSES = {
  200: json(ProgressSchema, 'The onboarding after the change'),
  400: errorResponse('Malformed request'),
  ...AUTH_ERRORS,
  404: errorResponse('not_found: no such clinic, onboarding, task, blocker, incident, item or staff member'),
  409: errorResponse('invalid_state / blocking_incidents_open / onboarding_blocked'),
  422: errorResponse('precondition_failed (e.g. items not installed, counts do not reconcile) / validation_failed'),
};

export function clinicOnboardingRouter(deps: ApiDeps) {
  const { db, temporal, config } = deps;
  const ops = requireRole(config, 'ops', 'admin');
  const admin = requireRole(config, 'admin');
  const reporters = requireRole(config, 'ops', 'admin', 'registrar', 'doctor');
  const router = newRouter();

  /** Sends an Update to the clinic's onboarding; refusals become their HTTP errors. */
  async function send(clinicId: string, fn: (h: ReturnType<typeof temporal.workflow.getHandle>) => Promise<Progress>): Promise<Progress> {
    try {
      return await fn(temporal.workflow.getHandle(onboardingWorkflowId(clinicId)));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'not_found', `Clinic ${clinicId} has no onboarding process.`);
      return fromProcessFailure(err);
    }
  }

  router.openapi(
    createRoute({
      method: 'get',
      path: '/clinics',
      summary: 'Clinics with their rollout stage',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { query: z.object({ stage: StageSchema.optional() }) },
      responses: {
        200: json(
          z.object({
            clinics: z.array(z.object({ id: Uuid, code: z.string(), name: z.string(), pilot: z.boolean(), stage: StageSchema })),
          }),
          'Clinics by code',
        ),
        400: errorResponse('Unknown stage'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const rows = await clinicsByStage(db, c.req.valid('query').stage);
      return c.json(
        { clinics: rows.map((r) => ({ id: r.id, code: r.code, name: r.name, pilot: r.is_pilot, stage: r.rollout_stage })) },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/{clinicId}/start',
      summary: "Start one clinic's onboarding outside a program (idempotent)",
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: { params: ClinicParam, ...body(z.strictObject({ policy: OnboardingPolicySchema.optional() })) },
      responses: {
        202: json(z.object({ workflowId: z.string() }), 'Onboarding runs'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('clinic_not_found'),
      },
    }),
    async (c) => {
      const { clinicId } = c.req.valid('param');
      if (!(await db.selectFrom('clinics').select('id').where('id', '=', clinicId).executeTakeFirst()))
        throw new ApiError(404, 'clinic_not_found', `Clinic ${clinicId} does not exist.`);
      const workflowId = onboardingWorkflowId(clinicId);
      await temporal.workflow.start(onboardingWorkflow, {
        workflowId,
        taskQueue: config.CLINICAL_TASK_QUEUE,
        args: [{ clinicId, policy: onboardingPolicyWith(c.req.valid('json').policy) }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: clinicIdKey, value: clinicId },
          { key: onboardingStageKey, value: 'preparation' },
          { key: processStatusKey, value: 'on-track' },
        ],
      });
      return c.json({ workflowId }, 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/onboarding/{clinicId}',
      summary: "Where a clinic's onboarding is: progress (a Query), tasks as FHIR Task statuses, and its timeline",
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { params: ClinicParam },
      responses: {
        200: json(
          z.object({
            progress: ProgressSchema,
            tasks: z.array(
              z.object({
                key: z.string(),
                stage: StageSchema,
                title: z.string(),
                owner: z.string(),
                status: z.string(),
                deadlineAt: z.string().nullable(),
                escalations: z.number().int(),
                fhir: z.object({ status: z.string(), businessStatus: z.object({ text: z.string() }) }),
              }),
            ),
            blockers: z.array(z.object({ id: Uuid, stage: StageSchema, description: z.string() })),
            equipment: z.object({ total: z.number().int(), installed: z.number().int() }),
            staff: z.object({ total: z.number().int(), certified: z.number().int() }),
            pilotRound: z.number().int(),
            pilotMetrics: z.record(z.string(), z.number()).nullable(),
            awaitingDecision: z.boolean(),
            equipmentItems: z.array(z.object({ id: Uuid, itemCode: z.string(), kind: z.string(), step: z.string() })),
            staffMembers: z.array(
              z.object({ id: Uuid, staffCode: z.string(), role: z.string(), trained: z.boolean(), certified: z.boolean() }),
            ),
            timeline: z.array(z.object({ kind: z.string(), stage: z.string(), details: z.unknown(), at: z.string() })),
          }),
          'Progress and timeline',
        ),
        400: errorResponse('Malformed id'),
        ...AUTH_ERRORS,
        404: errorResponse('not_found: no onboarding for this clinic'),
        503: errorResponse('unavailable: the process did not answer its query'),
      },
    }),
    async (c) => {
      const { clinicId } = c.req.valid('param');
      const handle = temporal.workflow.getHandle(onboardingWorkflowId(clinicId));
      const [progress, state] = await Promise.all([handle.query(onboardingProgressQuery), handle.query(onboardingStateQuery)]).catch(
        (err) => {
          if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'not_found', `Clinic ${clinicId} has no onboarding process.`);
          // The process exists but did not answer (its worker is away, or its last task failed).
          throw new ApiError(503, 'unavailable', 'The onboarding process did not answer; try again later.');
        },
      );
      const blocked = state.blockers.length > 0;
      return c.json(
        {
          progress,
          tasks: state.tasks.map((t) => ({
            key: t.key,
            stage: t.stage,
            title: t.title,
            owner: t.owner,
            status: t.status,
            deadlineAt: t.deadlineAt,
            escalations: t.escalations,
            fhir: fhirTask(t, { stage: state.stage, blocked }),
          })),
          blockers: state.blockers,
          equipment: state.equipment,
          staff: state.staff,
          pilotRound: state.pilotRound,
          pilotMetrics: state.pilotMetrics ? { ...state.pilotMetrics } : null,
          awaitingDecision: state.awaitingDecision,
          ...(await clinicInventory(db, clinicId)),
          timeline: await onboardingTimeline(db, clinicId),
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/{clinicId}/tasks/{taskId}/complete',
      summary: "Complete a task of the current stage (its owner's role, or admin); checked against the data it claims",
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: {
        params: z.strictObject({ clinicId: Uuid, taskId: z.string().regex(/^[a-z-]{3,40}$/) }),
        ...body(
          z.strictObject({
            expectedPatients: z
              .number()
              .int()
              .nonnegative()
              .optional()
              .openapi({ description: "registry-migration: the source registry's patient count, to reconcile" }),
          }),
        ),
      },
      responses: WRITE_RESPONSES,
    }),
    async (c) => {
      const { clinicId, taskId } = c.req.valid('param');
      const caller = c.get('caller');
      const progress = await send(clinicId, (h) =>
        h.executeUpdate(completeTaskUpdate, {
          args: [{ taskKey: taskId, by: caller.id, role: caller.role, expectedPatients: c.req.valid('json').expectedPatients }],
        }),
      );
      return c.json(progress, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/{clinicId}/blockers',
      summary: 'Report a blocker: the stage pauses (its deadlines stop) until it is resolved',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { params: ClinicParam, ...body(z.strictObject({ description: z.string().min(1).max(500) })) },
      responses: { ...WRITE_RESPONSES, 201: json(ProgressSchema.extend({ blockerId: Uuid }), 'Blocker open') },
    }),
    async (c) => {
      const { clinicId } = c.req.valid('param');
      const blockerId = randomUUID();
      const progress = await send(clinicId, (h) =>
        h.executeUpdate(reportBlockerUpdate, {
          args: [{ blockerId, description: c.req.valid('json').description, by: c.get('caller').id }],
        }),
      );
      return c.json({ ...progress, blockerId }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/{clinicId}/blockers/{id}/resolve',
      summary: 'Resolve a blocker; the stage resumes when none is left',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { params: z.object({ clinicId: Uuid, id: Uuid }) },
      responses: WRITE_RESPONSES,
    }),
    async (c) => {
      const { clinicId, id } = c.req.valid('param');
      return c.json(await send(clinicId, (h) => h.executeUpdate(resolveBlockerUpdate, { args: [{ id, by: c.get('caller').id }] })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/{clinicId}/training',
      summary: 'Record a staff member trained (certified: passed the assessment)',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { params: ClinicParam, ...body(z.strictObject({ staffId: Uuid, certified: z.boolean() })) },
      responses: WRITE_RESPONSES,
    }),
    async (c) => {
      const { clinicId } = c.req.valid('param');
      const { staffId, certified } = c.req.valid('json');
      return c.json(
        await send(clinicId, (h) => h.executeUpdate(recordTrainingUpdate, { args: [{ staffId, certified, by: c.get('caller').id }] })),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/{clinicId}/equipment/{itemId}',
      summary: "An equipment item's next step: ordered → delivered → installed",
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { params: z.strictObject({ clinicId: Uuid, itemId: Uuid }), ...body(z.strictObject({ step: z.enum(EQUIPMENT_STEPS) })) },
      responses: WRITE_RESPONSES,
    }),
    async (c) => {
      const { clinicId, itemId } = c.req.valid('param');
      return c.json(
        await send(clinicId, (h) =>
          h.executeUpdate(equipmentStepUpdate, { args: [{ itemId, step: c.req.valid('json').step, by: c.get('caller').id }] }),
        ),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/{clinicId}/incidents',
      summary: 'Report a pilot incident (blocking ones stop go-live until resolved)',
      security: [{ bearer: [] }],
      middleware: [reporters] as const,
      request: { params: ClinicParam, ...body(z.strictObject({ blocking: z.boolean(), description: z.string().min(1).max(500) })) },
      responses: { ...WRITE_RESPONSES, 201: json(ProgressSchema.extend({ incidentId: Uuid }), 'Incident open') },
    }),
    async (c) => {
      const { clinicId } = c.req.valid('param');
      await assertReportsFor(db, c.get('caller'), clinicId);
      const incidentId = randomUUID();
      const { blocking, description } = c.req.valid('json');
      const progress = await send(clinicId, (h) =>
        h.executeUpdate(reportIncidentUpdate, { args: [{ incidentId, blocking, description, by: c.get('caller').id }] }),
      );
      return c.json({ ...progress, incidentId }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/{clinicId}/incidents/{id}/resolve',
      summary: 'Resolve a pilot incident',
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { params: z.object({ clinicId: Uuid, id: Uuid }) },
      responses: WRITE_RESPONSES,
    }),
    async (c) => {
      const { clinicId, id } = c.req.valid('param');
      return c.json(await send(clinicId, (h) => h.executeUpdate(resolveIncidentUpdate, { args: [{ id, by: c.get('caller').id }] })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/{clinicId}/decision',
      summary:
        "The program office's go / no-go after the pilot (go is refused while blocking incidents are open; no-go runs another pilot period)",
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: { params: ClinicParam, ...body(z.strictObject({ decision: z.enum(['go', 'no-go']), reason: z.string().min(1).max(500) })) },
      responses: WRITE_RESPONSES,
    }),
    async (c) => {
      const { clinicId } = c.req.valid('param');
      const { decision, reason } = c.req.valid('json');
      return c.json(
        await send(clinicId, (h) => h.executeUpdate(decisionUpdate, { args: [{ decision, reason, by: c.get('caller').id }] })),
        200,
      );
    },
  );

  return router;
}

/** Clinic staff report incidents of their own clinic only (a blocking one stops its go-live): the token's clinics or the doctor's. */
async function assertReportsFor(db: Db, caller: Caller, clinicId: string): Promise<void> {
  if (caller.role === 'ops' || caller.role === 'admin') return;
  if (callerClinics(caller).includes(clinicId)) return;
  if (caller.role === 'doctor' && caller.practitionerId) {
    const p = await db.selectFrom('practitioners').select('clinic_id').where('id', '=', caller.practitionerId).executeTakeFirst();
    if (p?.clinic_id === clinicId) return;
  }
  throw new ApiError(403, 'wrong_clinic', 'Clinic staff report incidents of their own clinic only.');
}
