/** Bench-only workflow (its own bundle, never in the engine's): one scoreModel call on a given queue. */
import { proxyActivities } from '@temporalio/workflow';
import type { createCdsActivities, ScoreModelInput } from '../activities/cds';

export async function benchScoreWorkflow(input: { taskQueue: string; request: ScoreModelInput }): Promise<number> {
  const { scoreModel } = proxyActivities<ReturnType<typeof createCdsActivities>>({ taskQueue: input.taskQueue, startToCloseTimeout: '10s' });
  return (await scoreModel(input.request)).score;
}
