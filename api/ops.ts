/** Operations routes: the end-to-end self-test. */
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowFailedError } from '@temporalio/client';
import { selfTestWorkflow } from '../workflows/self-test';
import { newRouter, type ApiDeps } from './router';
import { requireRole } from './auth';
import { ApiError, errorResponse } from './errors';

const SelfTestSchema = z
  .object({
    workflowId: z.string(),
    auditId: z.string(),
    models: z.array(z.object({ id: z.string(), version: z.string() })),
  })
  .openapi('SelfTest');

export function opsRouter(deps: ApiDeps) {
  const selfTestRoute = createRoute({
    method: 'post',
    path: '/self-test',
    summary: 'Runs a workflow through both workers that writes to Postgres, and returns what it saw',
    security: [{ bearer: [] }],
    middleware: [requireRole(deps.config, 'ops', 'admin')] as const,
    responses: {
      200: { description: 'Every hop answered', content: { 'application/json': { schema: SelfTestSchema } } },
      401: errorResponse('No or invalid token'),
      403: errorResponse('Role not allowed'),
      504: errorResponse('The workers did not finish in time'),
    },
  });

  return newRouter().openapi(selfTestRoute, async (c) => {
    const workflowId = `self-test-${randomUUID()}`;
    try {
      const result = await deps.temporal.workflow.execute(selfTestWorkflow, {
        workflowId,
        taskQueue: deps.config.CLINICAL_TASK_QUEUE,
        args: [{ requestedBy: c.get('caller').id }],
        workflowExecutionTimeout: '20s',
      });
      return c.json({ workflowId, ...result }, 200);
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw new ApiError(504, 'timeout', 'The self-test did not complete in time.', { workflowId });
      throw err;
    }
  });
}
