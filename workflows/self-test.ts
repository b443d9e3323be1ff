/**
 * End-to-end self-test that ops start from the API: the clinical worker runs this workflow,
 * asks the cds worker which models it serves, and records the check in Postgres.
 * It proves every hop (API → Temporal → both workers → Postgres) in one call.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createSelfTestActivities } from '../activities/self-test';
import type { createCdsActivities } from '../activities/cds';
import { CDS_TASK_QUEUE } from '../domain/task-queues';

type SelfTestActivities = ReturnType<typeof createSelfTestActivities>;
type CdsActivities = ReturnType<typeof createCdsActivities>;

const { recordSelfTest } = proxyActivities<SelfTestActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 5 },
});
const { listModels } = proxyActivities<CdsActivities>({
  taskQueue: CDS_TASK_QUEUE,
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 5 },
});

export interface SelfTestInput {
  /** Who asked (user id from the token), for the audit log. */
  requestedBy: string;
}

export interface SelfTestResult {
  auditId: string;
  models: Array<{ id: string; version: string }>;
}

/** Runs the self-test; started by `POST /ops/self-test`. */
export async function selfTestWorkflow(input: SelfTestInput): Promise<SelfTestResult> {
  const models = await listModels();
  const { auditId } = await recordSelfTest({
    workflowId: workflowInfo().workflowId,
    requestedBy: input.requestedBy,
    modelIds: models.map((m) => `${m.id}@${m.version}`),
  });
  return { auditId, models: models.map(({ id, version }) => ({ id, version })) };
}
