/**
 * Rollout programs: start one (pilots first, then waves), read its dashboard, pause, resume and add
 * a clinic while it runs. The program is a workflow; its dashboard is a Query.
 */
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { createRolloutProgram } from '../../commands/rollout-program';
import { nameUuid } from '../../domain/ids';
import { rolloutPolicyWith } from '../../domain/rollout';
import { addClinicUpdate, rolloutWorkflowId } from '../../workflows/rollout';
import { requireRole } from '../auth';
import { ApiError, errorResponse, fromProcessFailure } from '../errors';
import { newRouter, type ApiDeps } from '../router';
import { AUTH_ERRORS, body, json, OnboardingPolicySchema, Uuid } from './shared';
import { programCommands } from './program-commands';

const DashboardSchema = z
  .object({
    programId: Uuid,
    name: z.string().optional(),
    phase: z.enum(['pilots', 'waves', 'done']),
    paused: z.boolean(),
    total: z.number().int(),
    perStage: z.record(z.string(), z.number().int()),
    behindSchedule: z.array(Uuid),
    pilots: z.array(Uuid),
    runs: z.number().int(),
  })
  .openapi('RolloutDashboard');
const IdParam = z.object({ id: Uuid });
/** A program answered before its process started: a call to it waits for the relay's start, then 503 (api/process-start.ts). */
const NOT_STARTED = { 503: errorResponse("unavailable: the program's process has not started yet; try again") };
const ProgramListSchema = z
  .object({
    programs: z.array(
      z.object({
        id: Uuid,
        name: z.string(),
        workflowId: z.string(),
        pilotClinicIds: z.array(Uuid),
        clinicCount: z.number().int(),
        createdBy: z.string(),
        createdAt: z.string().datetime(),
      }),
    ),
    nextOffset: z.number().int().nullable(),
  })
  .openapi('RolloutProgramList');

export function programsRouter(deps: ApiDeps) {
  const { db, config } = deps;
  const admin = requireRole(config, 'admin');
  const ops = requireRole(config, 'ops', 'admin');
  const router = newRouter();
  const programs = programCommands(deps);

  async function clinicsExist(ids: string[]) {
    if (ids.length === 0) return;
    const found = new Set((await db.selectFrom('clinics').select('id').where('id', 'in', ids).execute()).map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) throw new ApiError(404, 'clinic_not_found', `${missing.length} clinic(s) do not exist.`, { missing });
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/rollout-programs',
      summary: 'Start a city rollout program: pilots first, then the other clinics in waves (idempotent per Idempotency-Key)',
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: {
        headers: z.object({
          'idempotency-key': z
            .string()
            .regex(/^[A-Za-z0-9_.:-]{8,128}$/)
            .optional(),
        }),
        ...body(
          z.strictObject({
            name: z.string().min(1).max(200),
            pilotClinicIds: z.array(Uuid).max(50),
            clinicIds: z.array(Uuid).max(5000),
            policy: z
              .strictObject({
                maxConcurrent: z.number().int().min(1).max(500).optional(),
                continueAsNewEvents: z.number().int().min(200).max(40_000).optional(),
                onboarding: OnboardingPolicySchema.optional(),
              })
              .optional(),
          }),
        ),
      },
      responses: {
        201: json(z.object({ programId: Uuid, workflowId: z.string() }), 'The program as committed; its process starts behind the answer'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('clinic_not_found'),
      },
    }),
    async (c) => {
      const req = c.req.valid('json');
      const caller = c.get('caller');
      const key = c.req.valid('header')['idempotency-key'];
      await clinicsExist([...req.pilotClinicIds, ...req.clinicIds]);
      const programId = key ? nameUuid('rollout', `${caller.id}:${key}`) : randomUUID();
      const policy = rolloutPolicyWith(req.policy);
      const workflowId = rolloutWorkflowId(programId);
      // One transaction: the row (the list shows it at once) and its process's start; the relay starts the program.
      const committed = await createRolloutProgram(db, {
        program: {
          id: programId,
          name: req.name,
          workflow_id: workflowId,
          pilot_clinic_ids: req.pilotClinicIds,
          clinic_ids: req.clinicIds,
          policy: JSON.stringify(policy),
          created_by: caller.id,
        },
        input: { programId, pilotClinicIds: req.pilotClinicIds, clinicIds: req.clinicIds, policy },
        taskQueue: config.CLINICAL_TASK_QUEUE,
      });
      return c.json({ programId: committed.id, workflowId: committed.workflowId }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/rollout-programs',
      summary: "The rollout programs, newest first (admin and ops); each one's dashboard is GET /rollout-programs/{id}",
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: {
        query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), offset: z.coerce.number().int().min(0).default(0) }),
      },
      responses: {
        200: json(ProgramListSchema, 'A page of programs; nextOffset fetches the next'),
        400: errorResponse('Malformed query'),
        ...AUTH_ERRORS,
      },
    }),
    async (c) => {
      const { limit, offset } = c.req.valid('query');
      const rows = await db
        .selectFrom('rollout_programs')
        .select(['id', 'name', 'workflow_id', 'pilot_clinic_ids', 'clinic_ids', 'created_by', 'created_at'])
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(limit + 1)
        .offset(offset)
        .execute();
      return c.json(
        {
          programs: rows.slice(0, limit).map((r) => ({
            id: r.id,
            name: r.name,
            workflowId: r.workflow_id,
            pilotClinicIds: r.pilot_clinic_ids,
            clinicCount: r.clinic_ids.length,
            createdBy: r.created_by,
            createdAt: r.created_at.toISOString(),
          })),
          nextOffset: rows.length > limit ? offset + limit : null,
        },
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/rollout-programs/{id}',
      summary: "The program's dashboard: clinics per stage, clinics behind schedule",
      security: [{ bearer: [] }],
      middleware: [ops] as const,
      request: { params: IdParam },
      responses: {
        200: json(DashboardSchema, 'Dashboard'),
        400: errorResponse('Malformed id'),
        ...AUTH_ERRORS,
        404: errorResponse('program_not_found'),
        ...NOT_STARTED,
      },
    }),
    async (c) => {
      return c.json(await programs.dashboard(c.req.valid('param').id), 200);
    },
  );

  // Ops pause and resume from their board, as admin does.
  for (const [action, summary] of [
    ['pause', 'Pause: no new clinic starts onboarding (running ones go on)'],
    ['resume', 'Resume starting clinics'],
  ] as const) {
    router.openapi(
      createRoute({
        method: 'post',
        path: `/rollout-programs/{id}/${action}`,
        summary,
        security: [{ bearer: [] }],
        middleware: [ops] as const,
        request: { params: IdParam },
        responses: {
          202: json(z.object({ accepted: z.literal(true) }), 'Sent to the program'),
          400: errorResponse('Malformed id'),
          ...AUTH_ERRORS,
          404: errorResponse('program_not_found'),
          ...NOT_STARTED,
        },
      }),
      async (c) => c.json(await programs.setPaused(c, c.req.valid('param').id, action === 'pause'), 202),
    );
  }

  router.openapi(
    createRoute({
      method: 'post',
      path: '/rollout-programs/{id}/clinics',
      summary: 'Add a clinic to a running program (it joins the queue of waves)',
      security: [{ bearer: [] }],
      middleware: [admin] as const,
      request: { params: IdParam, ...body(z.strictObject({ clinicId: Uuid })) },
      responses: {
        200: json(DashboardSchema, 'Dashboard after the change'),
        400: errorResponse('Malformed request'),
        ...AUTH_ERRORS,
        404: errorResponse('program_not_found / clinic_not_found'),
        409: errorResponse('invalid_state: the program has finished'),
        ...NOT_STARTED,
      },
    }),
    async (c) => {
      const { row, handle } = await programs.program(c.req.valid('param').id);
      const { clinicId } = c.req.valid('json');
      await clinicsExist([clinicId]);
      const dashboard = await handle
        .executeUpdate(addClinicUpdate, { args: [{ clinicId, by: c.get('caller').id }] })
        .catch((err) => fromProcessFailure(err));
      return c.json({ ...dashboard, name: row.name }, 200);
    },
  );

  return router;
}
