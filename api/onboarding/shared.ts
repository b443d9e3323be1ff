/** What the onboarding and rollout routers share: schemas, the failure map, response helpers. */
import { z } from '@hono/zod-openapi';
import { ONBOARDING_STAGES } from '../../domain/onboarding';
import { errorResponse, type FailureMap } from '../errors';

export const ONBOARDING_FAILURES: FailureMap = {
  NotFound: [404, 'not_found'],
  Forbidden: [403, 'forbidden'],
  InvalidState: [409, 'invalid_state'],
  InvalidInput: [422, 'validation_failed'],
  PreconditionFailed: [422, 'precondition_failed'],
  BlockingIncidentsOpen: [409, 'blocking_incidents_open'],
  OnboardingBlocked: [409, 'onboarding_blocked'],
};

export const Uuid = z.string().uuid();
export const StageSchema = z.enum(ONBOARDING_STAGES);

export const OnboardingPolicySchema = z.strictObject({
  taskDeadlineSeconds: z.strictObject({ preparation: z.number().positive(), training: z.number().positive(), pilot: z.number().positive() }).partial().optional(),
  reminderLeadSeconds: z.number().nonnegative().optional(),
  escalationStepSeconds: z.number().positive().optional(),
  certifiedShare: z.number().min(0).max(1).optional(),
  pilotPeriodSeconds: z.number().positive().optional(),
}).openapi('OnboardingPolicyOverrides');

export const ProgressSchema = z.object({
  clinicId: Uuid, stage: StageSchema, tasksDone: z.number().int(), tasksTotal: z.number().int(), stageTasksDone: z.number().int(), stageTasksTotal: z.number().int(),
  openBlockers: z.number().int(), overdueTasks: z.array(z.string()), status: z.string(),
}).openapi('OnboardingProgress');

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
export const body = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
export const AUTH_ERRORS = { 401: errorResponse('No or invalid token'), 403: errorResponse('Role not allowed, or not the task\'s owner') };
