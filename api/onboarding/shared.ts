/** What the onboarding and rollout routers share: schemas, response helpers. */
import { z } from '@hono/zod-openapi';
import { ONBOARDING_STAGES } from '../../domain/onboarding';
import { errorResponse } from '../errors';

export const Uuid = z.string().uuid();
export const StageSchema = z.enum(ONBOARDING_STAGES);

/** The longest duration a policy may name: a year (a timer beyond what Temporal takes would fail the workflow task). */
const MAX_POLICY_SECONDS = 366 * 24 * 3600;
const Seconds = z.number().positive().max(MAX_POLICY_SECONDS);

export const OnboardingPolicySchema = z
  .strictObject({
    taskDeadlineSeconds: z.strictObject({ preparation: Seconds, training: Seconds, pilot: Seconds }).partial().optional(),
    reminderLeadSeconds: z.number().nonnegative().max(MAX_POLICY_SECONDS).optional(),
    escalationStepSeconds: Seconds.optional(),
    certifiedShare: z.number().min(0).max(1).optional(),
    pilotPeriodSeconds: Seconds.optional(),
  })
  .openapi('OnboardingPolicyOverrides');

export const ProgressSchema = z
  .object({
    clinicId: Uuid,
    stage: StageSchema,
    tasksDone: z.number().int(),
    tasksTotal: z.number().int(),
    stageTasksDone: z.number().int(),
    stageTasksTotal: z.number().int(),
    openBlockers: z.number().int(),
    overdueTasks: z.array(z.string()),
    status: z.string(),
  })
  .openapi('OnboardingProgress');

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
export const body = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
export const AUTH_ERRORS = { 401: errorResponse('No or invalid token'), 403: errorResponse("Role not allowed, or not the task's owner") };
